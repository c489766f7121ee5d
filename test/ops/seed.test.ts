import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretCipher } from '../../src/crypto/secret-cipher.js';
import type { Orgshift } from '../../src/orgshift.js';
import { BACKENDS, type BackendInstance } from '../support/backends.js';
import { kyselyOf } from '../support/internals.js';
import { openTest, TEST_LEGACY_KEY } from '../support/open-test.js';

// One PostgreSQL combination is enough here: seeding does not touch the lock.
describe.each(BACKENDS.slice(0, 2))('seed on $name', (backend) => {
  describe.skipIf(!backend.available)('', () => {
    let instance: BackendInstance;
    let orgshift: Orgshift;
    beforeAll(async () => {
      instance = await backend.setup('seed');
      orgshift = await openTest({ ...instance.env });
    });
    afterAll(async () => {
      await orgshift?.close();
      await instance?.teardown();
    });

    it('inserts exactly N users and N×K rows per dependent table, in several batches', async () => {
      const report = await orgshift.seed({ users: 2_345, dependents: 3, batchSize: 1_000 });
      expect(report).toMatchObject({ users: 2_345, dependentRows: 2_345 * 3 * 2 });
      const counts = await sql<{
        users: string | number;
        emails: string | number;
        conversations: string | number;
        api_keys: string | number;
      }>`
        select (select count(*) from legacy_users) as users,
               (select count(distinct email) from legacy_users) as emails,
               (select count(*) from conversations) as conversations,
               (select count(*) from api_keys) as api_keys`.execute(kyselyOf(orgshift));
      expect(counts.rows[0] && Object.values(counts.rows[0]).map(Number)).toEqual([2_345, 2_345, 7_035, 7_035]);
      const perUser = await sql<{ n: string | number }>`
        select count(*) as n from (select user_id from conversations group by user_id having count(*) <> 3) x`.execute(
        kyselyOf(orgshift),
      );
      expect(Number(perUser.rows[0]?.n)).toBe(0);
    });

    it('writes realistic rows: UUID ids, org- and user-level settings, secrets under the legacy key', async () => {
      const rows = await sql<{ id: string; settings: unknown; api_key_enc: string | null }>`
        select id, settings, api_key_enc from legacy_users limit 50`.execute(kyselyOf(orgshift));
      const cipher = new SecretCipher(Buffer.from(TEST_LEGACY_KEY, 'base64'));
      for (const row of rows.rows) {
        expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        const settings = typeof row.settings === 'string' ? JSON.parse(row.settings) : row.settings;
        expect(Object.keys(settings)).toEqual(expect.arrayContaining(['theme', 'llm_model', 'llm_base_url']));
        if (row.api_key_enc !== null)
          expect(cipher.decrypt(row.api_key_enc, row.id)).toMatch(/^sk-legacy-[0-9a-f]{48}$/);
      }
      expect(rows.rows.filter((r) => r.api_key_enc !== null).length).toBeGreaterThan(25);
    });
  });
});
