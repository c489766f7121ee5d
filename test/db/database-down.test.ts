import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/http/logger.js';
import type { Orgshift } from '../../src/orgshift.js';
import { call } from '../http/support/http-client.js';
import { type LocalServer, listenLocal } from '../http/support/local-server.js';
import { killAllCli, runCli } from '../ops/support/cli.js';
import { kyselyOf } from '../support/internals.js';
import { openTest } from '../support/open-test.js';
import { createTestDatabase, describePostgres, PG_ADMIN_URL, type TestDatabase } from '../support/services.js';

/**
 * The database going away under an opened orgshift: every entry point says
 * `database_unavailable` (the library's code, HTTP 503 with Retry-After and a
 * generic body, the CLI's exit 1), never the driver's words, a stack or the
 * password of the database URL.
 */

const PASSWORD = 'db-password-5e1f9c';
const PG_PORT = Number(new URL(PG_ADMIN_URL).port || 5432);
const NEW_USER = '00000000-0000-4000-8000-00000000d0d0';

interface Outcome {
  readonly code: unknown;
  readonly message: string;
}

async function outcomeOf(work: () => Promise<unknown>): Promise<Outcome> {
  try {
    await work();
    return { code: 'ok', message: '' };
  } catch (error) {
    return { code: (error as { code?: unknown }).code, message: String((error as Error).message) };
  }
}

/** Every entry point of the facade that touches the database, by name. */
function entryPoints(orgshift: Orgshift, ids: { readonly migrated: string; readonly pending: string }) {
  return {
    status: () => orgshift.status(),
    getUser: () => orgshift.getUser(ids.pending),
    verifyUser: () => orgshift.verifyUser(ids.migrated),
    createUser: () => orgshift.createUser({ id: NEW_USER, email: 'new@example.com' }),
    rollbackUser: () => orgshift.rollbackUser(ids.migrated),
    migrateSchema: () => orgshift.migrateSchema(),
    audit: () => orgshift.audit(),
    backfill: () => orgshift.backfill(),
  };
}

