import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { SecretCipher } from '../../src/crypto/secret-cipher.js';
import { createServer } from '../../src/http/create-server.js';
import { createLogger } from '../../src/http/logger.js';
import { createMetrics } from '../../src/http/metrics.js';
import { type Orgshift, open } from '../../src/orgshift.js';
import { kyselyOf } from '../support/internals.js';
import { TEST_LEGACY_KEY, TEST_SECRET_KEY } from '../support/open-test.js';
import { describePostgresRedis } from '../support/services.js';
import { type PgRedis, setupPgRedis } from './support/pg-redis.js';

/**
 * Property tests of the whole HTTP surface: whatever a client
 * sends — ids, methods, headers, bodies, sizes — the answer is never a 500,
 * never a crash, and never carries a stack trace, a secret or a key; and
 * whatever status a route answers, /openapi.json lists it for that route.
 */
const API_TOKEN = 'api-token-for-properties-0001';
const ADMIN_TOKEN = 'admin-token-for-properties-0001';
const ROUTES = [
  '/v1/users/:id',
  '/v1/users/:id/verification',
  '/v1/admin/users/:id/rollback',
  '/v1/admin/audit',
  '/v1/admin/status',
  '/v1/admin/dashboard',
  '/dashboard',
  '/dashboard/assets/:id',
  '/healthz',
  '/readyz',
  '/metrics',
  '/openapi.json',
  '/:id',
];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'] as const;

type OpenApiPaths = Record<string, Record<string, { readonly responses: Record<string, unknown> }>>;

describePostgresRedis('the HTTP surface under random input', () => {
  let pg: PgRedis;
  let orgshift: Orgshift;
  let app: FastifyInstance;
  let ids: string[] = [];
  let documented: OpenApiPaths = {};
  const secrets: string[] = [];
  const logLines: string[] = [];

  beforeAll(async () => {
    pg = await setupPgRedis('http_props');
    const env = {
      ...pg.env,
      ORGSHIFT_API_TOKEN: API_TOKEN,
      ORGSHIFT_ADMIN_TOKEN: ADMIN_TOKEN,
      ORGSHIFT_LOCK_WAIT_MS: '500',
    };
    orgshift = await open(loadConfig(env), { migrate: true });
    await orgshift.seed({ users: 40, dependents: 1, apiKeyShare: 1 });
    const rows = await sql<{ id: string; api_key_enc: string }>`select id, api_key_enc from legacy_users`.execute(
      kyselyOf(orgshift),
    );
    const cipher = new SecretCipher(Buffer.from(TEST_LEGACY_KEY, 'base64'));
    ids = rows.rows.map((r) => r.id);
    for (const r of rows.rows) secrets.push(cipher.decrypt(r.api_key_enc, r.id));
    const stream = { write: (line: string) => void logLines.push(line) };
    app = await createServer(orgshift, { metrics: createMetrics(), logger: createLogger({ level: 'info', stream }) });
    await app.ready();
    documented = (app.swagger() as unknown as { paths: OpenApiPaths }).paths;
  });
  afterAll(async () => {
    await app?.close();
    await orgshift?.close();
    await pg?.teardown();
  });

  function expectSafe(status: number, body: string) {
    // 503 (busy lock, with Retry-After) is an honest answer; any other 5xx is a bug.
    expect(status < 500 || status === 503, `status ${status}: ${body.slice(0, 200)}`).toBe(true);
    expect(body).not.toMatch(/\n\s+at [\w.<>]+ \(|node_modules|\.ts:\d+/);
    expect(body).not.toMatch(/sk-legacy-[0-9a-f]{48}/);
    for (const key of [TEST_LEGACY_KEY, TEST_SECRET_KEY, API_TOKEN, ADMIN_TOKEN]) expect(body).not.toContain(key);
    if (status >= 400 && body.length > 0) {
      const json = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
      expect(typeof json.error?.code).toBe('string');
      expect(typeof json.error?.message).toBe('string');
    }
  }

  /** The status a documented operation answered is one of its documented responses. */
  function expectDocumented(method: string, route: string, status: number) {
    const operation = documented[route.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()];
    // Not an operation of the document (HEAD, a 405 on another method, an unknown path): nothing to match.
    if (operation === undefined) return;
    expect(Object.keys(operation.responses), `${method} ${route} answered ${status}`).toContain(String(status));
  }

  const idLike = () =>
    fc.oneof(
      fc.constantFrom(...ids),
      fc.uuid(),
      fc.string({ maxLength: 80 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.constantFrom("' or 1=1 --", '%00', '..%2F..%2Fetc%2Fpasswd', '%', '%E0%A4%A', '$1', '{}', 'null'),
      fc.string({ minLength: 2_000, maxLength: 10_000 }),
    );

  it('answers any id on any route with any method without a 500 or a leak', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...METHODS),
        fc.constantFrom(...ROUTES),
        idLike(),
        fc.constantFrom(undefined, API_TOKEN, ADMIN_TOKEN, 'wrong', ''),
        async (method, route, id, token) => {
          const url = route.replace(':id', /^[\w-]*$/.test(id) ? id : encodeURIComponent(id));
          const response = await app.inject({
            method,
            url,
            headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
          });
          expectSafe(response.statusCode, response.body);
          expectDocumented(method, route, response.statusCode);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('survives random headers and bodies, including oversized and malformed ones', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT'),
        fc.constantFrom('/v1/users/:id', '/v1/admin/users/:id/rollback', '/v1/admin/audit'),
        fc.constantFrom(...ids),
        fc.dictionary(
          fc.constantFrom('content-type', 'authorization', 'accept', 'x-request-id', 'content-encoding', 'x-custom'),
          fc.oneof(fc.string({ maxLength: 200 }), fc.constantFrom('application/json', 'text/plain', 'gzip', 'Bearer')),
        ),
        // A right token too, or every body would be refused (401) before anyone reads it.
        fc.constantFrom(undefined, API_TOKEN, ADMIN_TOKEN),
        fc.oneof(fc.constant(undefined), fc.string({ maxLength: 500 }), fc.json(), fc.constant('x'.repeat(1_100_000))),
        async (method, route, id, headers, token, body) => {
          const printable = Object.entries(headers).filter(([, v]) => /^[\t\x20-\x7e]*$/.test(v));
          const response = await app.inject({
            method,
            url: route.replace(':id', id),
            headers: Object.fromEntries(
              token === undefined ? printable : [...printable, ['authorization', `Bearer ${token}`]],
            ),
            ...(body === undefined || method === 'GET' ? {} : { payload: body }),
          });
          expectSafe(response.statusCode, response.body);
          expectDocumented(method, route, response.statusCode);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('never writes a seeded secret or a key into its logs', () => {
    const logs = logLines.join('\n');
    for (const secret of secrets) expect(logs).not.toContain(secret);
    for (const key of [TEST_LEGACY_KEY, TEST_SECRET_KEY, API_TOKEN, ADMIN_TOKEN]) expect(logs).not.toContain(key);
    expect(logLines.length).toBeGreaterThan(100);
  });
});
