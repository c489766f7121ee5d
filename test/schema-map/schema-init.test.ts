import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ParseError, parse } from 'jsonc-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { demoTableStatements } from '../../src/demo/demo-tables.js';
import type { ColumnInfo, TableInfo, TypeFamily } from '../../src/schema-map/catalog.js';
import { DEMO_MAP } from '../../src/schema-map/demo-map.js';
import { checkMap, parseMap } from '../../src/schema-map/load-map.js';
import { inspectMap } from '../../src/schema-map/schema-check.js';
import { draftMap, draftMapOf, type MapDraft, NothingToDraftError } from '../../src/schema-map/schema-init.js';
import { openHandsLayout, plainLayout, prismaLayout } from './support/layouts.js';
import { orgshiftCli, SCRATCH_DIALECTS, type ScratchDatabase } from './support/scratch-database.js';

// biome-ignore lint/suspicious/noExplicitAny: drafts are asserted as parsed JSON
type Json = any;

/** The draft as a person's editor and load-map.ts read it: comments allowed, nothing else forgiven. */
function parsed(draft: MapDraft): Json {
  const errors: ParseError[] = [];
  const value = parse(draft.text, errors, { allowTrailingComma: false, disallowComments: false });
  expect(errors).toEqual([]);
  // What the text says is what the value says, and each TODO is a comment in it.
  expect(value).toEqual(draft.map);
  expect(draft.text.split('\n').filter((line) => /^\s*\/\/ TODO: /.test(line))).toHaveLength(draft.todos.length);
  return value;
}

async function withScratch(
  dialect: (typeof SCRATCH_DIALECTS)[number],
  label: string,
  statements: (d: ScratchDatabase) => string[],
  body: (scratch: ScratchDatabase) => Promise<void>,
) {
  const scratch = await dialect.create(label);
  try {
    await scratch.run(statements(scratch));
    await body(scratch);
  } finally {
    await scratch.close();
  }
}

const errorsOf = (problems: readonly { severity: string }[]) => problems.filter((p) => p.severity === 'error');