/** A TCP relay in front of PostgreSQL: stopping it is the server going down (ECONNREFUSED, connections reset). */
async function startRelay(upstream: number, listenPort = 0): Promise<{ port: number; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const toPostgres = connect(upstream, '127.0.0.1');
    for (const [s, peer] of [
      [client, toPostgres],
      [toPostgres, client],
    ] as const) {
      sockets.add(s);
      s.on('error', () => undefined);
      // One side gone, both gone: as a direct connection would be.
      s.on('close', () => {
        sockets.delete(s);
        peer.destroy();
      });
    }
    client.pipe(toPostgres).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(listenPort, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no relay port');
  return {
    port: address.port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

describePostgres('PostgreSQL going away under an opened orgshift', { timeout: 90_000 }, () => {
  let testDb: TestDatabase;
  let admin: pg.Client;
  let url: string;
  let relay: Awaited<ReturnType<typeof startRelay>>;
  let orgshift: Orgshift;
  let server: LocalServer;
  const ids = { migrated: '', pending: '' };
  const logLines: string[] = [];

  const terminateBackends = () =>
    admin.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
      [testDb.name],
    );

  beforeAll(async () => {
    testDb = await createTestDatabase('db_down');
    admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    relay = await startRelay(PG_PORT);
    // Trust authentication ignores the password; it is here to prove it never leaks.
    const withPassword = new URL(testDb.url);
    withPassword.password = PASSWORD;
    withPassword.port = String(relay.port);
    url = withPassword.toString();
    orgshift = await openTest(
      { ORGSHIFT_DATABASE_URL: url, ORGSHIFT_LOCK: 'memory', ORGSHIFT_DATABASE_POOL_SIZE: '3' },
      { onDatabaseError: () => undefined, countsFlushMs: 3_600_000 },
    );
    const { sampleIds } = await orgshift.seed({ users: 4, dependents: 1 });
    ids.migrated = sampleIds[0] as string;
    ids.pending = sampleIds[1] as string;
    await orgshift.getUser(ids.migrated);
    const stream = { write: (line: string) => void logLines.push(line) };
    server = await listenLocal(orgshift, { logger: createLogger({ level: 'info', stream }) });
  });

  afterAll(async () => {
    // The detail a 503 keeps from the client goes to the log: still never the password.
    expect(logLines.some((line) => line.includes('database_unavailable'))).toBe(true);
    expect(logLines.filter((line) => line.includes(PASSWORD))).toEqual([]);
    killAllCli();
    await server?.close();
    await orgshift?.close();
    await admin?.query(`alter database ${testDb.name} allow_connections true`).catch(() => undefined);
    await admin?.end();
    await relay?.stop();
    await testDb?.drop();
  });

  async function expectUnavailableEverywhere(): Promise<void> {
    for (const [name, work] of Object.entries(entryPoints(orgshift, ids))) {
      const outcome = await outcomeOf(work);
      expect({ name, code: outcome.code }).toEqual({ name, code: 'database_unavailable' });
      expect(outcome.message).toContain(testDb.name);
      expect(outcome.message).not.toContain(PASSWORD);
    }
    for (const [method, path] of [
      ['GET', `/v1/users/${ids.pending}`],
      ['GET', `/v1/users/${ids.migrated}/verification`],
      ['GET', '/v1/admin/status'],
      ['GET', '/v1/admin/audit'],
      ['POST', `/v1/admin/users/${ids.migrated}/rollback`],
    ] as const) {
      const answer = await call(server.url, path, { method });
      expect({ path, status: answer.status, retryAfter: answer.headers.get('retry-after') }).toEqual({
        path,
        status: 503,
        retryAfter: '5',
      });
      expect(answer.json).toEqual({
        error: { code: 'database_unavailable', message: 'the database is unavailable; retry later' },
      });
    }
  }

  async function expectRecovered(): Promise<void> {
    expect((await orgshift.status()).legacyTotal).toBe(4);
    expect((await call(server.url, `/v1/users/${ids.migrated}`)).status).toBe(200);
  }

  it('the server stops (connections reset, then refused): database_unavailable from every entry point, HTTP 503 (the CLI: test/cli/database-url.test.ts)', async () => {
    await relay.stop();
    await expectUnavailableEverywhere();
    // The server comes back where the opened pool expects it.
    relay = await startRelay(PG_PORT, relay.port);
    await expectRecovered();
  });

  it('the database stops accepting connections (ALLOW_CONNECTIONS false, backends terminated)', async () => {
    await admin.query(`alter database ${testDb.name} allow_connections false`);
    await terminateBackends();
    try {
      await expectUnavailableEverywhere();
      const cli = await runCli(['rollback', ids.migrated, '--json'], {
        ORGSHIFT_DATABASE_URL: url,
        ORGSHIFT_LOCK: 'memory',
      });
      expect(cli.code).toBe(1);
      expect(JSON.parse(cli.stdout).error).toMatchObject({
        code: 'database_unavailable',
        message: expect.stringContaining('the database does not accept connections'),
      });
      expect(cli.stderr + cli.stdout).not.toContain(PASSWORD);
    } finally {
      await admin.query(`alter database ${testDb.name} allow_connections true`);
    }
    await expectRecovered();
  });

  it('the database is renamed away (3D000) with its backends terminated', async () => {
    await terminateBackends();
    await admin.query(`alter database ${testDb.name} rename to ${testDb.name}_away`);
    try {
      await expectUnavailableEverywhere();
    } finally {
      await terminateBackendsOf(admin, `${testDb.name}_away`);
      await admin.query(`alter database ${testDb.name}_away rename to ${testDb.name}`);
    }
    await expectRecovered();
  });
});

async function terminateBackendsOf(admin: pg.Client, name: string): Promise<void> {
  await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [name]);
}

/**
 * SQLite has no server to lose, and in WAL mode readers never wait: the
 * outage an opened SQLite orgshift meets is another process holding the
 * write lock past the busy timeout. Every writer says database_unavailable
 * naming the file; readers go on.
 */
describe('SQLite with the write lock held by another connection', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'orgshift-db-down-'));
  const file = join(dir, 'down.db');
  let orgshift: Orgshift;
  let server: LocalServer;
  let holder: BetterSqlite3.Database;
  const ids = { migrated: '', pending: '' };

  beforeAll(async () => {
    orgshift = await openTest({ ORGSHIFT_DATABASE_URL: `sqlite:${file}`, ORGSHIFT_LOCK: 'memory' });
    const { sampleIds } = await orgshift.seed({ users: 4, dependents: 1 });
    ids.migrated = sampleIds[0] as string;
    ids.pending = sampleIds[1] as string;
    await orgshift.getUser(ids.migrated);
    // The production wait is 5 s; the test waits less for the same outcome.
    await sql`pragma busy_timeout = 100`.execute(kyselyOf(orgshift));
    server = await listenLocal(orgshift);
    holder = new BetterSqlite3(file);
  });

  afterAll(async () => {
    holder?.close();
    await server?.close();
    await orgshift?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writers answer database_unavailable naming the file (HTTP 503 with Retry-After); readers go on', async () => {
    holder.exec('begin immediate');
    try {
      const all = entryPoints(orgshift, ids);
      for (const name of ['getUser', 'createUser', 'rollbackUser', 'migrateSchema', 'backfill'] as const) {
        const outcome = await outcomeOf(all[name]);
        expect({ name, code: outcome.code }).toEqual({ name, code: 'database_unavailable' });
        expect(outcome.message).toContain(file);
        expect(outcome.message).toContain('locked by another process');
      }
      for (const name of ['status', 'verifyUser', 'audit'] as const) {
        expect({ name, outcome: (await outcomeOf(all[name])).code }).toEqual({ name, outcome: 'ok' });
      }
      const rollback = await call(server.url, `/v1/admin/users/${ids.migrated}/rollback`, { method: 'POST' });
      expect([rollback.status, rollback.headers.get('retry-after'), rollback.json]).toEqual([
        503,
        '5',
        { error: { code: 'database_unavailable', message: 'the database is unavailable; retry later' } },
      ]);
    } finally {
      holder.exec('rollback');
    }
    expect((await orgshift.getUser(ids.pending)).id).toBe(ids.pending);
  });
});
