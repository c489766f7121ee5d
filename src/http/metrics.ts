import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { DirectoryObserver, LookupOutcome, MigrationResult } from '../directory/observer.js';
import { VIOLATION_CODES } from '../directory/violations.js';
import type { OutboxObserver } from '../outbox/outbox-observer.js';
import type { OutboxCounts } from '../outbox/outbox-store.js';

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
/** From a commit to its event's delivery: milliseconds when all is well, up to the 24 h retry window when not. */
const OUTBOX_LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400];
/** A scrape reads both outbox gauges from one query pair. */
const OUTBOX_COUNTS_CACHE_MS = 1_000;

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
  /** Pass to `open(config, { outboxObserver })` so deliveries, retries and dead events are counted. */
  readonly outboxObserver: OutboxObserver;
  /** Where the pending and dead gauges read their values at scrape time (createServer sets it). */
  watchOutbox(counts: () => Promise<OutboxCounts>): void;
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

  const outbox = outboxMetrics(registry);

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
    outboxObserver: outbox.observer,
    watchOutbox: outbox.watch,
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

/**
 * Delivered, retried and dead as counters of this process's dispatcher, the
 * delivery latency, and the outbox's pending and dead events as gauges read
 * from the database at scrape time (so every server reports the same, whoever
 * delivered).
 */
function outboxMetrics(registry: Registry) {
  const delivered = new Counter({
    name: 'orgshift_outbox_delivered_total',
    help: 'events this process delivered to every destination',
    registers: [registry],
  });
  const retries = new Counter({
    name: 'orgshift_outbox_retries_total',
    help: 'failed delivery attempts that will be retried',
    registers: [registry],
  });
  const died = new Counter({
    name: 'orgshift_outbox_dead_total',
    help: 'events that failed past the maximum age in this process',
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'orgshift_outbox_delivery_latency_seconds',
    help: "from an event's occurredAt to its delivery to every destination",
    buckets: OUTBOX_LATENCY_BUCKETS,
    registers: [registry],
  });
  let source: (() => Promise<OutboxCounts>) | undefined;
  let cached: { readonly at: number; readonly counts: Promise<OutboxCounts | undefined> } | undefined;
  const counts = (): Promise<OutboxCounts | undefined> => {
    if (source === undefined) return Promise.resolve(undefined);
    if (cached === undefined || performance.now() - cached.at > OUTBOX_COUNTS_CACHE_MS) {
      // A database that is down leaves the gauges at their last value rather than failing the scrape.
      cached = { at: performance.now(), counts: source().catch(() => undefined) };
    }
    return cached.counts;
  };
  new Gauge({
    name: 'orgshift_outbox_pending_events',
    help: 'events not yet delivered and not dead (all processes)',
    registers: [registry],
    async collect() {
      const current = await counts();
      if (current !== undefined) this.set(current.pending);
    },
  });
  new Gauge({
    name: 'orgshift_outbox_dead_events',
    help: 'dead events waiting for "orgshift outbox retry --dead" (all processes)',
    registers: [registry],
    async collect() {
      const current = await counts();
      if (current !== undefined) this.set(current.dead);
    },
  });
  const observer: OutboxObserver = Object.freeze({
    delivered: (seconds: number) => {
      delivered.inc();
      latency.observe(seconds);
    },
    retried: () => retries.inc(),
    dead: () => died.inc(),
  });
  return {
    observer,
    watch: (counts: () => Promise<OutboxCounts>) => {
      source = counts;
    },
  };
}