for (const dialect of SCRATCH_DIALECTS) {
  const postgres = dialect.name === 'PostgreSQL';

  describe.skipIf(!dialect.available)(`schema init on ${dialect.name}`, () => {
    it('drafts the demo map from the demo tables, and the draft passes checkMap and schema check', async () => {
      await withScratch(
        dialect,
        'init_demo',
        (s) => demoTableStatements(s.db.sql),
        async (scratch) => {
          const draft = await draftMap(scratch.db.catalog, { source: 'the demo' });
          const map = parsed(draft);
          expect(draft.text).toContain(
            '// looks like the legacy users table: has an email column (email) and 2 tables reference it (api_keys, conversations).',
          );
          // PostgreSQL declares the target ids uuid, so the text key is taken for a UUID (a TODO); SQLite stores both as text.
          expect(map.legacy).toEqual({ ...DEMO_MAP.legacy, key: { column: 'id', type: postgres ? 'uuid' : 'text' } });
          expect(map.target.shape).toBe('moved');
          const { fields: _orgFields, ...org } = DEMO_MAP.target.org;
          expect(map.target.org).toMatchObject(org);
          expect(map.target.org.fields).toMatchObject({
            name: { template: '{display_name|email|key} (personal)' },
            contact_email: { column: 'email' },
            settings: { column: 'settings' },
          });
          const { fields: _userFields, ...user } = DEMO_MAP.target.user;
          expect(map.target.user).toMatchObject(user);
          expect(map.target.user.fields).toMatchObject({
            email: { column: 'email' },
            display_name: { column: 'display_name' },
          });
          const { fields: _memberFields, ...membership } = DEMO_MAP.target.membership;
          expect(map.target.membership).toMatchObject(membership);
          expect(map.target.membership.fields.api_key_enc).toEqual({
            secret: 'api_key_enc',
            from: 'legacy',
            to: 'target',
          });
          expect(map.dependents).toEqual([...(DEMO_MAP.dependents ?? [])].reverse());
          expect(Object.keys(map.codecs)).toEqual(['legacy', 'target']);
          // PostgreSQL also sees settings and preferences as JSON, and drafts preferences from all of settings.
          expect(draft.todos.map((t) => t.path)).toEqual([
            ...(postgres ? ['legacy.key'] : []),
            'target.org.kind',
            ...(postgres ? ['target.user.fields.preferences'] : []),
            'target.membership.status',
            'codecs',
          ]);

          const loaded = checkMap(map, 'draft');
          const inspection = await inspectMap(loaded.model, scratch.db.catalog);
          expect(inspection.problems).toEqual([]);
          expect(inspection.resolved).not.toBeNull();
        },
      );
    });

    it('drafts an in-place map from a Prisma layout (quoted camelCase, text ids, string roles)', async () => {
      await withScratch(
        dialect,
        'init_prisma',
        () => prismaLayout(),
        async (scratch) => {
          const draft = await draftMap(scratch.db.catalog);
          const map = parsed(draft);
          expect(draft.text).toContain('bookkeeping tables ignored: _prisma_migrations');
          expect(map.legacy).toEqual({
            table: 'User',
            key: { column: 'id', type: 'text' },
            marker: { type: 'derived' },
          });
          expect(map.target).toEqual({
            shape: 'in-place',
            org: {
              table: 'Organization',
              id: { column: 'id', generate: 'random-text' },
              name: 'name',
              owner: 'ownerId',
              fields: {
                name: { template: '{name|email|key} (personal)' },
                slug: { slug: '{name|email|key}', unique: true },
                createdAt: { column: 'createdAt' },
              },
            },
            user: { currentOrg: 'organizationId', email: 'email', displayName: 'name' },
            membership: {
              table: 'Membership',
              org: 'organizationId',
              user: 'userId',
              id: { column: 'id', generate: 'random-text' },
              role: { column: 'role', owner: 'owner' },
            },
          });
          expect(map.dependents).toEqual([
            { table: 'Project', userKey: { column: 'userId' }, org: { column: 'organizationId' } },
          ]);
          expect(map.codecs).toBeUndefined();
          expect(draft.todos.map((t) => t.path)).toEqual([
            'legacy.marker',
            'target.org.owner',
            'target.membership.role',
          ]);

          // The one TODO schema check also refuses: a personal org is found by its owner, which must be unique.
          const inspection = await inspectMap(checkMap(map, 'draft').model, scratch.db.catalog);
          expect(errorsOf(inspection.problems)).toEqual([
            expect.objectContaining({ path: 'target.org.owner', object: 'Organization(ownerId)' }),
          ]);
          await scratch.run(['create unique index "Organization_ownerId_key" on "Organization" ("ownerId")']);
          const again = await draftMap(scratch.db.catalog);
          expect(again.todos.map((t) => t.path)).toEqual(['legacy.marker', 'target.membership.role']);
          expect(
            errorsOf((await inspectMap(checkMap(parsed(again), 'draft').model, scratch.db.catalog)).problems),
          ).toEqual([]);
        },
      );
    });

    it('drafts a moved map from an OpenHands-like layout (Keycloak ids, boolean marker, a copied dependent)', async () => {
      await withScratch(
        dialect,
        'init_openhands',
        () => openHandsLayout(dialect.name),
        async (scratch) => {
          const draft = await draftMap(scratch.db.catalog);
          const map = parsed(draft);
          expect(draft.text).toContain('bookkeeping tables ignored: alembic_version');
          expect(draft.text).toContain(
            '// keycloak_user_id is an indexed user id (the primary key id looks like a surrogate).',
          );
          expect(map.legacy).toEqual({
            table: 'user_settings',
            key: { column: 'keycloak_user_id', type: 'uuid' },
            marker: { type: 'boolean', column: 'already_migrated' },
          });
          expect(map.target.shape).toBe('moved');
          expect(map.target.org).toMatchObject({
            table: 'org',
            id: { column: 'id', generate: 'user-key' },
            name: 'name',
          });
          expect(map.target.org.fields).toEqual({
            name: { template: '{key} (personal)' },
            contact_email: { column: 'email' },
            mcp_config: { column: 'mcp_config' },
            _search_api_key: { secret: 'search_api_key', from: 'legacy', to: 'target' },
          });
          expect(map.target.user).toEqual({
            table: 'user',
            id: 'id',
            currentOrg: 'current_org_id',
            email: 'email',
            fields: {
              accepted_tos: { column: 'accepted_tos' },
              language: { column: 'language' },
              email: { column: 'email' },
            },
          });
          expect(map.target.membership).toEqual({
            table: 'org_member',
            org: 'org_id',
            user: 'user_id',
            role: { table: 'role', column: 'role_id', id: 'id', name: 'name', rank: 'rank', owner: 'owner' },
            status: { column: 'status', active: 'active' },
            fields: {
              _llm_api_key: { secret: 'llm_api_key', from: 'legacy', to: 'target' },
              llm_model: { column: 'llm_model' },
            },
          });
          expect(map.dependents).toEqual([
            { table: 'api_keys', userKey: { column: 'user_id' }, org: { column: 'org_id' } },
            {
              table: 'conversation_metadata',
              userKey: { column: 'user_id' },
              copyTo: {
                table: 'conversation_metadata_saas',
                columns: {
                  conversation_id: { column: 'conversation_id' },
                  user_id: { userKey: true },
                  org_id: { orgId: true },
                },
                conflict: ['conversation_id'],
              },
            },
            { table: 'slack_users', userKey: { column: 'keycloak_user_id' }, org: { column: 'org_id' } },
            { table: 'stripe_customers', userKey: { column: 'keycloak_user_id' }, org: { column: 'org_id' } },
          ]);
          expect(draft.todos.map((t) => t.path)).toEqual([
            'legacy.key',
            'target.membership.status',
            'dependents.1.copyTo',
            'codecs',
          ]);
          const inspection = await inspectMap(checkMap(map, 'draft').model, scratch.db.catalog);
          expect(errorsOf(inspection.problems)).toEqual([]);
        },
      );
    });
  });
}

