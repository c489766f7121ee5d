import type { Command } from 'commander';
import type { OrgshiftConfig } from '../../config/config.js';
import { ConfigError } from '../../errors.js';
import { createServer } from '../../http/create-server.js';
import { createLogger } from '../../http/logger.js';
import { assertListenAllowed } from '../../http/loopback.js';
import { createMetrics } from '../../http/metrics.js';
import { type ServeSettings, serveSettingsFromEnv } from '../../http/serve-settings.js';
import { DEFAULT_SHUTDOWN_GRACE_MS, shutdown } from '../../http/shutdown.js';
import { sampleKeys } from '../../ops/sample-keys.js';
import { internalsOf, type Orgshift, open } from '../../orgshift.js';
import { fanOut, type OutboxObserver } from '../../outbox/outbox-observer.js';
import { EXIT_USAGE, note, printLine, reportError } from '../output.js';
import { configOrExit } from '../run-command.js';
import { warnAboutIndexes } from '../schema-warnings.js';
import { onStopSignals } from '../stop-signals.js';

interface ServeOptions {
  readonly demo?: boolean;
}

const DEMO_USERS = 1_000;
const DEMO_DEPENDENTS = 3;
/** Ids printed after the curl, so a first-time user has more than one to try. */
const DEMO_SAMPLE = 5;
/** Errors of `listen` that mean "pick another host or port", i.e. configuration. */
const LISTEN_CONFIG_ERRORS = new Set(['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL', 'ENOTFOUND']);

const HELP = `
Listens on ORGSHIFT_HOST:ORGSHIFT_PORT (default 127.0.0.1:3000) after migrating
the schema (idempotent). Routes: /v1/users/:id[/verification] (bearer
ORGSHIFT_API_TOKEN), /v1/admin/{status,audit,dashboard,users/:id/rollback}
(bearer ORGSHIFT_ADMIN_TOKEN; the API token is refused there), /dashboard (the
live migration page; it asks for the admin token), /healthz, /readyz,
/metrics, /openapi.json (open).

Without ORGSHIFT_API_TOKEN the server refuses to listen beyond loopback
(exit 2) and both scopes answer local clients only; a request carrying
Forwarded or X-Forwarded-For (a proxy) is never local. With
ORGSHIFT_API_TOKEN set, the admin routes need ORGSHIFT_ADMIN_TOKEN and answer
403 admin_disabled without it.

At start the schema map is checked against the database: a table, column or
unique index the map needs and the database lacks stops the server
(schema_invalid, exit 2); a missing index is printed once as a warning on
stderr, with the statement that adds it, and the server starts.

SIGTERM or SIGINT: stop accepting, let in-flight requests finish for up to
ORGSHIFT_SHUTDOWN_GRACE_MS (default ${DEFAULT_SHUTDOWN_GRACE_MS}), cut what is left, close the pools
and lock backend, exit 0. A second signal (a second or more later) exits at
once. Logs are JSON lines on stdout at ORGSHIFT_LOG_LEVEL (default info): one
per request, allow-listed headers only, query values redacted.

Slow clients: ORGSHIFT_HTTP_HEADERS_TIMEOUT_MS, ORGSHIFT_HTTP_REQUEST_TIMEOUT_MS,
ORGSHIFT_HTTP_KEEP_ALIVE_TIMEOUT_MS, ORGSHIFT_HTTP_CONNECTION_TIMEOUT_MS and
ORGSHIFT_HTTP_MAX_CONNECTIONS (see the README's configuration table).`;

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
    await warnAboutIndexes(orgshift, 'serve');
    const demoUsers = options.demo ? await seedDemo(orgshift) : undefined;
    const app = await createServer(orgshift, { metrics, logger, limits: settings.limits });
    const address = await listen(app, config);
    if (address === undefined) {
      await orgshift.close();
      exitSoon(EXIT_USAGE);
      return;
    }
    if (config.outbox.dispatch) internalsOf(orgshift).outbox.start();
    printLine(`orgshift: listening on ${address}`);
    if (demoUsers !== undefined) printDemoHints(address, demoUsers, config.http.apiToken);
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

/** Dead events are worth a warning; retries are routine. Errors name destinations by position and origin only. */
function outboxLog(logger: ReturnType<typeof createLogger>): OutboxObserver {
  return {
    retried: (eventId, error) => logger.debug({ eventId, error }, 'outbox delivery failed; will retry'),
    dead: (eventId, error) => logger.warn({ eventId, error }, 'outbox event dead: retries exhausted'),
    databaseError: (error) => logger.warn({ err: error }, 'outbox: database unreachable; will retry'),
  };
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

/** Resolves with the first SIGTERM or SIGINT; a later one means "now", as an impatient operator expects. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    onStopSignals({
      first: resolve,
      again: (signal) => {
        note(`orgshift: second ${signal}, exiting without waiting`);
        process.exit(1);
      },
    });
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

/** Seeds the demo data once and returns a few legacy users to try (unmigrated ones first). */
async function seedDemo(orgshift: Orgshift): Promise<readonly string[]> {
  if ((await orgshift.status()).legacyTotal === 0) {
    note(`orgshift: seeding ${DEMO_USERS} demo legacy users`);
    await orgshift.seed({ users: DEMO_USERS, dependents: DEMO_DEPENDENTS });
  }
  const { db, sql: m } = internalsOf(orgshift);
  const ids = await sampleKeys(db, m, DEMO_SAMPLE);
  if (ids.length === 0) throw new ConfigError('--demo', 'the legacy table is empty after seeding');
  return ids;
}

function printDemoHints(address: string, ids: readonly string[], apiToken: string | undefined): void {
  const [first, ...others] = ids;
  printLine(`try: ${curlFor(address, String(first), apiToken)}`);
  if (others.length > 0) printLine(`more demo users: ${others.join(' ')}`);
  printLine('list more: npm run orgshift -- status --sample 20');
}

function curlFor(address: string, userId: string, apiToken: string | undefined): string {
  const auth = apiToken === undefined ? '' : ' -H "Authorization: Bearer $ORGSHIFT_API_TOKEN"';
  return `curl${auth} ${address}/v1/users/${userId}`;
}
