import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  generateOpenHandsData,
  type OpenHandsManifest,
  openHandsLegacyCodecSpec,
} from '../../examples/openhands/generate.js';
import { SECRET_COLUMNS } from '../../examples/openhands/legacy-user.js';
import { DEPENDENT_TABLES, DEPENDENT_USER_KEY } from '../../examples/openhands/tables.js';
import { SecretUndecryptableError } from '../../src/errors.js';
import { createSecretCodec } from '../../src/secrets/create-secret-codec.js';
import { looksLikeFernetToken } from '../../src/secrets/fernet-codec.js';
import { createTestDatabase, describePostgres, type TestDatabase } from '../support/services.js';

const SCHEMA = readFileSync(new URL('../../examples/openhands/schema.sql', import.meta.url), 'utf8');
const USERS = 1_000;
const env = (manifest: OpenHandsManifest) => ({ OPENHANDS_JWT_SECRET: manifest.jwtSecret });
const byValue = (a: unknown, b: unknown) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0);
const sorted = <T>(values: Iterable<T>) => [...values].sort(byValue);

async function loadFixture(label: string, users: number, seed: number) {
  const database = await createTestDatabase(label);
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  await pool.query(SCHEMA);
  const manifest = await generateOpenHandsData(pool, { users, seed });
  return { database, pool, manifest };
}

