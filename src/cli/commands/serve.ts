import type { Command } from 'commander';
import { sql } from 'kysely';
import type { OrgshiftConfig } from '../../config/config.js';
import { ident } from '../../db/database.js';
import { ConfigError } from '../../errors.js';
import { createServer } from '../../http/create-server.js';
import { createLogger } from '../../http/logger.js';
import { assertListenAllowed } from '../../http/loopback.js';
import { createMetrics } from '../../http/metrics.js';
import { type ServeSettings, serveSettingsFromEnv } from '../../http/serve-settings.js';
import { DEFAULT_SHUTDOWN_GRACE_MS, shutdown } from '../../http/shutdown.js';
import { type Orgshift, open } from '../../orgshift.js';
import { fanOut, type OutboxObserver } from '../../outbox/outbox-observer.js';
import { EXIT_USAGE, note, printLine, reportError } from '../output.js';
import { configOrExit } from '../run-command.js';

interface ServeOptions {
  readonly demo?: boolean;
}

const DEMO_USERS = 1_000;
const DEMO_DEPENDENTS = 3;
/** Errors of `listen` that mean "pick another host or port", i.e. configuration. */
const LISTEN_CONFIG_ERRORS = new Set(['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL', 'ENOTFOUND']);

const HELP = `
Listens on ORGSHIFT_HOST:ORGSHIFT_PORT (default 127.0.0.1:3000) after migrating
the schema (idempotent). Routes: /v1/users/:id[/verification] (bearer
ORGSHIFT_API_TOKEN), /v1/admin/{status,audit,users/:id/rollback} (bearer
ORGSHIFT_ADMIN_TOKEN; the API token is refused there), /healthz, /readyz,
/metrics, /openapi.json (open).

Without ORGSHIFT_API_TOKEN the server refuses to listen beyond loopback
(exit 2). A scope whose token is unset answers loopback clients only, so
without ORGSHIFT_ADMIN_TOKEN the admin routes work from this machine only.

SIGTERM or SIGINT: stop accepting, let in-flight requests finish for up to
ORGSHIFT_SHUTDOWN_GRACE_MS (default ${DEFAULT_SHUTDOWN_GRACE_MS}), cut what is left, close the pools
and lock backend, exit 0. A second signal exits at once. Logs are JSON lines
on stdout at ORGSHIFT_LOG_LEVEL (default info), tokens redacted.`;

export function register(program: Command): void {
  program
    .command('serve')
    .description('the HTTP service')
    .option('--demo', `SQLite demo: migrate, seed ${DEMO_USERS} legacy users if there are none, print a curl to try`)
    .addHelpText('after', HELP)
    .action((options: ServeOptions) => serve(options));
}

/** Everything that can be refused before touching the database: exit 2 with the key to fix. */
function checkStartup(config: OrgshiftConfig, options: ServeOptions): ServeSettings {
  if (options.demo && config.database.kind !== 'sqlite') {
    throw new ConfigError('ORGSHIFT_DATABASE_URL', '--demo seeds demo users and only runs on SQLite');
  }
  assertListenAllowed(config.http.host, config.http.apiToken);
  return serveSettingsFromEnv();
}

async function serve(options: ServeOptions): Promise<void> {
  const config = configOrExit({});
  if (config === undefined) return;
  let settings: ServeSettings;
  try {
    settings = checkStartup(config, options);
  } catch (error) {
    process.exitCode = reportError(error);
    return;
  }
  // Installed before the slow part of startup, so a signal during it still shuts down cleanly.
  const stopped = untilSignal();
  const logger = createLogger({ level: settings.logLevel });
  const metrics = createMetrics();
  let orgshift: Orgshift | undefined;
  try {
    orgshift = await open(config, {
      migrate: true,
      observer: metrics.observer,
      outboxObserver: fanOut(metrics.outboxObserver, outboxLog(logger)),
      onDatabaseError: (error) => logger.warn({ err: error }, 'database pool error'),
    });
    const demoUser = options.demo ? await seedDemo(orgshift) : undefined;
    const app = await createServer(orgshift, { metrics, logger });
    const address = await listen(app, config);
    if (address === undefined) {
      await orgshift.close();
      exitSoon(EXIT_USAGE);
      return;
    }
    if (config.outbox.dispatch) orgshift.outbox.start();
    printLine(`orgshift: listening on ${address}`);
    if (demoUser !== undefined) printLine(`try: ${curlFor(address, demoUser, config.http.apiToken)}`);
    const signal = await stopped;
    logger.info({ signal, graceMs: settings.shutdownGraceMs }, 'shutting down');
    const report = await shutdown(app, orgshift, settings.shutdownGraceMs);
    logger.info(report, report.forced ? 'stopped; busy connections were cut at the deadline' : 'stopped');
    exitSoon(0);
  } catch (error) {
    process.exitCode = reportError(error);
    await orgshift?.close().catch(() => undefined);
    exitSoon(Number(process.exitCode));
  }
}

async function listen(app: Awaited<ReturnType<typeof createServer>>, config: OrgshiftConfig) {
  try {
    return await app.listen({ host: config.http.host, port: config.http.port });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'string' || !LISTEN_CONFIG_ERRORS.has(code)) throw error;
    note(`orgshift: cannot listen on ${config.http.host}:${config.http.port}: ${code}`);
    process.exitCode = EXIT_USAGE;
    await app.close();
    return undefined;
  }
}

/** Dead events are worth a warning; retries are routine. Errors name destinations by position and origin only. */
function outboxLog(logger: ReturnType<typeof createLogger>): OutboxObserver {
  return {
    retried: (eventId, error) => logger.debug({ eventId, error }, 'outbox delivery failed; will retry'),
    dead: (eventId, error) => logger.warn({ eventId, error }, 'outbox event dead: retries exhausted'),
    databaseError: (error) => logger.warn({ err: error }, 'outbox: database unreachable; will retry'),
  };
}

/** Resolves with the first SIGTERM or SIGINT; a second one means "now", as an impatient operator expects. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (received) {
        note(`orgshift: second ${signal}, exiting without waiting`);
        process.exit(1);
      }
      received = true;
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/**
 * Sets the exit code and lets the event loop drain; a handle some library
 * forgot to unref must not keep a stopped server alive, hence the fallback.
 */
function exitSoon(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 1_000).unref();
}

/** Seeds the demo data once and returns a legacy user to try (unmigrated if any is left). */
async function seedDemo(orgshift: Orgshift): Promise<string> {
  if ((await orgshift.status()).legacyTotal === 0) {
    note(`orgshift: seeding ${DEMO_USERS} demo legacy users`);
    await orgshift.seed({ users: DEMO_USERS, dependents: DEMO_DEPENDENTS });
  }
  const legacy = orgshift.db.legacy;
  const table = sql.raw(ident(legacy.usersTable));
  const id = sql.raw(ident(legacy.columns.id));
  const migratedAt = sql.raw(ident(legacy.columns.migratedAt));
  const rows = await sql<{ id: string }>`
    select ${id} as id from ${table} order by ${migratedAt} is not null, ${id} limit 1`.execute(orgshift.db.kysely);
  const first = rows.rows[0]?.id;
  if (first === undefined) throw new ConfigError('--demo', 'the legacy table is empty after seeding');
  return first;
}

function curlFor(address: string, userId: string, apiToken: string | undefined): string {
  const auth = apiToken === undefined ? '' : ' -H "Authorization: Bearer $ORGSHIFT_API_TOKEN"';
  return `curl${auth} ${address}/v1/users/${userId}`;
}
