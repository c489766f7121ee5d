import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createServer } from '../../src/http/create-server.js';
import { createLogger } from '../../src/http/logger.js';
import { createMetrics, type ServerMetrics } from '../../src/http/metrics.js';
import { createLockManager } from '../../src/lock/create-lock-manager.js';
import { internalsOf, type Orgshift, open } from '../../src/orgshift.js';
import { kyselyOf, withMethods } from '../support/internals.js';
import { describePostgresRedis } from '../support/services.js';
import { bearer, call } from './support/http-client.js';
import { type LocalServer, listenLocal } from './support/local-server.js';
import { type PgRedis, setupPgRedis } from './support/pg-redis.js';

const API_TOKEN = 'api-token-for-routes-test-0001';
const ADMIN_TOKEN = 'admin-token-for-routes-test-0001';
const api = { headers: bearer(API_TOKEN) };
const admin = { headers: bearer(ADMIN_TOKEN) };
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

describePostgresRedis('HTTP routes on PostgreSQL + Redis', () => {
  let pg: PgRedis;
  let orgshift: Orgshift;
  let metrics: ServerMetrics;
  let server: LocalServer;
  let unmigrated: string[] = [];
  const logLines: string[] = [];

  const nextLegacyId = () => {
    const id = unmigrated.shift();
    if (id === undefined) throw new Error('test ran out of legacy users');
    return id;
  };
  const env = () => ({
    ...pg.env,
    ORGSHIFT_LOCK_WAIT_MS: '300',
    ORGSHIFT_API_TOKEN: API_TOKEN,
    ORGSHIFT_ADMIN_TOKEN: ADMIN_TOKEN,
  });

  beforeAll(async () => {
    pg = await setupPgRedis('http_routes');
    metrics = createMetrics();
    orgshift = await open(loadConfig(env()), { migrate: true, observer: metrics.observer });
    await orgshift.seed({ users: 30, dependents: 1, apiKeyShare: 1 });
    const rows = await sql<{ id: string }>`select id from legacy_users order by id`.execute(kyselyOf(orgshift));
    unmigrated = rows.rows.map((r) => r.id);
    const stream = { write: (line: string) => void logLines.push(line) };
    server = await listenLocal(orgshift, { metrics, logger: createLogger({ level: 'info', stream }) });
  });
  afterAll(async () => {
    await server?.close();
    await orgshift?.close();
    await pg?.teardown();
  });

  it('GET /v1/users/:id migrates a legacy user on first access, then serves it from the fast path', async () => {
    const id = nextLegacyId();
    const first = await call(server.url, `/v1/users/${id}`, api);
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({
      id,
      currentOrg: { id, kind: 'personal' },
      memberships: [{ org: { id, kind: 'personal' }, role: { name: 'owner', rank: 10 }, status: 'active' }],
    });
    expect(typeof first.json?.migratedAt).toBe('string');
    expect(first.text).not.toMatch(/api_?key|secret/i);
    const again = await call(server.url, `/v1/users/${id.toUpperCase()}`, api);
    expect(again.status).toBe(200);
    expect(again.json).toEqual(first.json);
  });

  it('echoes a caller x-request-id and generates one otherwise', async () => {
    const id = nextLegacyId();
    const echoed = await call(server.url, `/v1/users/${id}`, {
      headers: { ...api.headers, 'x-request-id': 'trace-42.a' },
    });
    expect(echoed.headers.get('x-request-id')).toBe('trace-42.a');
    const generated = await call(server.url, `/v1/users/${id}`, api);
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const forged = await call(server.url, `/v1/users/${id}`, { headers: { ...api.headers, 'x-request-id': 'a b\tc' } });
    expect(forged.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(logLines.some((line) => line.includes('"reqId":"trace-42.a"'))).toBe(true);
  });

  it('answers 400 invalid_user_id from the route schema, before any handler code runs', async () => {
    const getUser = vi.fn(orgshift.getUser);
    const verifyUser = vi.fn(orgshift.verifyUser);
    const spied = await listenLocal(withMethods(orgshift, { getUser, verifyUser }), { apiToken: API_TOKEN });
    try {
      for (const bad of ['nope', `${UNKNOWN_ID}0`, "1' or '1'='1", 'x'.repeat(4_000), UNKNOWN_ID.replace(/0$/, 'g')]) {
        for (const path of [
          `/v1/users/${encodeURIComponent(bad)}`,
          `/v1/users/${encodeURIComponent(bad)}/verification`,
        ]) {
          const answer = await call(spied.url, path, api);
          expect(answer.status, path).toBe(400);
          expect(answer.json?.error?.code).toBe('invalid_user_id');
        }
      }
      expect(getUser).not.toHaveBeenCalled();
      expect(verifyUser).not.toHaveBeenCalled();
    } finally {
      await spied.close();
    }
  });

  it('answers 404 user_not_found for an id that is neither a user nor a legacy user', async () => {
    for (const path of [`/v1/users/${UNKNOWN_ID}`, `/v1/users/${UNKNOWN_ID}/verification`]) {
      const answer = await call(server.url, path, api);
      expect(answer.status).toBe(404);
      expect(answer.json?.error?.code).toBe('user_not_found');
    }
  });

  it('GET /v1/users/:id/verification returns the verify document without migrating', async () => {
    const id = nextLegacyId();
    const pending = await call(server.url, `/v1/users/${id}/verification`, api);
    expect(pending.status).toBe(200);
    expect(pending.json).toEqual({ ok: true, state: 'pending', violations: [] });
    expect((await call(server.url, `/v1/users/${id}`, api)).status).toBe(200);
    const migrated = await call(server.url, `/v1/users/${id}/verification`, api);
    expect(migrated.json).toEqual({ ok: true, state: 'migrated', violations: [] });
  });

  it('answers 500 verification_failed with the violations when a migrated user lost its membership', async () => {
    const id = nextLegacyId();
    expect((await call(server.url, `/v1/users/${id}`, api)).status).toBe(200);
    await sql`delete from org_members where user_id = ${id}`.execute(kyselyOf(orgshift));
    const answer = await call(server.url, `/v1/users/${id}`, api);
    expect(answer.status).toBe(500);
    expect(answer.json?.error?.code).toBe('verification_failed');
    const codes = answer.json?.error?.violations?.map((v) => v.code);
    expect(codes).toContain('current_org_not_member');
    const report = await call(server.url, `/v1/users/${id}/verification`, api);
    expect(report.status).toBe(200);
    expect(report.json).toMatchObject({ ok: false, state: 'migrated' });
  });

  it('answers 500 migration_failed when a legacy secret cannot be decrypted', async () => {
    const id = randomUUID();
    await sql`insert into legacy_users (id, email, api_key_enc) values (${id}, 'broken@example.com', 'not-a-ciphertext')`.execute(
      kyselyOf(orgshift),
    );
    const answer = await call(server.url, `/v1/users/${id}`, api);
    expect(answer.status).toBe(500);
    expect(answer.json?.error?.code).toBe('migration_failed');
    expect(answer.text).not.toContain('not-a-ciphertext');
  });

  it('answers 503 lock_timeout with Retry-After while another process holds the user lock', async () => {
    const id = nextLegacyId();
    const locks = createLockManager(internalsOf(orgshift).config.lock);
    const lease = await locks.acquire(`user:${id}`, { ttlMs: 10_000, waitMs: 1_000 });
    try {
      const answer = await call(server.url, `/v1/users/${id}`, api);
      expect(answer.status).toBe(503);
      expect(answer.json?.error?.code).toBe('lock_timeout');
      expect(answer.headers.get('retry-after')).toBe('1');
    } finally {
      await lease.release();
      await locks.close();
    }
    expect((await call(server.url, `/v1/users/${id}`, api)).status).toBe(200);
  });

  it('answers 503 lock_unavailable with Retry-After when Redis is unreachable, and /readyz says not ready', async () => {
    const { closedPort } = await import('./support/http-client.js');
    const down = await open(loadConfig({ ...env(), ORGSHIFT_REDIS_URL: `redis://127.0.0.1:${await closedPort()}` }));
    const local = await listenLocal(down);
    try {
      const answer = await call(local.url, `/v1/users/${nextLegacyId()}`, api);
      expect(answer.status).toBe(503);
      expect(answer.json?.error?.code).toBe('lock_unavailable');
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
      const ready = await call(local.url, '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.headers.get('retry-after')).toBe('5');
      expect(ready.json).toMatchObject({ ready: false, database: true, lock: false, error: { code: 'not_ready' } });
      expect((await call(local.url, '/healthz')).status).toBe(200);
    } finally {
      await local.close();
      await down.close();
    }
  });

  it('answers 503 lock_lost with Retry-After when the lease is lost before the migration commits', async () => {
    const inner = createLockManager(internalsOf(orgshift).config.lock);
    const lossy = await open(internalsOf(orgshift).config, {
      locks: {
        kind: inner.kind,
        ping: () => inner.ping(),
        close: () => inner.close(),
        async acquire(key, opts) {
          const lease = await inner.acquire(key, opts);
          const lost = new AbortController();
          lost.abort(new Error('lease expired (simulated)'));
          return {
            key: lease.key,
            token: lease.token,
            fence: lease.fence,
            lost: lost.signal,
            extend: (ttlMs) => lease.extend(ttlMs),
            release: () => lease.release(),
          };
        },
      },
    });
    const local = await listenLocal(lossy);
    const id = nextLegacyId();
    try {
      const answer = await call(local.url, `/v1/users/${id}`, api);
      expect(answer.status).toBe(503);
      expect(answer.json?.error?.code).toBe('lock_lost');
      expect(answer.headers.get('retry-after')).toBe('1');
      const migrated = await sql<{ n: string }>`select count(*) as n from users where id = ${id}`.execute(
        kyselyOf(orgshift),
      );
      expect(Number(migrated.rows[0]?.n)).toBe(0);
    } finally {
      await local.close();
      await lossy.close();
      await inner.close();
    }
  });

  it('refuses to open on an unreachable PostgreSQL with database_unavailable naming host, port and database, never the password', async () => {
    const { closedPort } = await import('./support/http-client.js');
    const port = await closedPort();
    const config = loadConfig({
      ...env(),
      ORGSHIFT_DATABASE_URL: `postgres://postgres:hunter2@127.0.0.1:${port}/nowhere`,
      ORGSHIFT_LOCK: 'memory',
    });
    const error = await open(config, { onDatabaseError: () => undefined }).then(
      () => null,
      (e: unknown) => e as { code?: string; message?: string },
    );
    expect(error?.code).toBe('database_unavailable');
    expect(error?.message).toContain(`127.0.0.1:${port}/nowhere`);
    expect(error?.message).not.toContain('hunter2');
  });

  it('answers 500 internal_error with a generic message for an unexpected error, and logs the detail', async () => {
    const lines: string[] = [];
    const broken: Orgshift = withMethods(orgshift, {
      getUser: async () => {
        throw new Error('connect ECONNREFUSED 10.9.8.7:5432 password=hunter2');
      },
    });
    const local = await listenLocal(broken, {
      apiToken: API_TOKEN,
      logger: createLogger({ level: 'info', stream: { write: (line: string) => void lines.push(line) } }),
    });
    try {
      const answer = await call(local.url, `/v1/users/${UNKNOWN_ID}`, api);
      expect(answer.status).toBe(500);
      expect(answer.json?.error?.code).toBe('internal_error');
      expect(answer.text).not.toMatch(/hunter2|10\.9\.8\.7|ECONNREFUSED|at /);
      const requestId = answer.headers.get('x-request-id');
      const logged = lines.find((line) => line.includes('request failed'));
      expect(logged).toContain('hunter2');
      expect(logged).toContain(`"reqId":"${requestId}"`);
    } finally {
      await local.close();
    }
  });

  it('maps Fastify request errors to JSON 4xx codes', async () => {
    const notFound = await call(server.url, '/v2/nothing');
    expect([notFound.status, notFound.json?.error?.code]).toEqual([404, 'not_found']);

    const wrongMethod = await call(server.url, `/v1/users/${UNKNOWN_ID}`, { method: 'DELETE', ...api });
    expect([wrongMethod.status, wrongMethod.json?.error?.code]).toEqual([405, 'method_not_allowed']);
    expect(wrongMethod.headers.get('allow')).toBe('GET, HEAD');
    const getRollback = await call(server.url, `/v1/admin/users/${UNKNOWN_ID}/rollback`, admin);
    expect([getRollback.status, getRollback.headers.get('allow')]).toEqual([405, 'POST']);

    const rollback = `/v1/admin/users/${UNKNOWN_ID}/rollback`;
    const json = { ...admin.headers, 'content-type': 'application/json' };
    const badJson = await call(server.url, rollback, { method: 'POST', headers: json, body: '{"a":' });
    expect([badJson.status, badJson.json?.error?.code]).toEqual([400, 'invalid_json']);

    const tooLarge = await call(server.url, rollback, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ pad: 'x'.repeat(64 * 1024) }),
    });
    expect([tooLarge.status, tooLarge.json?.error?.code]).toEqual([413, 'body_too_large']);

    const xml = { ...admin.headers, 'content-type': 'application/xml' };
    const media = await call(server.url, rollback, { method: 'POST', headers: xml, body: '<a/>' });
    expect([media.status, media.json?.error?.code]).toEqual([415, 'unsupported_media_type']);

    const badUrl = await call(server.url, '/v1/users/%E0%A4%A', api);
    expect([badUrl.status, badUrl.json?.error?.code]).toEqual([400, 'invalid_request']);
    expect(badUrl.headers.get('x-request-id')).not.toBeNull();

    for (const answer of [notFound, wrongMethod, badJson, tooLarge, media, badUrl]) {
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      expect(answer.text).not.toMatch(/FST_|node_modules|at /);
    }
  });

  it('adds Retry-After to any 503, even one a route forgot to label', async () => {
    const app = await createServer(orgshift, { logger: createLogger({ level: 'silent' }) });
    app.get('/test/unlabelled-503', async (_request, reply) =>
      reply.code(503).send({ error: { code: 'x', message: 'y' } }),
    );
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const answer = await call(url, '/test/unlabelled-503');
      expect([answer.status, answer.headers.get('retry-after')]).toEqual([503, '5']);
    } finally {
      await app.close();
    }
  });

  it('GET /v1/admin/status returns the status document', async () => {
    const answer = await call(server.url, '/v1/admin/status', admin);
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ legacyTotal: 31, lock: { kind: 'redis', healthy: true } });
    const { legacyTotal, migrated, pending } = answer.json as {
      legacyTotal: number;
      migrated: number;
      pending: number;
    };
    expect(migrated + pending).toBe(legacyTotal);
    expect(migrated).toBeGreaterThan(0);
  });

  it('GET /v1/admin/audit reports the broken user found earlier, with 200 and ok: false', async () => {
    const answer = await call(server.url, '/v1/admin/audit', admin);
    expect(answer.status).toBe(200);
    const report = answer.json as { ok: boolean; violations: { code: string; count: number; sample: string[] }[] };
    expect(report.ok).toBe(false);
    expect(report.violations.find((v) => v.code === 'current_org_not_member')).toMatchObject({ count: 1 });
    expect(answer.json).toHaveProperty('checks');
    expect(answer.json).toHaveProperty('notChecked');
  });

  it('POST /v1/admin/users/:id/rollback reverses a migration; the next read migrates again', async () => {
    const id = nextLegacyId();
    expect((await call(server.url, `/v1/users/${id}`, api)).status).toBe(200);
    const answer = await call(server.url, `/v1/admin/users/${id}/rollback`, { method: 'POST', ...admin });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ id, dryRun: false, dependentRows: 2, discarded: [] });
    const report = await call(server.url, `/v1/users/${id}/verification`, api);
    expect(report.json).toEqual({ ok: true, state: 'pending', violations: [] });
    expect((await call(server.url, `/v1/users/${id}`, api)).status).toBe(200);
  });

  it('answers 409 rollback_refused for a native user, 404 and 400 like the user routes', async () => {
    const native = await orgshift.createUser({ id: randomUUID(), email: 'native@example.com' });
    const refused = await call(server.url, `/v1/admin/users/${native.id}/rollback`, { method: 'POST', ...admin });
    expect([refused.status, refused.json?.error?.code]).toEqual([409, 'rollback_refused']);
    const unknown = await call(server.url, `/v1/admin/users/${UNKNOWN_ID}/rollback`, { method: 'POST', ...admin });
    expect([unknown.status, unknown.json?.error?.code]).toEqual([404, 'user_not_found']);
    const invalid = await call(server.url, '/v1/admin/users/nope/rollback', { method: 'POST', ...admin });
    expect([invalid.status, invalid.json?.error?.code]).toEqual([400, 'invalid_user_id']);
  });

  it('GET /healthz and /readyz answer 200 when PostgreSQL and Redis are up', async () => {
    const live = await call(server.url, '/healthz');
    expect([live.status, live.json]).toEqual([200, { ok: true }]);
    const ready = await call(server.url, '/readyz');
    expect([ready.status, ready.json]).toEqual([200, { ready: true, database: true, lock: true }]);
  });

  it('GET /openapi.json describes every route', async () => {
    const answer = await call(server.url, '/openapi.json');
    expect(answer.status).toBe(200);
    const doc = answer.json as { openapi: string; paths: Record<string, Record<string, { responses: object }>> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/dashboard',
        '/healthz',
        '/metrics',
        '/openapi.json',
        '/readyz',
        '/v1/admin/audit',
        '/v1/admin/dashboard',
        '/v1/admin/status',
        '/v1/admin/users/{id}/rollback',
        '/v1/users/{id}',
        '/v1/users/{id}/verification',
      ].sort(),
    );
    expect(doc.paths['/v1/users/{id}']?.get?.responses).toHaveProperty('503');
    // A key several legacy rows share is refused as legacy_key_duplicate.
    expect(doc.paths['/v1/users/{id}']?.get?.responses).toHaveProperty('409');
    expect(JSON.stringify(doc.paths['/v1/users/{id}'])).toContain('apiToken');
    for (const path of [
      '/v1/admin/status',
      '/v1/admin/audit',
      '/v1/admin/users/{id}/rollback',
      '/v1/admin/dashboard',
    ]) {
      expect(JSON.stringify(doc.paths[path]), path).toContain('adminToken');
    }
    expect(doc.paths['/v1/admin/users/{id}/rollback']?.post?.responses).toHaveProperty('409');
  });

  it('GET /metrics exposes lookups, migrations, lock waits, verification failures and HTTP metrics', async () => {
    const answer = await call(server.url, '/metrics');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/plain/);
    const value = (series: string) => {
      const line = answer.text.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? Number.NaN : Number(line.slice(series.length + 1));
    };
    expect(value('orgshift_user_lookups_total{outcome="migrated"}')).toBeGreaterThanOrEqual(4);
    expect(value('orgshift_user_lookups_total{outcome="hit"}')).toBeGreaterThanOrEqual(1);
    expect(value('orgshift_user_lookups_total{outcome="not_found"}')).toBeGreaterThanOrEqual(1);
    expect(value('orgshift_user_lookups_total{outcome="lock_timeout"}')).toBe(1);
    expect(value('orgshift_migrations_total{result="migrated"}')).toBeGreaterThanOrEqual(4);
    expect(value('orgshift_migrations_total{result="failed"}')).toBe(1);
    expect(value('orgshift_lock_wait_seconds_count')).toBeGreaterThanOrEqual(5);
    expect(value('orgshift_verification_failures_total{code="current_org_not_member"}')).toBe(1);
    expect(value('orgshift_http_requests_in_flight')).toBe(1);
    expect(
      value('orgshift_http_request_duration_seconds_count{method="GET",route="/v1/users/:id",status_code="200"}'),
    ).toBeGreaterThanOrEqual(4);
    expect(answer.text).toContain('process_resident_memory_bytes');
    expect(answer.text).not.toMatch(/route="\/v1\/users\/[0-9a-f]{8}-/);
  });

  it('never writes a bearer token to the log', async () => {
    const log = logLines.join('\n');
    expect(log).toContain('"authorization":"[redacted]"');
    expect(log).not.toContain(API_TOKEN);
    expect(log).not.toContain(ADMIN_TOKEN);
  });
});
