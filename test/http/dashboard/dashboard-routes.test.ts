import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from '../../../src/http/create-server.js';
import { createLogger } from '../../../src/http/logger.js';
import { createMetrics, type ServerMetrics } from '../../../src/http/metrics.js';
import { DASHBOARD_CSP } from '../../../src/http/routes/dashboard.js';
import { createProgressQueries, type ProgressQueries } from '../../../src/ops/progress/progress-queries.js';
import { internalsOf, type Orgshift } from '../../../src/orgshift.js';
import { openTest } from '../../support/open-test.js';

const API_TOKEN = 'api-token-for-dashboard-0001';
const ADMIN_TOKEN = 'admin-token-for-dashboard-0001';
const REMOTE = '203.0.113.7';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const quiet = () => createLogger({ level: 'silent' });

describe('the dashboard routes', () => {
  let orgshift: Orgshift;
  let app: FastifyInstance;
  let ids: string[];
  let metrics: ServerMetrics;

  beforeAll(async () => {
    metrics = createMetrics({ processMetrics: false });
    orgshift = await openTest({ ORGSHIFT_DATABASE_URL: 'sqlite::memory:' }, { observer: metrics.observer });
    await orgshift.seed({ users: 20, dependents: 1 });
    ids = (
      await sql<{ id: string }>`select id from legacy_users order by id`.execute(internalsOf(orgshift).db.kysely)
    ).rows.map((r) => r.id);
    app = await createServer(orgshift, { metrics, apiToken: API_TOKEN, adminToken: ADMIN_TOKEN, logger: quiet() });
  });
  afterAll(async () => {
    await app?.close();
    await orgshift?.close();
  });

  it('serves the page with a same-origin-only policy, revalidated on every load, and nothing from elsewhere', async () => {
    const page = await app.inject({ method: 'GET', url: '/dashboard', remoteAddress: REMOTE });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    expect(DASHBOARD_CSP).toContain("default-src 'none'");
    expect(page.headers['cache-control']).toBe('no-cache');
    const references = [...page.body.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1] as string);
    expect(references.length).toBeGreaterThanOrEqual(5);
    for (const reference of references) expect(reference).toMatch(/^\/dashboard\/assets\/[\w.-]+$/);
    expect(page.body).not.toMatch(/\{\{|https?:\/\//);
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)/); // no inline script, or the CSP would block it

    const again = await app.inject({
      method: 'GET',
      url: '/dashboard',
      headers: { 'if-none-match': page.headers.etag },
    });
    expect(again.statusCode).toBe(304);
  });

  it('serves uPlot from node_modules and the page assets under content-hashed names, cached for a year', async () => {
    const page = await app.inject({ method: 'GET', url: '/dashboard' });
    const assets = [...page.body.matchAll(/(?:src|href)="(\/dashboard\/assets\/[^"]+)"/g)].map((m) => m[1] as string);
    const uplot = assets.find((a) => /uplot\.[0-9a-f]{12}\.js$/.test(a));
    expect(uplot).toBeDefined();
    for (const url of assets) {
      const asset = await app.inject({ method: 'GET', url, remoteAddress: REMOTE });
      expect(asset.statusCode, url).toBe(200);
      expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(asset.headers['content-security-policy']).toBe(DASHBOARD_CSP);
      expect(asset.headers['x-content-type-options']).toBe('nosniff');
    }
    const bundled = readFileSync(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'));
    const served = await app.inject({ method: 'GET', url: uplot as string });
    expect(served.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(served.rawPayload.equals(bundled)).toBe(true);

    const missing = await app.inject({ method: 'GET', url: '/dashboard/assets/uplot.000000000000.js' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('not_found');
  });

  it('answers its data to the admin token only, as /v1/admin/* does', async () => {
    const data = (headers: Record<string, string>) =>
      app.inject({ method: 'GET', url: '/v1/admin/dashboard', remoteAddress: REMOTE, headers });
    expect((await data({})).statusCode).toBe(401);
    expect((await data(bearer(API_TOKEN))).statusCode).toBe(401);
    expect((await data(bearer('not-the-admin-token-at-all'))).statusCode).toBe(401);
    const ok = await data(bearer(ADMIN_TOKEN));
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['cache-control']).toBe('no-store');
    expect(ok.body).not.toContain(ADMIN_TOKEN);
  });

  it('without any token, answers page and data to loopback clients only, like the admin routes', async () => {
    const tokenless = await createServer(orgshift, { logger: quiet() });
    try {
      for (const url of ['/dashboard', '/v1/admin/dashboard', '/v1/admin/status']) {
        const remote = await tokenless.inject({ method: 'GET', url, remoteAddress: REMOTE });
        expect(remote.statusCode, url).toBe(401);
        expect(remote.json().error.message).toMatch(/only answers local clients/);
        expect((await tokenless.inject({ method: 'GET', url, remoteAddress: '127.0.0.1' })).statusCode, url).toBe(200);
      }
    } finally {
      await tokenless.close();
    }
  });

  it('with an API token and no admin token, is disabled like the admin routes (403 admin_disabled), even from loopback', async () => {
    const apiOnly = await createServer(orgshift, { apiToken: API_TOKEN, logger: quiet() });
    try {
      for (const url of ['/dashboard', '/v1/admin/dashboard', '/v1/admin/status']) {
        for (const remoteAddress of [REMOTE, '127.0.0.1']) {
          const answer = await apiOnly.inject({ method: 'GET', url, remoteAddress });
          expect([answer.statusCode, answer.json().error.code], `${url} from ${remoteAddress}`).toEqual([
            403,
            'admin_disabled',
          ]);
        }
      }
    } finally {
      await apiOnly.close();
    }
  });

  it("reports the status's totals, the history window, who migrated, lock waits and the last audit", async () => {
    await orgshift.getUser(ids[0] as string);
    await orgshift.backfill({ limit: 5 });
    await orgshift.flushCounts();
    const audit = await app.inject({ method: 'GET', url: '/v1/admin/audit', headers: bearer(ADMIN_TOKEN) });
    expect(audit.statusCode).toBe(200);

    const fresh = await createServer(orgshift, {
      metrics: undefined,
      adminToken: ADMIN_TOKEN,
      apiToken: API_TOKEN,
      logger: quiet(),
    });
    try {
      const status = (
        await fresh.inject({ method: 'GET', url: '/v1/admin/status', headers: bearer(ADMIN_TOKEN) })
      ).json();
      const doc = (
        await fresh.inject({ method: 'GET', url: '/v1/admin/dashboard', headers: bearer(ADMIN_TOKEN) })
      ).json();
      expect(doc.totals).toEqual({
        legacyTotal: status.legacyTotal,
        migrated: status.migrated,
        pending: status.pending,
        failed: status.failed,
        invalid: status.invalid,
        outbox: status.outbox,
        percentMigrated: 30,
      });
      expect(doc.lock).toEqual(status.lock);
      expect(doc.history.source).toBe('marker_timestamp');
      expect(doc.history.minutes).toHaveLength(60);
      expect(doc.history.perMinute.reduce((a: number, b: number) => a + b, 0)).toBe(6);
      expect(doc.history.cumulative.at(-1)).toBe(6);
      expect(doc.history.ratePerMinute).toBeGreaterThan(0);
      expect(doc.history.etaSeconds).toBeGreaterThan(0);
      expect(doc.share).toEqual({
        just_in_time: { migrated: 1, failed: 0 },
        backfill: { migrated: 5, failed: 0 },
      });
      expect(doc.failures).toEqual({ total: 0, byCode: [] });
      expect(doc.lastAudit).toMatchObject({ ok: audit.json().ok, seconds: audit.json().seconds });
      // This server's own histogram: a fresh server has seen no lock wait yet.
      expect(doc.lockWait).toEqual({ count: 0, p50: null, p90: null, p99: null });
      expect(doc.refreshSeconds).toBe(5);
    } finally {
      await fresh.close();
    }

    // A server whose histogram saw the just-in-time migration's lock wait (a new server, so no reused document).
    const observed = await createServer(orgshift, { metrics, adminToken: ADMIN_TOKEN, logger: quiet() });
    try {
      const doc = (
        await observed.inject({ method: 'GET', url: '/v1/admin/dashboard', headers: bearer(ADMIN_TOKEN) })
      ).json();
      expect(doc.lockWait.count).toBe(1);
      expect(doc.lockWait.p50).toBeGreaterThan(0);
      expect(doc.lockWait.p99).toBeGreaterThanOrEqual(doc.lockWait.p50);
    } finally {
      await observed.close();
    }
  });

  it('builds one document for any number of viewers asking at once', async () => {
    const real = createProgressQueries(internalsOf(orgshift).db, internalsOf(orgshift).sql);
    let builds = 0;
    const counting: ProgressQueries = {
      ...real,
      totals: () => {
        builds++;
        return real.totals();
      },
    };
    const viewers = await createServer(orgshift, {
      adminToken: ADMIN_TOKEN,
      logger: quiet(),
      dashboard: { refreshSeconds: 60, queries: counting },
    });
    try {
      const answers = await Promise.all(
        Array.from({ length: 8 }, () =>
          viewers.inject({ method: 'GET', url: '/v1/admin/dashboard', headers: bearer(ADMIN_TOKEN) }),
        ),
      );
      expect(answers.map((a) => a.statusCode)).toEqual(Array(8).fill(200));
      expect(builds).toBe(1);
      expect(answers[0]?.json().refreshSeconds).toBe(60);
    } finally {
      await viewers.close();
    }
  });
});