describePostgres('the OpenHands fixture', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let manifest: OpenHandsManifest;
  const column = async (sql: string, params: unknown[] = []) =>
    (await pool.query(sql, params)).rows.map((row) => Object.values(row)[0]);

  beforeAll(async () => {
    ({ database, pool, manifest } = await loadFixture('openhands_fixture', USERS, 7));
  });
  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });

  it('loads the schema with the seeded roles and empty target tables', async () => {
    expect((await pool.query('select id, name, rank from role order by id')).rows).toEqual([
      { id: 1, name: 'owner', rank: 10 },
      { id: 2, name: 'admin', rank: 20 },
      { id: 3, name: 'user', rank: 1000 },
    ]);
    for (const table of ['org', '"user"', 'org_member', 'conversation_metadata_saas']) {
      expect(await column(`select count(*)::int from ${table}`), table).toEqual([0]);
    }
  });

  it('inserted exactly the rows the manifest counts, none yet attached to an org', async () => {
    expect(manifest.counts.user_settings).toBe(USERS);
    for (const [table, count] of Object.entries(manifest.counts)) {
      expect(await column(`select count(*)::int from ${table}`), table).toEqual([count]);
    }
    for (const table of DEPENDENT_TABLES.filter((t) => t !== 'conversation_metadata')) {
      expect(await column(`select count(*)::int from ${table} where org_id is not null`), table).toEqual([0]);
    }
    expect(await column('select count(*)::int from user_settings where already_migrated')).toEqual([0]);
  });

  it('lists the valid, NULL and duplicated Keycloak ids exactly', async () => {
    const valid = await column(
      'select keycloak_user_id from user_settings where keycloak_user_id is not null group by 1 having count(*) = 1',
    );
    expect(sorted(manifest.ids.valid)).toEqual(sorted(valid));
    expect(manifest.ids.valid.length).toBeGreaterThan(USERS * 0.95);

    expect(manifest.ids.nullRowIds).toEqual(
      await column('select id from user_settings where keycloak_user_id is null order by id'),
    );
    expect(manifest.ids.nullRowIds.length).toBeGreaterThan(0);

    const duplicated = (
      await pool.query(
        `select keycloak_user_id, array_agg(id order by id) as row_ids from user_settings
         where keycloak_user_id is not null group by 1 having count(*) > 1`,
      )
    ).rows.map((row) => ({ keycloakUserId: row.keycloak_user_id, rowIds: row.row_ids }));
    const byId = (a: { keycloakUserId: string }, b: { keycloakUserId: string }) =>
      a.keycloakUserId.localeCompare(b.keycloakUserId);
    expect([...manifest.ids.duplicated].sort(byId)).toEqual(duplicated.sort(byId));
    expect(duplicated.length).toBeGreaterThan(0);
    expect(duplicated.every((d) => d.rowIds.length === 2)).toBe(true);
  });

  it('records which valid users have a NULL email, accepted_tos or migrated marker', async () => {
    const validWhere = async (condition: string) =>
      sorted(
        await column(`select keycloak_user_id from user_settings where keycloak_user_id = any($1) and ${condition}`, [
          manifest.ids.valid,
        ]),
      );
    expect(sorted(manifest.nullEmail)).toEqual(await validWhere('email is null'));
    expect(sorted(manifest.nullAcceptedTos)).toEqual(await validWhere('accepted_tos is null'));
    expect(sorted(manifest.nullMarker)).toEqual(await validWhere('already_migrated is null'));
    expect(manifest.nullEmail.length).toBeGreaterThan(USERS * 0.05);
    expect(manifest.nullAcceptedTos.length).toBeGreaterThan(USERS * 0.1);
  });

  it('splits each secret column into encrypted and plaintext values as the manifest says', async () => {
    for (const name of SECRET_COLUMNS) {
      const rows = (
        await pool.query(
          `select keycloak_user_id as id, ${name} as value from user_settings where keycloak_user_id = any($1)`,
          [manifest.ids.valid],
        )
      ).rows as { id: string; value: string | null }[];
      const shaped = rows.filter((row) => row.value !== null && looksLikeFernetToken(row.value)).map((row) => row.id);
      const plain = rows.filter((row) => row.value !== null && !looksLikeFernetToken(row.value)).map((row) => row.id);
      expect(sorted(manifest.secrets[name].encrypted), name).toEqual(sorted(shaped));
      expect(sorted(manifest.secrets[name].plaintext), name).toEqual(sorted(plain));
    }
    expect(manifest.secrets.llm_api_key.encrypted.length).toBeGreaterThan(USERS / 2);
    expect(manifest.secrets.llm_api_key.plaintext.length).toBeGreaterThan(USERS / 20);
    expect(manifest.secrets.sandbox_api_key.encrypted).toEqual([]);
  });

  it('decodes every encrypted secret with the OpenHands codec, and only plaintext passes without the fallback', async () => {
    const codec = createSecretCodec(openHandsLegacyCodecSpec(), env(manifest), 'legacy');
    const strict = createSecretCodec(
      { ...openHandsLegacyCodecSpec(), plaintextFallback: false },
      env(manifest),
      'legacy',
    );
    const values: { column: string; owner: string; value: string }[] = [];
    for (const name of SECRET_COLUMNS) {
      const rows = await pool.query(
        `select coalesce(keycloak_user_id, '') as owner, ${name} as value from user_settings where ${name} is not null`,
      );
      values.push(...rows.rows.map((row) => ({ column: name, owner: row.owner, value: row.value })));
    }
    const secrets = await pool.query('select keycloak_user_id as owner, secret_value, description from custom_secrets');
    for (const row of secrets.rows) {
      values.push({ column: 'secret_value', owner: row.owner, value: row.secret_value });
      if (row.description !== null) values.push({ column: 'description', owner: row.owner, value: row.description });
    }
    for (const { column: name, owner, value } of values) {
      const context = { ownerId: owner, column: name };
      const plaintext = codec.decode(value, context);
      if (looksLikeFernetToken(value)) {
        expect(strict.decode(value, context)).toBe(plaintext);
        expect(plaintext).not.toBe(value);
      } else {
        expect(plaintext).toBe(value);
        expect(() => strict.decode(value, context)).toThrow(SecretUndecryptableError);
      }
    }
    const valid = new Set(manifest.ids.valid);
    const settingsOfValid = values.filter(
      (v) => valid.has(v.owner) && (SECRET_COLUMNS as readonly string[]).includes(v.column),
    );
    expect(settingsOfValid.filter((v) => looksLikeFernetToken(v.value)).length).toBe(
      SECRET_COLUMNS.reduce((sum, name) => sum + manifest.secrets[name].encrypted.length, 0),
    );
    // OpenHands encrypts every custom secret's value and description.
    const custom = values.filter((v) => v.column === 'secret_value' || v.column === 'description');
    expect(custom.length).toBeGreaterThan(USERS / 4);
    expect(custom.every((v) => looksLikeFernetToken(v.value))).toBe(true);
  });

  it('keys every dependent row to a Keycloak id that has a user_settings row, and counts those of valid users', async () => {
    for (const table of DEPENDENT_TABLES) {
      const key = DEPENDENT_USER_KEY[table];
      expect(
        await column(
          `select count(*)::int from ${table} d where not exists (select 1 from user_settings u where u.keycloak_user_id = d.${key})`,
        ),
        table,
      ).toEqual([0]);
      expect(
        await column(`select count(*)::int from ${table} where ${key} = any($1)`, [manifest.ids.valid]),
        table,
      ).toEqual([manifest.dependentRowsOfValidUsers[table]]);
    }
  });

  it('describes each sample user exactly: settings, secrets, dependents and custom secrets', async () => {
    const codec = createSecretCodec(openHandsLegacyCodecSpec(), env(manifest), 'legacy');
    expect(manifest.samples).toHaveLength(20);
    expect(manifest.samples.some((s) => s.storage.llm_api_key === 'plaintext')).toBe(true);
    expect(manifest.samples.some((s) => s.storage.llm_api_key === 'encrypted')).toBe(true);
    expect(manifest.samples.some((s) => s.storage.llm_api_key === null)).toBe(true);
    expect(manifest.samples.some((s) => s.settings.email === null)).toBe(true);
    expect(manifest.samples.some((s) => s.settings.accepted_tos === null)).toBe(true);
    expect(manifest.samples.some((s) => s.customSecrets.length > 0)).toBe(true);

    for (const sample of manifest.samples) {
      const {
        rows: [row],
      } = await pool.query('select *, accepted_tos::text as accepted_tos from user_settings where id = $1', [
        sample.rowId,
      ]);
      expect(row).toEqual(sample.settings);
      expect(row.keycloak_user_id).toBe(sample.keycloakUserId);
      for (const name of SECRET_COLUMNS) {
        const stored = row[name] as string | null;
        const plaintext =
          stored === null ? null : codec.decode(stored, { ownerId: sample.keycloakUserId, column: name });
        expect(plaintext, name).toBe(sample.secrets[name]);
      }
      for (const table of DEPENDENT_TABLES) {
        const pk = table === 'conversation_metadata' ? 'conversation_id' : 'id';
        const keys = await column(`select ${pk} from ${table} where ${DEPENDENT_USER_KEY[table]} = $1`, [
          sample.keycloakUserId,
        ]);
        expect(keys.sort(byValue), table).toEqual([...sample.dependents[table]].sort(byValue));
      }
      const secrets = await pool.query(
        'select id, secret_name, secret_value, description from custom_secrets where keycloak_user_id = $1 order by id',
        [sample.keycloakUserId],
      );
      expect(
        secrets.rows.map((s) => ({
          id: s.id,
          name: s.secret_name,
          value: codec.decode(s.secret_value, { ownerId: sample.keycloakUserId, column: 'secret_value' }),
          description:
            s.description === null
              ? null
              : codec.decode(s.description, { ownerId: sample.keycloakUserId, column: 'description' }),
        })),
      ).toEqual(sample.customSecrets);
    }
  });
});

describePostgres('the OpenHands fixture generator', () => {
  it('writes the same database for the same seed and a different one for another seed', async () => {
    const loads = await Promise.all([
      loadFixture('openhands_seed_a', 200, 3),
      loadFixture('openhands_seed_b', 200, 3),
      loadFixture('openhands_seed_c', 200, 4),
    ]);
    try {
      const fingerprint = async (pool: pg.Pool) => {
        const parts: string[] = [];
        for (const table of ['user_settings', ...DEPENDENT_TABLES]) {
          const pk = table === 'conversation_metadata' ? 'conversation_id' : 'id';
          parts.push(
            (await pool.query(`select md5(string_agg(t::text, '|' order by ${pk})) as h from ${table} t`)).rows[0].h,
          );
        }
        return parts.join(',');
      };
      const [a, b, c] = await Promise.all(loads.map((load) => fingerprint(load.pool)));
      expect(a).toBe(b);
      expect(a).not.toBe(c);
      expect(loads[0]!.manifest).toEqual(loads[1]!.manifest);
    } finally {
      for (const load of loads) {
        await load.pool.end();
        await load.database.drop();
      }
    }
  });
});