describe('orgshift schema init (CLI)', { timeout: 240_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'orgshift-init-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const sqlite = SCRATCH_DIALECTS[0] as (typeof SCRATCH_DIALECTS)[number];

  it('exits 0 on a draft with nothing to guess, and `schema check` accepts the file it wrote', async () => {
    await withScratch(
      sqlite,
      'cli_plain',
      () => plainLayout(),
      async (scratch) => {
        const out = join(dir, 'plain.map.json');
        const init = orgshiftCli(['schema', 'init', '--out', out], { ORGSHIFT_DATABASE_URL: scratch.url });
        expect(init.stderr).not.toContain('TODO');
        expect(init.code).toBe(0);
        expect(init.stdout).toBe('');
        expect(parseMap(readFileSync(out, 'utf8'), out).map.legacy.table).toBe('accounts');
        const check = orgshiftCli(['schema', 'check'], { ORGSHIFT_DATABASE_URL: scratch.url, ORGSHIFT_MAP: out });
        expect(check.stdout).toContain('ok, the database has everything the map names');
        expect(check.code).toBe(0);

        // An existing file is not overwritten without --force.
        const again = orgshiftCli(['schema', 'init', '--out', out], { ORGSHIFT_DATABASE_URL: scratch.url });
        expect(again.code).toBe(2);
        expect(again.stderr).toContain(`${out} exists; pass --force`);
      },
    );
  });

  it('prints the draft and exits 1 while it has TODOs, listing them on stderr', async () => {
    await withScratch(
      sqlite,
      'cli_demo',
      (s) => demoTableStatements(s.db.sql),
      async (scratch) => {
        const run = orgshiftCli(['schema', 'init'], { ORGSHIFT_DATABASE_URL: scratch.url });
        expect(run.code).toBe(1);
        expect(run.stderr).toContain('the draft has 3 TODOs to resolve');
        expect(run.stderr).toContain('  target.org.kind: check the values');
        expect(run.stdout).toBe((await draftMap(scratch.db.catalog, { source: scratch.url })).text);
      },
    );
  });

  it('exits 2, creating nothing, when there is no database to read', () => {
    const missing = join(dir, 'missing.db');
    const run = orgshiftCli(['schema', 'init'], { ORGSHIFT_DATABASE_URL: `sqlite:${missing}` });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`no SQLite database at ${missing}`);
    expect(existsSync(missing)).toBe(false);

    const empty = join(dir, 'empty.db');
    writeFileSync(empty, '');
    const nothing = orgshiftCli(['schema', 'init'], { ORGSHIFT_DATABASE_URL: `sqlite:${empty}` });
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('nothing to draft a map from');

    const unreachable = orgshiftCli(['schema', 'init'], {
      ORGSHIFT_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere',
    });
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toContain('database_unavailable');
    expect(unreachable.stderr).not.toMatch(/\n\s+at /);
  });
});

