import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'jsonc-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateInPlaceData, type InPlaceManifest } from '../../examples/in-place/generate.js';
import { applyInPlaceSchema } from '../../examples/in-place/schema.js';
import { loadConfig, type OrgshiftConfig } from '../../src/config/config.js';
import type { MigrateReport } from '../../src/db/migrate.js';
import { inspectDatabase, migrateDatabase, type Orgshift, open } from '../../src/orgshift.js';
import type { SchemaMap } from '../../src/schema-map/schema-map.js';
import { TEST_SECRET_KEY } from '../support/open-test.js';
import { IN_PLACE_SETUPS, type InPlaceSetup, rowsOf } from './support/in-place-setups.js';

/**
 * The in-place (Prisma) fixture with a map that lets `db migrate` add a
 * marker column, on a database where some users are already in the new
 * shape (the app created them with their personal org). Adding the column
 * must not make them pending: the statement that adds it is followed, in
 * the same transaction, by one that marks them; the backfill then migrates
 * exactly the legacy users, and verification tells the two kinds apart.
 * The variant also maps a field onto the user row itself, which the audit
 * and deep verification compare for the users orgshift migrated.
 */
const MAP = new URL('../../examples/in-place/orgshift.map.json', import.meta.url);
const USERS = 300;
const NATIVE = 25;

const MARKERS = [
  { type: 'timestamp', column: 'orgshiftMigratedAt' },
  { type: 'boolean', column: 'orgshiftMigrated' },
] as const;

const CASES = IN_PLACE_SETUPS.flatMap((setup) => MARKERS.map((marker) => ({ setup, marker, name: setup.name })));

function variantMap(marker: (typeof MARKERS)[number]): SchemaMap {
  const map = parse(readFileSync(MAP, 'utf8')) as SchemaMap;
  return {
    ...map,
    $schema: undefined,
    legacy: { ...map.legacy, marker: { ...marker, add: true } },
    target: {
      ...map.target,
      // In place a user field is a column of the user row itself: here, its locale copied into "timezone".
      user: { ...map.target.user, fields: { timezone: { column: 'locale' } } },
    },
  };
}

describe.each(CASES)('an added $marker.type marker on the in-place fixture on $name', ({ setup, marker }) => {
  describe.skipIf(!setup.available)('', () => {
    let db: InPlaceSetup;
    let dir: string;
    let manifest: InPlaceManifest;
    let config: OrgshiftConfig;
    let dry: MigrateReport;
    let orgshift: Orgshift;
    const rows = (text: string, ...params: unknown[]) => rowsOf(orgshift, text, ...params);
    /** Whether schema check still misses the marker column (it does until `db migrate` adds it). */
    const markerMissing = async () =>
      (await inspectDatabase(config)).some((p) => p.object === `User.${marker.column}` && p.severity === 'error');

    beforeAll(async () => {
      db = await setup.create(`in_place_${marker.type}`);
      await applyInPlaceSchema(db.target);
      manifest = await generateInPlaceData(db.target, {
        users: USERS + NATIVE,
        nativeUsers: NATIVE,
        seed: 13,
        sqliteTimestamps: 'iso8601',
      });
      if (db.target.kind === 'sqlite') db.target.db.close();
      dir = mkdtempSync(join(tmpdir(), 'orgshift-in-place-marker-'));
      const path = join(dir, 'orgshift.map.json');
      writeFileSync(path, JSON.stringify(variantMap(marker)));
      config = loadConfig({ ORGSHIFT_DATABASE_URL: db.url, ORGSHIFT_MAP: path, ORGSHIFT_SECRET_KEY: TEST_SECRET_KEY });
      dry = await migrateDatabase(config, { dryRun: true });
    });
    afterAll(async () => {
      await orgshift?.close();
      await db?.close();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    it('db migrate --dry-run shows the column, the update that marks the users already in the new shape, and the index; and changes nothing', async () => {
      expect(dry.changes).toEqual([
        expect.stringMatching(new RegExp(`^alter table "User" add column (if not exists )?"${marker.column}" `)),
        expect.stringMatching(
          new RegExp(`^update "User" as l set "${marker.column}" = .+ where \\(l\\."organizationId" is not null\\)$`),
        ),
        expect.stringMatching(/^create index if not exists orgshift_pending_/),
      ]);
      expect(await markerMissing()).toBe(true);
    });

    it('db migrate adds the column and marks, in one go, exactly the users already in the new shape', async () => {
      const report = await migrateDatabase(config);
      expect(report.changes).toEqual(dry.changes);
      expect(await markerMissing()).toBe(false);
      orgshift = await open(config);
      expect(await orgshift.status()).toMatchObject({
        legacyTotal: manifest.counts.users,
        migrated: manifest.counts.nativeUsers,
        pending: manifest.counts.legacyUsers,
        failed: 0,
      });
      // A second run finds the column and marks nothing again (the index statement is idempotent).
      const again = (await migrateDatabase(config)).changes;
      expect(again.filter((c) => !c.startsWith('create index if not exists'))).toEqual([]);
    });

    it('the backfill migrates the legacy users only, and the audit is clean', async () => {
      const report = await orgshift.backfill();
      expect(report).toMatchObject({ migrated: manifest.counts.legacyUsers, failed: 0, invalidKeys: 0 });
      expect(await orgshift.status()).toMatchObject({ migrated: manifest.counts.users, pending: 0, failed: 0 });
      const audit = await orgshift.audit();
      expect(audit.violations).toEqual([]);
      // The user field is a column: compared in SQL, so not among the fields left to `verify`.
      expect(audit.notChecked.map((n) => n.reason).join('\n')).not.toContain('target.user.fields.timezone');
    });

    it('verification says which users the app created and which orgshift migrated', async () => {
      for (const id of manifest.nativeUserIds.slice(0, 3)) {
        expect(await orgshift.verifyUser(id)).toEqual({ ok: true, state: 'native', violations: [] });
      }
      for (const sample of manifest.samples.filter((s) => s.kind === 'legacy').slice(0, 3)) {
        expect(await orgshift.verifyUser(sample.id)).toEqual({ ok: true, state: 'migrated', violations: [] });
      }
    });

    it('compares a field of the user row with its source, in the audit and in deep verification', async () => {
      const id = manifest.samples.find((s) => s.kind === 'legacy')?.id as string;
      await rows(`update "User" set "timezone" = ? where "id" = ?`, 'Mars/Olympus_Mons', id);
      expect((await orgshift.audit()).violations).toEqual([{ code: 'field_mismatch', count: 1, sample: [id] }]);
      expect(await orgshift.verifyUser(id)).toEqual({
        ok: false,
        state: 'migrated',
        violations: [{ code: 'field_mismatch', message: '"User"."timezone" differs from its legacy source' }],
      });
      await rows(`update "User" set "timezone" = "locale" where "id" = ?`, id);
      expect((await orgshift.audit()).violations).toEqual([]);
    });
  });
});
