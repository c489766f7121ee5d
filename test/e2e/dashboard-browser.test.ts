/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The functions passed to page.evaluate run in the browser, hence the DOM types.
import { mkdirSync } from 'node:fs';
import { sql } from 'kysely';
import type { ConsoleMessage, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretCipher } from '../../src/crypto/secret-cipher.js';
import { createMetrics } from '../../src/http/metrics.js';
import { createProgressQueries } from '../../src/ops/progress/progress-queries.js';
import { internalsOf, type Orgshift } from '../../src/orgshift.js';
import { bearer, call } from '../http/support/http-client.js';
import { type LocalServer, listenLocal } from '../http/support/local-server.js';
import { killAllCli, runCli } from '../ops/support/cli.js';
import { legacyIds } from '../ops/support/tables.js';
import { hasChromium, launchChromium, type TestBrowser } from '../support/browser.js';
import { openTest, TEST_LEGACY_KEY } from '../support/open-test.js';
import { createTestDatabase, hasPostgres, type TestDatabase } from '../support/services.js';

const API_TOKEN = 'api-token-for-dashboard-e2e-01';
const ADMIN_TOKEN = 'admin-token-for-dashboard-e2e-01';
const REFRESH_SECONDS = 1;
const USERS = 1_200;
const EARLIER = 500;
const ARTIFACT = new URL('../../test-artifacts/dashboard.png', import.meta.url);

interface Drawn {
  readonly perMinute: readonly number[];
  readonly cumulative: readonly number[];
  /** Pixels of the per-minute series' own colour on its canvas. */
  readonly perMinutePixels: number;
  /** Lowest and highest row (canvas pixels) painted in the cumulative series' colour. */
  readonly cumulativeRows: readonly [number, number];
}

declare global {
  interface Window {
    orgshiftCharts?: Record<'perMinute' | 'cumulative', { data: number[][]; root: HTMLElement }>;
  }
}

/** What the charts hold and what their canvases show, read inside the page. */
function readCharts(page: Page): Promise<Drawn> {
  return page.evaluate(() => {
    const charts = window.orgshiftCharts;
    if (charts === undefined) throw new Error('no charts on the page');
    const painted = (root: HTMLElement, [r, g, b]: readonly number[]) => {
      const canvas = root.querySelector('canvas') as HTMLCanvasElement;
      const pixels = (canvas.getContext('2d') as CanvasRenderingContext2D).getImageData(
        0,
        0,
        canvas.width,
        canvas.height,
      ).data;
      const rows: number[] = [];
      for (let i = 0; i < pixels.length; i += 4) {
        const close =
          Math.abs((pixels[i] as number) - (r as number)) < 24 &&
          Math.abs((pixels[i + 1] as number) - (g as number)) < 24 &&
          Math.abs((pixels[i + 2] as number) - (b as number)) < 24 &&
          (pixels[i + 3] as number) > 200;
        if (close) rows.push(Math.floor(i / 4 / canvas.width));
      }
      return rows;
    };
    const blue = painted(charts.perMinute.root, [0x25, 0x63, 0xeb]);
    const green = painted(charts.cumulative.root, [0x05, 0x96, 0x69]);
    return {
      perMinute: charts.perMinute.data[1] as number[],
      cumulative: charts.cumulative.data[1] as number[],
      perMinutePixels: blue.length,
      cumulativeRows: [Math.min(...green), Math.max(...green)] as const,
    };
  });
}

/** The status document as the page names its numbers: nested counts by path ("outbox.pending"); ages left out. */
function shownTotals(status: Record<string, unknown>, prefix = ''): Record<string, number> {
  const shown: Record<string, number> = {};
  for (const [key, value] of Object.entries(status)) {
    if (key === 'lock' || key === 'oldestPendingSeconds') continue;
    if (typeof value === 'number') shown[`${prefix}${key}`] = value;
    else if (value !== null && typeof value === 'object') {
      Object.assign(shown, shownTotals(value as Record<string, unknown>, `${prefix}${key}.`));
    }
  }
  return shown;
}

