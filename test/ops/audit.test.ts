import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditReport } from '../../src/ops/audit.js';
import type { Orgshift } from '../../src/orgshift.js';
import { openTest } from '../support/open-test.js';
import { createTestDatabase, hasPostgres, PG_ADMIN_URL, type TestDatabase } from '../support/services.js';
import { killAllCli, runCli } from './support/cli.js';
import { CORRUPTIONS, type Corruption, type Victims } from './support/corruptions.js';
import { legacyIds } from './support/tables.js';

const USERS = 50;

/** A clean, fully migrated database and a way to get a private copy of it per case. */
interface CleanCopies {
  readonly dialect: 'postgres' | 'sqlite';
  readonly env: Record<string, string>;
  copy(
    label: string,
  ): Promise<{ env: Record<string, string>; corrupt(statements: string[]): Promise<void>; drop(): Promise<void> }>;
  teardown(): Promise<void>;
}

async function seedClean(env: Record<string, string>): Promise<string[]> {
  const orgshift = await openTest(env);
  try {
    await orgshift.seed({ users: USERS, dependents: 1, apiKeyShare: 1 });
    const report = await orgshift.backfill();
    expect(report).toMatchObject({ migrated: USERS, failed: 0 });
    return await legacyIds(orgshift);
  } finally {
    await orgshift.close();
  }
}

async function postgresCopies(): Promise<CleanCopies> {
  const template: TestDatabase = await createTestDatabase('audit_clean');
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: PG_ADMIN_URL });
    await client.connect();
    await client.query(statement).finally(() => client.end());
  };
  return {
    dialect: 'postgres',
    env: { ORGSHIFT_DATABASE_URL: template.url, ORGSHIFT_LOCK: 'postgres' },
    async copy(label) {
      const name = `${template.name}_${label}`;
      await admin(`create database ${name} template ${template.name}`);
      const url = new URL(template.url);
      url.pathname = `/${name}`;
      return {
        env: { ORGSHIFT_DATABASE_URL: url.toString(), ORGSHIFT_LOCK: 'postgres' },
        async corrupt(statements) {
          const client = new pg.Client({ connectionString: url.toString() });
          await client.connect();
          try {
            // Triggers, and with them foreign-key enforcement, are off for this session only.
            await client.query('set session_replication_role = replica');
            for (const statement of statements) await client.query(statement);
          } finally {
            await client.end();
          }
        },
        drop: () => admin(`drop database if exists ${name} with (force)`),
      };
    },
    teardown: () => template.drop(),
  };
}

async function sqliteCopies(): Promise<CleanCopies> {
  const dir = mkdtempSync(join(tmpdir(), 'orgshift-audit-'));
  const file = join(dir, 'clean.db');
  return {
    dialect: 'sqlite',
    env: { ORGSHIFT_DATABASE_URL: `sqlite:${file}`, ORGSHIFT_LOCK: 'memory' },
    async copy(label) {
      const copy = join(dir, `copy-${label}.db`);
      const source = new BetterSqlite3(file);
      source.exec(`vacuum into '${copy}'`);
      source.close();
      return {
        env: { ORGSHIFT_DATABASE_URL: `sqlite:${copy}`, ORGSHIFT_LOCK: 'memory' },
        async corrupt(statements) {
          const db = new BetterSqlite3(copy);
          try {
            db.pragma('foreign_keys = off');
            for (const statement of statements) db.exec(statement);
          } finally {
            db.close();
          }
        },
        async drop() {
          rmSync(copy, { force: true });
        },
      };
    },
    async teardown() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const DIALECTS = [
  { name: 'SQLite', available: true, make: sqliteCopies },
  { name: 'PostgreSQL', available: hasPostgres, make: postgresCopies },
];

describe.each(DIALECTS)('audit on $name', ({ available, make }) => {
  describe.skipIf(!available)('', () => {
    let clean: CleanCopies;
    let victims: Victims;

    beforeAll(async () => {
      clean = await make();
      const ids = await seedClean(clean.env);
      victims = { user: ids[17] as string, other: ids[33] as string, stranger: randomUUID() };
    });

    afterAll(async () => {
      killAllCli();
      await clean?.teardown();
    });

    async function auditCopy(label: string, corruption: Corruption | null): Promise<AuditReport> {
      const copy = await clean.copy(label);
      let orgshift: Orgshift | undefined;
      try {
        if (corruption) await copy.corrupt(corruption.statements(clean.dialect, victims));
        orgshift = await openTest(copy.env, { migrate: false });
        return await orgshift.audit();
      } finally {
        await orgshift?.close();
        await copy.drop();
      }
    }

    it('finds nothing on a clean database, and every check ran', async () => {
      const report = await auditCopy('clean', null);
      expect(report.ok).toBe(true);
      expect(report.violations).toEqual([]);
      expect(report.checks.map((c) => c.code)).toEqual([
        'user_missing',
        'current_org_missing',
        'current_org_not_member',
        'membership_dangling',
        'personal_org_missing',
        'personal_org_membership',
        'legacy_not_marked',
        'dependent_unmigrated',
        'dependent_unmigrated',
        'email_mismatch',
        'settings_mismatch',
        'field_mismatch',
        'fk_unindexed',
      ]);
      // The org name is a template and the member key a secret: `verify` compares those per user.
      expect(report.notChecked).toEqual([
        { code: 'field_mismatch', reason: expect.stringMatching(/^target\.org\.fields\.name: computed in JavaScript/) },
        { code: 'secret_mismatch', reason: expect.stringMatching(/^target\.membership\.fields\.api_key_enc: secrets/) },
      ]);
    });

    it.each(CORRUPTIONS.map((c, i) => ({ ...c, index: i })))('detects: $name', async (corruption) => {
      const report = await auditCopy(`c${corruption.index}`, corruption);
      expect(report.ok).toBe(false);
      const found = report.violations.map((v) => ({ code: v.code, ...(v.table ? { table: v.table } : {}) }));
      expect(found).toEqual(corruption.expected);
      for (const violation of report.violations) {
        expect(violation.count).toBe(1);
        expect(violation.sample).toEqual(violation.code === 'fk_unindexed' ? ['org_members(role_id)'] : [victims.user]);
      }
    });

    it('gates a deploy: the CLI exits 1 with the JSON document when something is found, 0 when clean', async () => {
      const copy = await clean.copy('cli');
      try {
        const ok = await runCli(['audit', '--json'], copy.env);
        expect(ok.code, ok.stderr).toBe(0);
        expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, violations: [] });
        await copy.corrupt([`update users set email = 'x@example.com' where id = '${victims.other}'`]);
        const bad = await runCli(['audit', '--json'], copy.env);
        expect(bad.code).toBe(1);
        expect(JSON.parse(bad.stdout)).toMatchObject({
          ok: false,
          violations: [{ code: 'email_mismatch', count: 1, sample: [victims.other] }],
        });
      } finally {
        await copy.drop();
      }
    });
  });
});
