import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateOpenHandsData,
  OPENHANDS_TEST_JWT_SECRET,
  type OpenHandsManifest,
  openHandsLegacyCodecSpec,
} from '../../examples/openhands/generate.js';
import { loadConfig, type OrgshiftConfig } from '../../src/config/config.js';
import { isOrgshiftError } from '../../src/errors.js';
import { createServer } from '../../src/http/create-server.js';
import { createLogger } from '../../src/http/logger.js';
import { sampleKeys } from '../../src/ops/sample-keys.js';
import { inspectDatabase, internalsOf, migrateDatabase, type Orgshift, open } from '../../src/orgshift.js';
import { createSecretCodec } from '../../src/secrets/create-secret-codec.js';
import { createTestDatabase, describePostgres, type TestDatabase } from '../support/services.js';

/**
 * OpenHands' real enterprise layout (examples/openhands/schema.sql, from its
 * alembic migrations), realistic legacy data (NULL emails and accepted_tos,
 * Fernet-encrypted and plaintext keys, NULL and duplicated Keycloak ids),
 * and the map in examples/openhands/orgshift.map.json, with nothing but
 * configuration: just-in-time reads, a backfill, the audit, deep
 * verification of every field against its legacy source, a rollback, an
 * exact status, the refusals counted and named.
 */
const SCHEMA = readFileSync(new URL('../../examples/openhands/schema.sql', import.meta.url), 'utf8');
const MAP = fileURLToPath(new URL('../../examples/openhands/orgshift.map.json', import.meta.url));
const USERS = 600;
const env = { OPENHANDS_JWT_SECRET: OPENHANDS_TEST_JWT_SECRET };
const legacyCodec = createSecretCodec(openHandsLegacyCodecSpec(), env, 'test');
const orgCodec = createSecretCodec(
  { codec: 'jwe', key: { env: 'OPENHANDS_JWT_SECRET' }, derive: 'sha256', kid: 'base62-sha256' },
  env,
  'test',
);

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return isOrgshiftError(error) ? error.code : `unexpected: ${String(error)}`;
  }
}

