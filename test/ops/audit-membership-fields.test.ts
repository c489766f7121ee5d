import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { internalsOf, type Orgshift } from '../../src/orgshift.js';
import { DEMO_MAP } from '../../src/schema-map/demo-map.js';
import type { SchemaMap } from '../../src/schema-map/schema-map.js';
import { BACKENDS, type BackendInstance } from '../support/backends.js';
import { openTest } from '../support/open-test.js';

/**
 * A membership field taken from a legacy column (the demo tables, with the
 * membership's created_at copied from the legacy row's): the audit compares
 * it in SQL like the user's and the org's, on both databases, and a
 * membership that no longer matches is found, once, by its user.
 */
const MAP: SchemaMap = {
  ...DEMO_MAP,
  target: {
    ...DEMO_MAP.target,
    membership: {
      ...DEMO_MAP.target.membership,
      fields: { ...DEMO_MAP.target.membership.fields, created_at: { column: 'created_at' } },
    },
  },
};

describe.each(BACKENDS.filter((b) => b.name !== 'PostgreSQL + redis lock'))(
  'membership fields in the audit on $name',
  (backend) => {
    describe.skipIf(!backend.available)('', () => {
      let instance: BackendInstance;
      let dir: string;
      let orgshift: Orgshift;
      let ids: string[];

      beforeAll(async () => {
        instance = await backend.setup('audit_member_fields');
        // The demo's tables first (only the built-in map creates them), then the variant map on them.
        await (await openTest({ ...instance.env })).close();
        dir = mkdtempSync(join(tmpdir(), 'orgshift-member-fields-'));
        const path = join(dir, 'orgshift.map.json');
        writeFileSync(path, JSON.stringify(MAP));
        orgshift = await openTest({ ...instance.env, ORGSHIFT_MAP: path });
        ids = (await orgshift.seed({ users: 12 })).sampleIds.slice();
        expect(await orgshift.backfill()).toMatchObject({ migrated: 12, failed: 0 });
      });
      afterAll(async () => {
        await orgshift?.close();
        await instance?.teardown();
        if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      });

      it('compares a membership field that comes from a legacy column, and names it nowhere in notChecked', async () => {
        const clean = await orgshift.audit();
        expect(clean.violations).toEqual([]);
        expect(clean.notChecked.map((n) => n.reason).join('\n')).not.toContain('target.membership.fields.created_at');
        const id = ids[2] as string;
        const { db } = internalsOf(orgshift);
        await sql`update org_members set created_at = ${db.sql.bindValue('2001-02-03T04:05:06.000Z')}
          where user_id = ${id}`.execute(db.kysely);
        expect((await orgshift.audit()).violations).toEqual([{ code: 'field_mismatch', count: 1, sample: [id] }]);
        expect(await orgshift.verifyUser(id)).toEqual({
          ok: false,
          state: 'migrated',
          violations: [
            { code: 'field_mismatch', message: '"org_members"."created_at" differs from its legacy source' },
          ],
        });
      });
    });
  },
);