function totalsOnPage(page: Page) {
  return page.evaluate(() =>
    Object.fromEntries(
      [...document.querySelectorAll<HTMLElement>('[data-total]')].map((e) => [
        e.dataset.total,
        Number(e.dataset.value),
      ]),
    ),
  );
}

async function refreshesOf(page: Page): Promise<number> {
  return page.evaluate(() => Number(document.body.dataset.refreshes));
}

describe.skipIf(!hasPostgres || !hasChromium)('the dashboard in headless Chromium', { timeout: 240_000 }, () => {
  let database: TestDatabase;
  let orgshift: Orgshift;
  let server: LocalServer;
  let browser: TestBrowser;
  let env: Record<string, string>;
  let broken: string;

  beforeAll(async () => {
    database = await createTestDatabase('dashboard_e2e');
    env = {
      ORGSHIFT_DATABASE_URL: database.url,
      ORGSHIFT_DATABASE_POOL_SIZE: '4',
      ORGSHIFT_LOCK: 'postgres',
      ORGSHIFT_LOCK_POOL_SIZE: '4',
      ORGSHIFT_API_TOKEN: API_TOKEN,
      ORGSHIFT_ADMIN_TOKEN: ADMIN_TOKEN,
    };
    const metrics = createMetrics();
    orgshift = await openTest(env, { observer: metrics.observer });
    await orgshift.seed({ users: USERS, dependents: 1, apiKeyShare: 1 });
    const ids = await legacyIds(orgshift);
    // A secret sealed for another owner: the legacy key cannot open it for this one, so its migration fails.
    broken = ids[7] as string;
    const foreign = new SecretCipher(Buffer.from(TEST_LEGACY_KEY, 'base64')).encrypt(
      'sk-someone-else',
      ids[0] as string,
    );
    await sql`update legacy_users set api_key_enc = ${foreign} where id = ${broken}`.execute(
      internalsOf(orgshift).db.kysely,
    );
    // Migrations made before this server started, spread over the last half hour: the page can only
    // show them by reading the legacy rows' own timestamps.
    expect((await orgshift.backfill({ limit: EARLIER })).failed).toBe(1);
    await sql`update legacy_users set migrated_at = now() - (abs(hashtext(id)) % 1800) * interval '1 second'
      where migrated_at is not null`.execute(internalsOf(orgshift).db.kysely);
    server = await listenLocal(orgshift, { metrics, dashboard: { refreshSeconds: REFRESH_SECONDS } });
    browser = await launchChromium();
  });
  afterAll(async () => {
    killAllCli();
    await browser?.close();
    await server?.close();
    await orgshift?.close();
    await database?.drop();
  });

  it('shows live totals equal to status, drawn history, and failures linked to their verification', async () => {
    const page = await browser.context.newPage();
    const consoleErrors: string[] = [];
    const requests: string[] = [];
    page.on('console', (message: ConsoleMessage) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(`pageerror: ${error.message}`));
    page.on('request', (request) => requests.push(request.url()));

    // The page asks for the token before any data call.
    await page.goto(`${server.url}/dashboard`);
    await page.locator('#login').waitFor({ state: 'visible' });
    expect(await refreshesOf(page)).toBe(0);
    await page.fill('#admin-token', ADMIN_TOKEN);
    await page.fill('#api-token', API_TOKEN);
    await page.click('#login button[type=submit]');
    await page.waitForFunction(() => Number(document.body.dataset.refreshes) >= 1);
    expect(await page.locator('#login').isVisible()).toBe(false);
    const before = (await call(server.url, '/v1/admin/status', { headers: bearer(ADMIN_TOKEN) })).json as Record<
      string,
      unknown
    >;
    expect(await totalsOnPage(page)).toMatchObject(shownTotals(before));

    // One just-in-time read, then the backfill of everyone else in another process.
    const pending = await sql<{ id: string }>`select id from legacy_users where migrated_at is null and id <> ${broken}
      order by id limit 1`.execute(internalsOf(orgshift).db.kysely);
    expect((await call(server.url, `/v1/users/${pending.rows[0]?.id}`, { headers: bearer(API_TOKEN) })).status).toBe(
      200,
    );
    await orgshift.flushCounts();
    const backfill = await runCli(['backfill', '--batch-size', '100'], env);
    expect(backfill.code, backfill.stderr).toBe(0);
    // The audit, from yet another process: the page shows the last one whoever ran it.
    const audit = await runCli(['audit', '--json'], env);
    expect(audit.code, audit.stderr).toBe(0);
    const status = await orgshift.status();
    expect(status).toEqual({
      legacyTotal: USERS,
      migrated: USERS - 1,
      pending: 1,
      failed: 1,
      invalid: { nullKeys: 0, duplicateKeys: 0 },
      outbox: { pending: 0, retrying: 0, dead: 0, oldestPendingSeconds: null },
    });

    // The refresh in flight now may predate the backfill, and the next one may still get a document the
    // server built just before it ended (documents are reused for half an interval); the one after that
    // cannot. So three refreshes later, the page must show exactly what status shows.
    const seen = await refreshesOf(page);
    await page.waitForFunction((n) => Number(document.body.dataset.refreshes) >= n + 3, seen, {
      timeout: 20 * REFRESH_SECONDS * 1000,
    });
    expect(await totalsOnPage(page)).toEqual({
      ...shownTotals(status as unknown as Record<string, unknown>),
      percentMigrated: 99.9,
    });
    expect(await page.textContent('#audit-result')).toBe('clean');
    expect(await page.textContent('#audit-when')).toContain(
      `took ${Number(JSON.parse(audit.stdout).seconds).toFixed(1)} s`,
    );

    // The charts hold the history from the data (all of it inside the hour) and painted it.
    const drawn = await readCharts(page);
    expect(drawn.perMinute.reduce((sum, n) => sum + n, 0)).toBe(status.migrated);
    expect(drawn.perMinute.filter((n) => n > 0).length).toBeGreaterThanOrEqual(20);
    expect(drawn.cumulative.at(-1)).toBe(status.migrated);
    expect(drawn.perMinutePixels).toBeGreaterThan(100);
    expect(drawn.cumulativeRows[1] - drawn.cumulativeRows[0]).toBeGreaterThan(100);

    // Who migrated them, as every process counted it.
    const share = await createProgressQueries(internalsOf(orgshift).db, internalsOf(orgshift).sql).share();
    expect(share.just_in_time.migrated).toBe(1);
    expect(share.backfill.migrated).toBe(USERS - 2);
    expect(await page.textContent('#share-backfill-text')).toContain(share.backfill.migrated.toLocaleString('en-US'));

    // The failure's sample id links to its verification, shown in the page with the API token.
    const row = page.locator('#failures tr', { hasText: 'secret_undecryptable' });
    const link = row.locator(`a.user-id[data-user-id="${broken}"]`);
    expect(await link.getAttribute('href')).toBe(`/v1/users/${broken}/verification`);
    await link.click();
    await page.waitForFunction(() => document.getElementById('verification')?.dataset.status !== undefined);
    const direct = await call(server.url, `/v1/users/${broken}/verification`, { headers: bearer(API_TOKEN) });
    expect(await page.getAttribute('#verification', 'data-status')).toBe('200');
    expect(JSON.parse((await page.textContent('#verification-json')) ?? '')).toEqual(direct.json);

    mkdirSync(new URL('.', ARTIFACT), { recursive: true });
    await page.screenshot({ path: ARTIFACT.pathname, fullPage: true });

    expect(consoleErrors).toEqual([]);
    const origin = new URL(server.url).origin;
    expect(requests.length).toBeGreaterThan(5);
    expect(requests.filter((url) => new URL(url).origin !== origin)).toEqual([]);
    // The tokens went in headers only, never in a URL.
    expect(requests.filter((url) => url.includes(ADMIN_TOKEN) || url.includes(API_TOKEN))).toEqual([]);
  });
});
