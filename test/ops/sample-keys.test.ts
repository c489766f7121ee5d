import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleKeys } from '../../src/ops/sample-keys.js';
import { internalsOf, type Orgshift } from '../../src/orgshift.js';
import { BACKENDS, type BackendInstance } from '../support/backends.js';
import { openTest } from '../support/open-test.js';

describe.each(BACKENDS.filter((b) => b.name !== 'PostgreSQL + redis lock'))('sample ids on $name', (backend) => {
  describe.skipIf(!backend.available)('', () => {
    let instance: BackendInstance;
    let orgshift: Orgshift;

    beforeAll(async () => {
      instance = await backend.setup('sample_ids');
      orgshift = await openTest({ ...instance.env });
    });
    afterAll(async () => {
      await orgshift?.close();
      await instance?.teardown();
    });

    const sampleLegacyIds = (o: Orgshift, n: number) => {
      const { db, sql } = internalsOf(o);
      return sampleKeys(db, sql, n);
    };

    it('lists users still to migrate first, then migrated ones, each in id order, at most the cap', async () => {
      await orgshift.seed({ users: 6 });
      // Nothing migrated yet: every id, in order.
      const all = await sampleLegacyIds(orgshift, 100);
      expect(all).toHaveLength(6);
      expect([...all].sort()).toEqual(all);
      expect(await sampleLegacyIds(orgshift, 0)).toEqual([]);
      const migrated = [all[0], all[3]] as string[];
      for (const id of migrated) await orgshift.getUser(id);
      const pending = all.filter((id) => !migrated.includes(id));
      expect(await sampleLegacyIds(orgshift, 3)).toEqual(pending.slice(0, 3));
      expect(await sampleLegacyIds(orgshift, 5)).toEqual([...pending, migrated[0]]);
      expect(await sampleLegacyIds(orgshift, 1_000)).toEqual([...pending, ...migrated]);
    });
  });
});