describePostgres('the OpenHands map, end to end', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let manifest: OpenHandsManifest;
  let config: OrgshiftConfig;
  let orgshift: Orgshift;
  const one = async (text: string, params: unknown[] = []) => (await pool.query(text, params)).rows[0];
  const scalar = async (text: string, params: unknown[] = []) => Number(Object.values(await one(text, params))[0]);

  beforeAll(async () => {
    database = await createTestDatabase('openhands_map');
    pool = new pg.Pool({ connectionString: database.url, max: 2 });
    await pool.query(SCHEMA);
    manifest = await generateOpenHandsData(pool, { users: USERS, seed: 11 });
    config = loadConfig({ ORGSHIFT_DATABASE_URL: database.url, ORGSHIFT_MAP: MAP, ORGSHIFT_LOCK: 'postgres', ...env });
  });
  afterAll(async () => {
    await orgshift?.close();
    await pool?.end();
    await database?.drop();
  });

  it('schema check names the indexes OpenHands lacks; db migrate adds them (the map opts in) and nothing else', async () => {
    const before = await inspectDatabase(config);
    expect(before.every((p) => p.severity === 'index')).toBe(true);
    expect(before.map((p) => p.object)).toEqual(
      expect.arrayContaining([
        'slack_conversation(keycloak_user_id)',
        'billing_sessions(user_id)',
        'conversation_metadata(user_id)',
      ]),
    );
    const columnsBefore = await scalar(`select count(*) from information_schema.columns where table_schema = 'public'`);
    const report = await migrateDatabase(config);
    expect(report.changes.every((c) => c.startsWith('create index if not exists'))).toBe(true);
    expect(await inspectDatabase(config)).toEqual([]);
    const own = await scalar(
      `select count(*) from information_schema.columns where table_schema = 'public' and table_name like 'orgshift%'`,
    );
    expect(await scalar(`select count(*) from information_schema.columns where table_schema = 'public'`)).toBe(
      columnsBefore + own,
    );
    orgshift = await open(config);
  });

  it('counts exactly, and says how many rows no migration can take', async () => {
    expect(await orgshift.status()).toEqual({
      legacyTotal: USERS,
      migrated: 0,
      pending: manifest.ids.valid.length,
      failed: 0,
      invalid: { nullKeys: manifest.ids.nullRowIds.length, duplicateKeys: manifest.ids.duplicated.length * 2 },
      // No webhook and no handler: no event is written.
      outbox: { pending: 0, retrying: 0, dead: 0, oldestPendingSeconds: null },
    });
  });

  it('offers as sample ids only keys a migration can take: each once, never NULL or shared by several rows', async () => {
    const { db, sql: m } = internalsOf(orgshift);
    const sample = await sampleKeys(db, m, USERS);
    expect(new Set(sample).size).toBe(sample.length);
    const shared = manifest.ids.duplicated.map((d) => d.keycloakUserId);
    expect(shared.length).toBeGreaterThan(0);
    expect(sample.filter((id) => shared.includes(id))).toEqual([]);
    // Every valid key, pending ones first: nothing usable is left out either.
    expect([...sample].sort()).toEqual([...manifest.ids.valid].sort());
    expect(await sampleKeys(db, m, 5)).toEqual(sample.slice(0, 5));
  });

  it('migrates just in time, every field faithful to its legacy source, NULL kept NULL, secrets re-encrypted for OpenHands', async () => {
    for (const sample of manifest.samples.slice(0, 8)) {
      const id = sample.keycloakUserId;
      const user = await orgshift.getUser(id);
      expect(user.currentOrg).toEqual({ id, kind: 'personal', name: `user_${id}_org` });
      expect(user.memberships).toEqual([{ org: user.currentOrg, role: { name: 'owner', rank: 10 }, status: 'active' }]);
      expect(await orgshift.verifyUser(id)).toEqual({ ok: true, state: 'migrated', violations: [] });

      const row = await one(`select email, accepted_tos::text as tos, language from "user" where id = $1`, [id]);
      expect(row.email).toBe(sample.settings.email ?? null);
      expect(row.tos).toBe(sample.settings.accepted_tos ?? null);
      expect(user.email).toBe(sample.settings.email ?? null);
      const member = await one(`select _llm_api_key, _llm_api_key_for_byor from org_member where user_id = $1`, [id]);
      expect(orgCodec.decode(member._llm_api_key, { ownerId: id, column: '_llm_api_key' })).toBe(
        sample.secrets.llm_api_key,
      );
      const byor = member._llm_api_key_for_byor;
      expect(byor === null ? null : orgCodec.decode(byor, { ownerId: id, column: 'byor' })).toBe(
        sample.secrets.llm_api_key_for_byor,
      );
      const org = await one(`select _sandbox_api_key, default_llm_model, org_version from org where id = $1`, [id]);
      const sandbox = org._sandbox_api_key;
      expect(sandbox === null ? null : orgCodec.decode(sandbox, { ownerId: id, column: 'sandbox' })).toBe(
        sample.secrets.sandbox_api_key,
      );
      expect(org.default_llm_model).toBe(sample.settings.llm_model ?? null);
      const copies = await scalar(
        'select count(*) from conversation_metadata_saas where user_id = $1 and org_id = $1',
        [id],
      );
      expect(copies).toBe(sample.dependents.conversation_metadata.length);
      expect(
        await scalar('select count(*) from api_keys where user_id = $1 and org_id is distinct from $1::uuid', [id]),
      ).toBe(0);
    }
  });

  it('backfills the rest, refuses NULL and shared keys by name, and the audit is clean', async () => {
    const report = await orgshift.backfill();
    const jit = 8;
    expect(report).toMatchObject({
      migrated: manifest.ids.valid.length - jit,
      failed: 0,
      invalidKeys: manifest.ids.nullRowIds.length + manifest.ids.duplicated.length,
    });
    expect(await orgshift.status()).toEqual({
      legacyTotal: USERS,
      migrated: manifest.ids.valid.length,
      pending: 0,
      failed: manifest.ids.nullRowIds.length + manifest.ids.duplicated.length,
      invalid: { nullKeys: manifest.ids.nullRowIds.length, duplicateKeys: manifest.ids.duplicated.length * 2 },
      // No webhook and no handler: no event is written.
      outbox: { pending: 0, retrying: 0, dead: 0, oldestPendingSeconds: null },
    });
    const failures = (await pool.query('select kind, subject, code from orgshift_migration_failures order by 1, 2'))
      .rows;
    expect(failures).toEqual(
      [
        ...manifest.ids.duplicated.map((d) => ({
          kind: 'key',
          subject: d.keycloakUserId,
          code: 'legacy_key_duplicate',
        })),
        ...manifest.ids.nullRowIds.map((rowId) => ({ kind: 'row', subject: String(rowId), code: 'legacy_key_null' })),
      ].sort((a, b) => (a.kind + a.subject < b.kind + b.subject ? -1 : 1)),
    );
    const audit = await orgshift.audit();
    expect(audit.violations).toEqual([]);
    const duplicated = manifest.ids.duplicated[0]?.keycloakUserId as string;
    expect(await codeOf(orgshift.getUser(duplicated))).toBe('legacy_key_duplicate');
    expect(await codeOf(orgshift.getUser('00000000-0000-4000-8000-000000000000'))).toBe('user_not_found');
    for (const sample of manifest.samples) {
      expect(await orgshift.verifyUser(sample.keycloakUserId), sample.keycloakUserId).toEqual({
        ok: true,
        state: 'migrated',
        violations: [],
      });
    }
    // Every user's rows moved: no dependent of a valid user left outside its org.
    for (const table of ['stripe_customers', 'slack_users', 'slack_conversation', 'custom_secrets']) {
      expect(
        await scalar(`select count(*) from ${table} d join user_settings l on l.keycloak_user_id = d.keycloak_user_id
        where l.already_migrated and d.org_id is distinct from l.keycloak_user_id::uuid`),
      ).toBe(0);
    }
  });

  it('compares the membership fields that come from a legacy column, in the audit and in deep verification', async () => {
    const id = manifest.samples[1]?.keycloakUserId as string;
    const { max_iterations: before } = await one('select max_iterations from org_member where user_id = $1', [id]);
    await pool.query('update org_member set max_iterations = coalesce(max_iterations, 0) + 1 where user_id = $1', [id]);
    try {
      const audit = await orgshift.audit();
      expect(audit.violations).toEqual([{ code: 'field_mismatch', count: 1, sample: [id] }]);
      expect(await orgshift.verifyUser(id)).toEqual({
        ok: false,
        state: 'migrated',
        violations: [
          { code: 'field_mismatch', message: '"org_member"."max_iterations" differs from its legacy source' },
        ],
      });
    } finally {
      await pool.query('update org_member set max_iterations = $2 where user_id = $1', [id, before]);
    }
    expect((await orgshift.audit()).violations).toEqual([]);
  });

  it('names every mapped field the audit leaves to deep verification, and why', async () => {
    const { notChecked } = await orgshift.audit();
    const named = (code: string) =>
      notChecked
        .filter((n) => n.code === code)
        .flatMap((n) => (n.reason.split(': ')[0] ?? '').split(', '))
        .sort();
    // Templates are computed in JavaScript; secrets must be decoded; every other field is compared in SQL.
    expect(named('field_mismatch')).toEqual(['target.org.fields.name']);
    expect(named('secret_mismatch')).toEqual(
      [
        'target.org.fields._search_api_key',
        'target.org.fields._sandbox_api_key',
        'target.membership.fields._llm_api_key',
        'target.membership.fields._llm_api_key_for_byor',
      ].sort(),
    );
    expect(notChecked.every((n) => n.reason.includes('orgshift verify <id>'))).toBe(true);
  });

  it('answers a shared key over HTTP with 409 legacy_key_duplicate, a status the route documents', async () => {
    const app = await createServer(orgshift, { logger: createLogger({ level: 'silent' }) });
    try {
      const duplicated = manifest.ids.duplicated[0]?.keycloakUserId as string;
      const answer = await app.inject({ method: 'GET', url: `/v1/users/${duplicated}` });
      expect([answer.statusCode, answer.json().error.code]).toEqual([409, 'legacy_key_duplicate']);
      const doc = app.swagger() as unknown as { paths: Record<string, { get: { responses: object } }> };
      expect(doc.paths['/v1/users/{id}']?.get.responses).toHaveProperty('409');
    } finally {
      await app.close();
    }
  });

  it('rolls a user back to its legacy row, secrets readable by OpenHands again, and migrates it again on the next read', async () => {
    const sample = manifest.samples[0];
    if (sample === undefined) throw new Error('no sample');
    const id = sample.keycloakUserId;
    const dry = await orgshift.rollbackUser(id, { dryRun: true });
    expect(dry).toMatchObject({
      dryRun: true,
      discarded: [],
      copiesDeleted: sample.dependents.conversation_metadata.length,
    });
    expect(await scalar('select count(*) from org where id = $1', [id])).toBe(1);
    const report = await orgshift.rollbackUser(id);
    expect(report).toEqual({ ...dry, dryRun: false });
    const legacy = await one(
      'select already_migrated, llm_api_key, email from user_settings where keycloak_user_id = $1',
      [id],
    );
    expect(legacy.already_migrated).toBe(false);
    expect(legacy.email).toBe(sample.settings.email ?? null);
    const key = legacy.llm_api_key;
    expect(key === null ? null : legacyCodec.decode(key, { ownerId: id, column: 'llm_api_key' })).toBe(
      sample.secrets.llm_api_key,
    );
    expect(await scalar('select count(*) from conversation_metadata_saas where user_id = $1', [id])).toBe(0);
    expect(await scalar('select count(*) from api_keys where user_id = $1 and org_id is not null', [id])).toBe(0);
    expect(await scalar('select count(*) from "user" where id = $1', [id])).toBe(0);

    await orgshift.getUser(id);
    expect(await orgshift.verifyUser(id)).toEqual({ ok: true, state: 'migrated', violations: [] });
    expect((await orgshift.audit()).violations).toEqual([]);
  });
});

describe('the OpenHands map file', () => {
  it('loads, and names only codec keys that come from the environment', () => {
    const config = loadConfig({ ORGSHIFT_MAP: MAP, ORGSHIFT_DATABASE_URL: 'postgres://x@127.0.0.1/y', ...env });
    expect(config.map.model.dependents).toHaveLength(7);
    expect(Object.keys(config.keys.env)).toEqual(['OPENHANDS_JWT_SECRET']);
  });
});
