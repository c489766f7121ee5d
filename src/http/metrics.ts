import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { DirectoryObserver, LookupOutcome, MigrationResult } from '../directory/observer.js';
import { VIOLATION_CODES } from '../directory/violations.js';

const LOOKUP_OUTCOMES: readonly LookupOutcome[] = [
  'hit',
  'migrated',
  'not_found',
  'verification_failed',
  'lock_timeout',
  'lock_unavailable',
  'error',
];
const MIGRATION_RESULTS: readonly MigrationResult[] = ['migrated', 'already_migrated', 'conflict', 'failed'];

/** Sub-millisecond buckets: a Redis or advisory-lock hand-off is ~1 ms, a contended one up to the 5 s wait. */
const LOCK_WAIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Every metric of one server, in its own registry so that two servers in one
 * process (tests, embedding) never share or double-register series.
 */
export interface ServerMetrics {
  readonly registry: Registry;
  /** Pass to `open(config, { observer })` so lookups, migrations and lock waits are counted. */
  readonly observer: DirectoryObserver;
  readonly httpInFlight: Gauge;
  readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
}

export interface MetricsOptions {
  /** Process metrics (CPU, memory, event loop lag, GC); on by default. */
  readonly processMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions = {}): ServerMetrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const lookups = new Counter({
    name: 'orgshift_user_lookups_total',
    help: 'getUser calls by outcome (hit = served without migrating)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const migrations = new Counter({
    name: 'orgshift_migrations_total',
    help: 'just-in-time migration attempts by result',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const migrationSeconds = new Histogram({
    name: 'orgshift_migration_duration_seconds',
    help: 'time spent in the migration transaction',
    labelNames: ['result'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const lockWait = new Histogram({
    name: 'orgshift_lock_wait_seconds',
    help: 'time from asking for a user lock to holding it (or giving up)',
    buckets: LOCK_WAIT_BUCKETS,
    registers: [registry],
  });
  const verificationFailures = new Counter({
    name: 'orgshift_verification_failures_total',
    help: 'invariant violations found when serving a user, by violation code',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  // Zero-valued series from the start, so rate() and alerts work before the first event.
  for (const outcome of LOOKUP_OUTCOMES) lookups.inc({ outcome }, 0);
  for (const result of MIGRATION_RESULTS) migrations.inc({ result }, 0);
  for (const code of VIOLATION_CODES) verificationFailures.inc({ code }, 0);

  const observer: DirectoryObserver = Object.freeze({
    lookup: (outcome: LookupOutcome) => lookups.inc({ outcome }),
    migration: (result: MigrationResult, seconds: number) => {
      migrations.inc({ result });
      migrationSeconds.observe({ result }, seconds);
    },
    lockWait: (seconds: number) => lockWait.observe(seconds),
    verificationFailure: (_id: string, codes: readonly string[]) => {
      for (const code of codes) verificationFailures.inc({ code });
    },
  });

  return Object.freeze({
    registry,
    observer,
    httpInFlight: new Gauge({
      name: 'orgshift_http_requests_in_flight',
      help: 'HTTP requests received and not yet answered',
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'orgshift_http_request_duration_seconds',
      help: 'HTTP request duration by route pattern and status',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: DURATION_BUCKETS,
      registers: [registry],
    }),
  });
}