// ---------------------------------------------------------------- over a fake catalog

function column(name: string, family: TypeFamily, options: Partial<ColumnInfo> = {}): ColumnInfo {
  return { name, type: family, family, nullable: true, hasDefault: false, generated: false, ...options };
}

function table(
  schema: string,
  name: string,
  columns: ColumnInfo[],
  primaryKey: string[] = [],
  references: [string, string][] = [],
): TableInfo {
  return {
    name: { schema, name },
    columns,
    indexes:
      primaryKey.length > 0
        ? [{ name: `${name}_pkey`, columns: primaryKey, unique: true, primary: true, partial: false }]
        : [],
    foreignKeys: references.map(([from, to]) => ({
      name: `${name}_${from}_fkey`,
      table: { schema, name },
      columns: [from],
      references: { schema, name: to },
      referencedColumns: ['id'],
      onDelete: 'no action' as const,
    })),
  };
}

const FAKE_DATABASE = {
  defaultSchema: 'public',
  storage: { timestamp: ['timestamptz'], boolean: ['boolean'] },
} as const;

describe('draftMapOf (fake catalog)', () => {
  it('refuses a database with only bookkeeping tables', () => {
    const tables = [
      table('public', '_prisma_migrations', [column('id', 'text')]),
      table('public', 'orgshift_schema_versions', [column('name', 'text')]),
    ];
    expect(() => draftMapOf(tables, FAKE_DATABASE)).toThrow(NothingToDraftError);
  });

  it('qualifies tables outside the default schema, and a newline in a name cannot end a comment', () => {
    const tables = [
      table('app', 'orgs', [column('id', 'uuid', { nullable: false }), column('name', 'text')], ['id']),
      table(
        'app',
        'users',
        [column('id', 'uuid', { nullable: false }), column('e\nmail', 'text'), column('current_org_id', 'uuid')],
        ['id'],
        [['current_org_id', 'orgs']],
      ),
      table(
        'app',
        'org_members',
        [column('org_id', 'uuid'), column('user_id', 'uuid'), column('role', 'text')],
        [],
        [
          ['org_id', 'orgs'],
          ['user_id', 'users'],
        ],
      ),
      table(
        'public',
        'people',
        [column('id', 'uuid', { nullable: false }), column('e\nmail', 'text'), column('migrated_at', 'timestamptz')],
        ['id'],
      ),
    ];
    const draft = draftMapOf(tables, FAKE_DATABASE);
    const map = parsed(draft);
    expect(map.legacy.table).toBe('people');
    expect(map.target.org.table).toBe('app.orgs');
    expect(map.target.user.table).toBe('app.users');
    expect(map.target.membership).toMatchObject({ table: 'app.org_members', org: 'org_id', user: 'user_id' });
    expect(map.target.user.email).toBe('e\nmail');
    // The newline became a second comment line, not JSON: the value above parsed to the same map.
    expect(draft.text).toContain('// looks like the legacy users table: has an email column (e\n  // mail)');
  });
  it('takes a marker only of a type that holds one in this database (a text migrated_at is no marker on PostgreSQL)', () => {
    const legacy = table(
      'public',
      'users',
      [column('id', 'text', { nullable: false }), column('email', 'text'), column('migrated_at', 'text')],
      ['id'],
    );
    const onPostgres = draftMapOf([legacy], FAKE_DATABASE);
    expect(parsed(onPostgres).legacy.marker).toEqual({ type: 'derived' });
    expect(onPostgres.text).toContain('// migrated_at (text) cannot hold a timestamp or a boolean in this database');
    expect(onPostgres.todos.map((t) => t.path)).toContain('legacy.marker');
    const onSqlite = draftMapOf([legacy], { ...FAKE_DATABASE, storage: { timestamp: ['text'], boolean: ['integer'] } });
    expect(parsed(onSqlite).legacy.marker).toEqual({ type: 'timestamp', column: 'migrated_at' });
  });
});
