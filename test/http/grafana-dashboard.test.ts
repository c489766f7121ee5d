import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/http/metrics.js';
import { internalsOf, type Orgshift } from '../../src/orgshift.js';
import { openTest } from '../support/open-test.js';
import { call } from './support/http-client.js';
import { type LocalServer, listenLocal } from './support/local-server.js';

interface Target {
  readonly expr: string;
  readonly legendFormat?: string;
}
interface Panel {
  readonly title: string;
  readonly type: string;
  readonly targets?: readonly Target[];
  readonly panels?: readonly Panel[];
}

const DASHBOARD = JSON.parse(readFileSync(new URL('../../dashboards/orgshift.json', import.meta.url), 'utf8')) as {
  readonly uid: string;
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly { readonly definition?: string }[] };
};
/** Labels Prometheus adds when it scrapes: never in /metrics itself. */
const SCRAPE_LABELS = new Set(['instance', 'job']);
const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset']);

/** The metric names and grouping labels of one PromQL expression. */
function parsePromQl(expr: string): { metrics: string[]; groupBy: string[] } {
  const groupBy: string[] = [];
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without)\s*\(([^)]*)\)/g, (_match, list: string) => {
      groupBy.push(...list.split(',').map((label) => label.trim()));
      return ' ';
    })
    .replace(/\b(?:on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  // An identifier not followed by "(" is a metric name; one followed by "(" is a function.
  const metrics = [...bare.matchAll(/(?<![\w:.])([a-zA-Z_:][\w:]*)(?![\w:]|\s*\()/g)]
    .map((m) => m[1] as string)
    .filter((name) => !PROMQL_WORDS.has(name));
  return { metrics, groupBy: groupBy.filter((label) => label !== '') };
}

function targetsOf(panels: readonly Panel[]): { panel: string; target: Target }[] {
  return panels.flatMap((panel) => [
    ...(panel.targets ?? []).map((target) => ({ panel: panel.title, target })),
    ...targetsOf(panel.panels ?? []),
  ]);
}

/** Sample name → the label names seen on it, from the Prometheus text format. */
function scrapeSamples(text: string): Map<string, Set<string>> {
  const samples = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const name = /^[a-zA-Z_:][\w:]*/.exec(line)?.[0] as string;
    const labels = samples.get(name) ?? new Set<string>();
    const braces = /^[^{ ]*\{(.*)\}/.exec(line)?.[1] ?? '';
    for (const m of braces.matchAll(/(\w+)="/g)) labels.add(m[1] as string);
    samples.set(name, labels);
  }
  return samples;
}

describe('the Grafana dashboard', () => {
  let orgshift: Orgshift;
  let server: LocalServer;
  let samples: Map<string, Set<string>>;

  beforeAll(async () => {
    const metrics = createMetrics();
    orgshift = await openTest({ ORGSHIFT_DATABASE_URL: 'sqlite::memory:' }, { observer: metrics.observer });
    await orgshift.seed({ users: 3, dependents: 1 });
    server = await listenLocal(orgshift, { metrics });
    // One just-in-time migration over HTTP, so the labelled histograms have samples too.
    const { rows } = await sql<{ id: string }>`select id from legacy_users limit 1`.execute(
      internalsOf(orgshift).db.kysely,
    );
    expect((await call(server.url, `/v1/users/${rows[0]?.id}`)).status).toBe(200);
    const scraped = await call(server.url, '/metrics');
    expect(scraped.status).toBe(200);
    samples = scrapeSamples(scraped.text);
  });
  afterAll(async () => {
    await server?.close();
    await orgshift?.close();
  });

  it('parses PromQL into metric names and grouping labels', () => {
    expect(
      parsePromQl(
        'histogram_quantile(0.99, sum by (le, route) (rate(a_seconds_bucket{instance=~"$x",b="sum(c)"}[$__rate_interval])))',
      ),
    ).toEqual({ metrics: ['a_seconds_bucket'], groupBy: ['le', 'route'] });
    expect(parsePromQl('sum(increase(x_total[1h])) / on (job) y')).toEqual({ metrics: ['x_total', 'y'], groupBy: [] });
  });

  it('has panels over lookups, migrations, lock waits, verification failures and HTTP latency', () => {
    const used = new Set(targetsOf(DASHBOARD.panels).flatMap(({ target }) => parsePromQl(target.expr).metrics));
    for (const metric of [
      'orgshift_user_lookups_total',
      'orgshift_migrations_total',
      'orgshift_lock_wait_seconds_bucket',
      'orgshift_verification_failures_total',
      'orgshift_http_request_duration_seconds_bucket',
    ]) {
      expect(used, metric).toContain(metric);
    }
    expect(DASHBOARD.uid).toBe('orgshift');
  });

  it('queries only metrics that /metrics of a running server exposes, grouped by labels they carry', () => {
    const targets = targetsOf(DASHBOARD.panels);
    expect(targets.length).toBeGreaterThanOrEqual(15);
    for (const { panel, target } of targets) {
      const { metrics, groupBy } = parsePromQl(target.expr);
      expect(metrics.length, `${panel}: ${target.expr}`).toBeGreaterThan(0);
      const carried = new Set<string>(SCRAPE_LABELS);
      for (const metric of metrics) {
        expect(samples.has(metric), `${panel}: ${metric} is not in /metrics`).toBe(true);
        for (const label of samples.get(metric) ?? []) carried.add(label);
      }
      for (const label of groupBy) expect(carried, `${panel}: no label ${label} on ${metrics}`).toContain(label);
      // A legend can only name a label the query keeps.
      for (const m of (target.legendFormat ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)) {
        expect([...groupBy, ...(groupBy.length === 0 ? carried : [])], `${panel}: legend ${m[1]}`).toContain(m[1]);
      }
    }
    for (const variable of DASHBOARD.templating.list) {
      const metric = /label_values\((\w+),/.exec(variable.definition ?? '')?.[1];
      if (metric !== undefined) expect(samples.has(metric), metric).toBe(true);
    }
  });
});
