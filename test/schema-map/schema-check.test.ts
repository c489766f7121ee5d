import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoTableStatements } from '../../src/demo/demo-tables.js';
import { DEMO_MAP } from '../../src/schema-map/demo-map.js';
import { checkMap } from '../../src/schema-map/load-map.js';
import { inspectMap, type SchemaProblem } from '../../src/schema-map/schema-check.js';
import type { SchemaMap } from '../../src/schema-map/schema-map.js';
import { TEST_LEGACY_KEY, TEST_SECRET_KEY } from '../support/open-test.js';
import { orgshiftCli, SCRATCH_DIALECTS, type ScratchDatabase } from './support/scratch-database.js';

// biome-ignore lint/suspicious/noExplicitAny: broken maps are edited as plain JSON
type Editable = any;

/** The demo map, deep-copied and broken by `edit`. */
function broken(edit: (map: Editable) => void): SchemaMap {
  const map = structuredClone(DEMO_MAP) as Editable;
  edit(map);
  return map;
}

const dir = mkdtempSync(join(tmpdir(), 'orgshift-schema-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function mapFile(name: string, content: string | SchemaMap): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
}

const KEYS = { ORGSHIFT_LEGACY_KEY: TEST_LEGACY_KEY, ORGSHIFT_SECRET_KEY: TEST_SECRET_KEY };

const problem = (severity: SchemaProblem['severity'], path: string, object: string, message: RegExp) =>
  expect.objectContaining({ severity, path, object, message: expect.stringMatching(message) });

for (const dialect of SCRATCH_DIALECTS) {
  const postgres = dialect.name === 'PostgreSQL';

  // Each broken map against the untouched demo tables names its problem by map path and database object.
  describe.skipIf(!dialect.available)(`schema check on ${dialect.name}`, { timeout: 240_000 }, () => {
    let scratch: ScratchDatabase;
    beforeAll(async () => {
      scratch = await dialect.create('schema_check');
      await scratch.run(demoTableStatements(scratch.db.sql));
    });
    afterAll(() => scratch?.close());

    const problemsOf = async (map: SchemaMap) =>
      (await inspectMap(checkMap(map, 'broken').model, scratch.db.catalog)).problems;

    it('finds nothing wrong with the demo map', async () => {
      expect(await problemsOf(DEMO_MAP)).toEqual([]);
    });

    it('names a missing table and a missing column', async () => {
      expect(await problemsOf(broken((m) => (m.legacy.table = 'legacy_userz')))).toEqual([
        problem('error', 'legacy.table', 'legacy_userz', /^table does not exist$/),
      ]);
      expect(await problemsOf(broken((m) => (m.target.user.email = 'e_mail')))).toEqual([
        problem('error', 'target.user.email', 'users.e_mail', /^column does not exist$/),
      ]);
    });

    it('names a column of the wrong type', async () => {
      const timestampOnText = await problemsOf(
        broken((m) => (m.legacy.marker = { type: 'timestamp', column: 'email' })),
      );
      // SQLite has no timestamp type: timestamps live in text columns there; on PostgreSQL a text marker is a mistake.
      expect(timestampOnText).toEqual(
        postgres
          ? [
              problem(
                'error',
                'legacy.marker.column',
                'legacy_users.email',
                /^has type text; expected a timestamp type$/,
              ),
            ]
          : [],
      );
      expect(await problemsOf(broken((m) => (m.legacy.marker = { type: 'boolean', column: 'email' })))).toEqual([
        problem('error', 'legacy.marker.column', 'legacy_users.email', /^has type text; expected a boolean type$/i),
      ]);
      const uuidKeyOnInteger = await problemsOf(
        broken((m) => {
          m.legacy.table = 'conversations';
          m.legacy.marker = { type: 'derived' };
          m.dependents = [];
        }),
      );
      expect(uuidKeyOnInteger).toContainEqual(
        problem(
          'error',
          'legacy.key.column',
          'conversations.id',
          /^has type (bigint|integer); expected a column that can hold uuid keys$/i,
        ),
      );
      expect(await problemsOf(broken((m) => (m.dependents[0].userKey.column = 'id')))).toContainEqual(
        problem(
          'error',
          'dependents.0.userKey.column',
          'conversations.id',
          /^has type (bigint|integer), but legacy_users.id is text$/i,
        ),
      );
    });

    it('names an unindexed legacy key, with a fix that works', async () => {
      const problems = await problemsOf(broken((m) => (m.legacy.key.column = 'email')));
      expect(problems).toEqual([
        {
          severity: 'index',
          path: 'legacy.key.column',
          object: 'legacy_users(email)',
          message: 'no index: every read and every migration looks a user up by it',
          fix: 'create index "legacy_users_email_idx" on "legacy_users" ("email");',
        },
      ]);
      await scratch.run([problems[0]?.fix as string]);
      expect(await problemsOf(broken((m) => (m.legacy.key.column = 'email')))).toEqual([]);
      await scratch.run(['drop index legacy_users_email_idx']);
    });

    it("names an unindexed dependent's user key and an unindexed foreign key; each fix restores a clean check", async () => {
      await scratch.run(['drop index conversations_user_id_idx']);
      const dependent = await problemsOf(DEMO_MAP);
      expect(dependent).toEqual([
        {
          severity: 'index',
          path: 'dependents.0.userKey.column',
          object: 'conversations(user_id)',
          message: "no index: a migration finds a user's rows by it",
          fix: 'create index "conversations_user_id_idx" on "conversations" ("user_id");',
        },
      ]);
      await scratch.run([dependent[0]?.fix as string]);

      await scratch.run(['drop index users_current_org_id_idx']);
      const foreignKey = await problemsOf(DEMO_MAP);
      expect(foreignKey).toEqual([
        problem(
          'index',
          'target.user.table',
          'users(current_org_id)',
          /^no index: foreign key \S+ → orgs is not indexed$/,
        ),
      ]);
      expect(foreignKey[0]?.fix).toBe('create index "users_current_org_id_idx" on "users" ("current_org_id");');
      await scratch.run([foreignKey[0]?.fix as string]);
      expect(await problemsOf(DEMO_MAP)).toEqual([]);
    });

    it('names a NOT NULL target column the map gives no value', async () => {
      expect(await problemsOf(broken((m) => delete m.target.user.fields.email))).toEqual([
        problem(
          'error',
          'target.user.fields',
          'users.email',
          /^is NOT NULL without a default, and the map gives it no value$/,
        ),
      ]);
    });

    it('names a missing unique index the fence relies on (org id, user id)', async () => {
      const orgId = await problemsOf(
        broken((m) => {
          m.target.org.id.column = 'contact_email';
          delete m.target.org.fields.contact_email;
        }),
      );
      expect(orgId).toContainEqual(
        problem('error', 'target.org.id.column', 'orgs(contact_email)', /^no unique index: org ids must be unique$/),
      );
      expect(orgId.find((p) => p.path === 'target.org.id.column')?.fix).toBe(
        'create unique index "orgs_contact_email_idx" on "orgs" ("contact_email");',
      );
      const userId = await problemsOf(
        broken((m) => {
          m.target.user.id = 'display_name';
          delete m.target.user.fields.display_name;
        }),
      );
      expect(userId).toContainEqual(
        problem('error', 'target.user.id', 'users(display_name)', /^no unique index: a user row per key/),
      );
    });

    it('names a marker the map lets `db migrate` add, until it is added', async () => {
      const map = broken((m) => (m.legacy.marker = { type: 'timestamp', column: 'migrated_on', add: true }));
      expect(await problemsOf(map)).toEqual([
        problem(
          'error',
          'legacy.marker.column',
          'legacy_users.migrated_on',
          /^column does not exist yet; `orgshift db migrate` adds it/,
        ),
      ]);
    });

    it('`orgshift schema check` prints every problem and exits 2; exits 0 on the example demo map', () => {
      const file = mapFile(
        `broken-${dialect.name}.map.json`,
        broken((m) => {
          m.target.user.email = 'e_mail';
          m.legacy.marker = { type: 'boolean', column: 'email' };
          m.dependents[1].userKey.column = 'name';
        }),
      );
      const env = { ...KEYS, ORGSHIFT_DATABASE_URL: scratch.url, ORGSHIFT_MAP: file };
      const run = orgshiftCli(['schema', 'check'], env);
      expect(run.code).toBe(2);
      expect(run.stdout).toContain('error  target.user.email  users.e_mail: column does not exist');
      // SQLite shows a type as declared (TEXT), PostgreSQL as it names it (text).
      expect(run.stdout).toMatch(
        /error {2}legacy\.marker\.column {2}legacy_users\.email: has type text; expected a boolean type/i,
      );
      expect(run.stdout).toContain(
        "index  dependents.1.userKey.column  api_keys(name): no index: a migration finds a user's rows by it",
      );
      expect(run.stdout).toContain('       fix: create index "api_keys_name_idx" on "api_keys" ("name");');
      expect(run.stdout).toContain(`3 problems in ${file}`);

      const json = orgshiftCli(['schema', 'check', '--json'], env);
      expect(json.code).toBe(2);
      expect(JSON.parse(json.stdout)).toMatchObject({
        ok: false,
        map: file,
        problems: expect.arrayContaining([problem('error', 'target.user.email', 'users.e_mail', /./)]),
      });

      const example = orgshiftCli(['schema', 'check'], { ...env, ORGSHIFT_MAP: 'examples/demo/orgshift.map.json' });
      expect(example.stdout).toContain('examples/demo/orgshift.map.json: ok');
      expect(example.code).toBe(0);
    });
  });
}

describe('a map file orgshift cannot load', { timeout: 240_000 }, () => {
  const check = (file: string) =>
    orgshiftCli(['schema', 'check'], {
      ...KEYS,
      ORGSHIFT_DATABASE_URL: `sqlite:${join(dir, 'unused.db')}`,
      ORGSHIFT_MAP: file,
    });

  it('exits 2 naming the file and where its JSON breaks', () => {
    const file = mapFile('syntax.map.json', '{\n  "version": 1,\n  "legacy": { "table": "legacy_users" \n}\n');
    const run = check(file);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      new RegExp(
        `${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: is not valid JSON \\(\\w+ at line \\d+, column \\d+\\)`,
      ),
    );
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 naming the file and the map path of a broken rule', () => {
    const owner = check(
      mapFile(
        'owner.map.json',
        broken((m) => (m.target.org.id.generate = 'uuid')),
      ),
    );
    expect(owner.code).toBe(2);
    expect(owner.stderr).toContain(`owner.map.json: target.org.owner: is required when the org id is not the user key`);

    const own = check(
      mapFile(
        'own-table.map.json',
        broken((m) =>
          m.dependents.push({ table: 'orgshift_outbox', userKey: { column: 'user_id' }, org: { column: 'org_id' } }),
        ),
      ),
    );
    expect(own.code).toBe(2);
    expect(own.stderr).toContain(
      `own-table.map.json: dependents.2.table: "orgshift_outbox" is named like one of orgshift's own tables`,
    );
  });
});
