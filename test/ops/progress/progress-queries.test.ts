import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordFailure } from '../../../src/migration/failure-log.js';
import type { AuditReport } from '../../../src/ops/audit.js';
import { lastAuditRun, recordAuditRun } from '../../../src/ops/progress/audit-runs.js';
import { MigrationCounter } from '../../../src/ops/progress/migration-counter.js';
import { sampledCountsHistory } from '../../../src/ops/progress/migration-history.js';
import { createProgressQueries, type ProgressQueries } from '../../../src/ops/progress/progress-queries.js';
import { progressReport } from '../../../src/ops/progress/progress-report.js';
import { internalsOf, type Orgshift } from '../../../src/orgshift.js';
import { BACKENDS, type BackendInstance } from '../../support/backends.js';
import { openTest } from '../../support/open-test.js';
import { legacyIds } from '../support/tables.js';

const backends = BACKENDS.filter((b) => b.name !== 'PostgreSQL + redis lock');
/** Long enough never to tick during a test: every flush below is explicit. */
const NO_TIMER = { countsFlushMs: 3_600_000 };
const minuteOf = (ms: number) => Math.floor(ms / 60_000) * 60;

describe.each(backends)('progress queries on $name', (backend) => {
  describe.skipIf(!backend.available)('', () => {
    let instance: BackendInstance;
    let orgshift: Orgshift;
    let queries: ProgressQueries;
    let ids: string[];

    beforeAll(async () => {
      instance = await backend.setup('progress');
      orgshift = await openTest({ ...instance.env }, NO_TIMER);
      await orgshift.seed({ users: 60, dependents: 1 });
      ids = await legacyIds(orgshift);
      queries = createProgressQueries(internalsOf(orgshift).db, internalsOf(orgshift).sql);
    });
    afterAll(async () => {
      await orgshift?.close();
      await instance?.teardown();
    });

    /** Sets the legacy marker directly, as another process (or one before a restart) would have. */
    const markMigratedAt = async (users: readonly string[], at: Date) => {
      for (const id of users) {
        await sql`update legacy_users set migrated_at = ${at.toISOString()} where id = ${id}`.execute(
          internalsOf(orgshift).db.kysely,
        );
      }
    };

    it("counts the history from the legacy marker's timestamps, by minute, within the window only", async () => {
      const now = Date.now();
      const tenMinutesAgo = new Date(now - 10 * 60_000);
      const twoMinutesAgo = new Date(now - 2 * 60_000);
      await markMigratedAt(ids.slice(0, 3), tenMinutesAgo);
      await markMigratedAt(ids.slice(3, 8), twoMinutesAgo);
      await markMigratedAt(ids.slice(8, 10), new Date(now - 3 * 3600_000));

      const history = await queries.history.perMinute(60);
      expect(history.minutes).toEqual([
        { minute: minuteOf(tenMinutesAgo.getTime()), migrated: 3 },
        { minute: minuteOf(twoMinutesAgo.getTime()), migrated: 5 },
      ]);
      expect(Math.abs(history.now * 1000 - now)).toBeLessThan(60_000);

      // Another instance (a restarted server, another process) reads the same history: it lives in the data.
      const other = await openTest({ ...instance.env }, NO_TIMER);
      try {
        expect(
          await createProgressQueries(internalsOf(other).db, internalsOf(other).sql).history.perMinute(60),
        ).toMatchObject({
          minutes: history.minutes,
        });
      } finally {
        await other.close();
      }

      const report = await progressReport(queries, { windowMinutes: 60, samplesPerCode: 5 });
      expect(report.totals).toMatchObject({ legacyTotal: 60, migrated: 10, pending: 50, percentMigrated: 16.6 });
      expect(report.history.source).toBe('marker_timestamp');
      expect(report.history.perMinute.reduce((a, b) => a + b, 0)).toBe(8);
      expect(report.history.cumulative.at(-1)).toBe(10);
      expect(report.history.cumulative[0]).toBe(2);
    });

    it('counts just-in-time and backfill migrations by source, written after the migration, added across processes', async () => {
      const before = await queries.share();
      const pending = await sql<{
        id: string;
      }>`select id from legacy_users where migrated_at is null order by id limit 1`
        .execute(internalsOf(orgshift).db.kysely)
        .then((r) => r.rows[0]?.id as string);
      await orgshift.getUser(pending);
      expect((await orgshift.backfill({ limit: 10 })).migrated).toBe(10);
      // Nothing is written with the migration itself: the counts wait for the flush.
      expect(await queries.share()).toEqual(before);
      await orgshift.flushCounts();
      expect(await queries.share()).toEqual({
        just_in_time: { migrated: before.just_in_time.migrated + 1, failed: 0 },
        backfill: { migrated: before.backfill.migrated + 10, failed: 0 },
      });

      const other = await openTest({ ...instance.env }, NO_TIMER);
      try {
        await other.backfill({ limit: 5 });
      } finally {
        await other.close(); // close flushes
      }
      expect((await queries.share()).backfill.migrated).toBe(before.backfill.migrated + 15);

      const sampled = await sampledCountsHistory(internalsOf(orgshift).db).perMinute(60);
      expect(sampled.minutes.reduce((sum, m) => sum + m.migrated, 0)).toBe(16);
    });

    it('keeps the counts of a failed flush for the next one, and never double-counts a dry run', async () => {
      const counter = new MigrationCounter(internalsOf(orgshift).db, { flushMs: 3_600_000 });
      const before = (await queries.share()).backfill;
      counter.add('backfill', 3, 1);
      await sql`alter table orgshift_migration_counts rename to orgshift_migration_counts_away`.execute(
        internalsOf(orgshift).db.kysely,
      );
      try {
        await expect(counter.flush()).rejects.toThrow();
      } finally {
        await sql`alter table orgshift_migration_counts_away rename to orgshift_migration_counts`.execute(
          internalsOf(orgshift).db.kysely,
        );
      }
      counter.add('backfill', 2);
      await counter.close();
      expect((await queries.share()).backfill).toEqual({ migrated: before.migrated + 5, failed: before.failed + 1 });

      await orgshift.backfill({ dryRun: true });
      await orgshift.flushCounts();
      expect((await queries.share()).backfill).toEqual({ migrated: before.migrated + 5, failed: before.failed + 1 });
    });

    it('groups open failures by code, largest first, with the latest few ids of each', async () => {
      const failing = ids.slice(40, 52);
      for (const [i, id] of failing.entries()) {
        await recordFailure(internalsOf(orgshift).db, {
          subject: id,
          code: i < 8 ? 'progress_test_a' : 'progress_test_b',
          message: 'test',
        });
      }
      // The newest failure of code a: it must lead its sample.
      const db = internalsOf(orgshift).db;
      await sql`update orgshift_migration_failures set last_at = ${db.sql.bindValue(new Date(Date.now() + 3_600_000))}
        where subject = ${failing[5] as string}`.execute(db.kysely);

      const summary = await queries.failures(3);
      const ours = summary.byCode.filter((g) => g.code.startsWith('progress_test_'));
      expect(ours.map((g) => [g.code, g.count, g.sample.length])).toEqual([
        ['progress_test_a', 8, 3],
        ['progress_test_b', 4, 3],
      ]);
      expect(ours[0]?.sample[0]).toBe(failing[5]);
      for (const group of ours) expect(failing).toEqual(expect.arrayContaining([...group.sample]));
      expect(summary.total).toBe((await orgshift.status()).failed);
    });

    it('records every audit from any instance, shows the last one, and keeps the last 100', async () => {
      expect(await queries.lastAudit()).toBeNull();
      const first = await orgshift.audit();
      const last = await queries.lastAudit();
      expect(last).toMatchObject({ ok: first.ok, seconds: first.seconds });
      expect(last?.violations).toEqual(first.violations.map(({ code, count }) => ({ code, count })));

      const other = await openTest({ ...instance.env }, NO_TIMER);
      try {
        const fake: AuditReport = {
          ok: false,
          violations: [{ code: 'personal_org_missing', count: 3, sample: [] }],
          checks: [],
          notChecked: [],
          seconds: 1.5,
        };
        for (let i = 0; i < 104; i++) await recordAuditRun(internalsOf(other).db, fake, Date.now() + 1000 + i);
      } finally {
        await other.close();
      }
      expect(await lastAuditRun(internalsOf(orgshift).db)).toMatchObject({
        ok: false,
        seconds: 1.5,
        violations: [{ code: 'personal_org_missing', count: 3 }],
      });
      const kept = await sql<{ n: number | string }>`select count(*) as n from orgshift_audit_runs`.execute(
        internalsOf(orgshift).db.kysely,
      );
      expect(Number(kept.rows[0]?.n)).toBe(100);
    });
  });
});
