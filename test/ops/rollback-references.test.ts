import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isOrgshiftError } from '../../src/errors.js';
import { internalsOf, type Orgshift } from '../../src/orgshift.js';
import { type LocalServer, listenLocal } from '../http/support/local-server.js';
import { BACKENDS, type BackendInstance } from '../support/backends.js';
import { dbOf, kyselyOf } from '../support/internals.js';
import { openTest } from '../support/open-test.js';
import { killAllCli, runCli } from './support/cli.js';
import { legacyIds } from './support/tables.js';

/**
 * Rows of the team's own tables that point, through a foreign key, at what a
 * rollback deletes (the personal org, the user, the owner membership): the
 * rollback refuses, naming the table, and deletes nothing, whatever the
 * foreign key does on delete. Rows orgshift re-points itself (the mapped
 * dependents, which also reference orgs(id)) never cause a refusal. A dry run,
 * over HTTP and the CLI, reports what would be discarded and changes nothing.
 */

// One dialect each: the lock backend is not what is under test here.
const DIALECTS = [BACKENDS[0], BACKENDS[1]].filter((b) => b !== undefined);

interface Refusal {
  readonly status: number;
  readonly code: string | undefined;
  readonly message: string;
}

/** Every row of every table, as sorted JSON lines per table: two dumps are equal when nothing changed. */
async function dumpAll(orgshift: Orgshift): Promise<Record<string, string[]>> {
  const { db, sql: m } = internalsOf(orgshift);
  const dump: Record<string, string[]> = {};
  for (const table of await db.catalog.tables()) {
    const result = await sql<Record<string, unknown>>`select * from ${sql.raw(m.table(table))}`.execute(db.kysely);
    dump[table.name] = result.rows.map((row) => JSON.stringify(row)).sort();
  }
  return dump;
}

async function count(orgshift: Orgshift, table: string): Promise<number> {
  const result = await sql<{ n: number | string }>`select count(*) as n from ${sql.raw(table)}`.execute(
    kyselyOf(orgshift),
  );
  return Number(result.rows[0]?.n);
}

describe.each(DIALECTS)('rollback and foreign keys on $name', (backend) => {
  describe.skipIf(!backend.available)('', { timeout: 120_000 }, () => {
    let instance: BackendInstance;
    let orgshift: Orgshift;
    let server: LocalServer;
    let ids: string[];
    const next = () => {
      const id = ids.shift();
      if (id === undefined) throw new Error('test ran out of legacy users');
      return id;
    };

    const rollback = async (
      id: string,
      query = '',
      body?: unknown,
    ): Promise<Refusal & { json: Record<string, unknown> }> => {
      const response = await fetch(`${server.url}/v1/admin/users/${id}/rollback${query}`, {
        method: 'POST',
        ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
      const json = (await response.json()) as Record<string, unknown> & { error?: { code: string; message: string } };
      return { status: response.status, code: json.error?.code, message: json.error?.message ?? '', json };
    };

    /** A rollback that must be refused: 409 naming `table`, and not one row of any table changed. */
    const expectRefused = async (id: string, table: string, references: string) => {
      const before = await dumpAll(orgshift);
      for (const query of ['', '?dryRun=true']) {
        const answer = await rollback(id, query);
        expect({ status: answer.status, code: answer.code }).toEqual({ status: 409, code: 'rollback_refused' });
        expect(answer.message).toContain(table);
        expect(answer.message).toContain(references);
      }
      expect(await dumpAll(orgshift)).toEqual(before);
    };

    beforeAll(async () => {
      instance = await backend.setup('rollback_refs');
      // Counts are written on close only: a flush between two dumps would look like a change.
      orgshift = await openTest({ ...instance.env }, { countsFlushMs: 3_600_000 });
      await orgshift.seed({ users: 10, dependents: 2, apiKeyShare: 1 });
      ids = await legacyIds(orgshift);
      const t = dbOf(orgshift).sql.types;
      for (const ddl of [
        `create table projects (id ${t.serialKey}, org_id ${t.uuid} references orgs(id) on delete cascade, name text)`,
        `create table budgets (id ${t.serialKey}, org_id ${t.uuid} references orgs(id), amount integer)`,
        `create table user_notes (id ${t.serialKey}, user_id ${t.uuid} references users(id) on delete set null)`,
        `create table seat_grants (id ${t.serialKey}, org_id ${t.uuid} not null, user_id ${t.uuid} not null,
           foreign key (org_id, user_id) references org_members(org_id, user_id) on delete cascade)`,
      ])
        await sql.raw(ddl).execute(kyselyOf(orgshift));
      server = await listenLocal(orgshift);
    });

    afterAll(async () => {
      killAllCli();
      await server?.close();
      await orgshift?.close();
      await instance?.teardown();
    });

    it('refuses (409, nothing deleted) while projects reference the personal org ON DELETE CASCADE; goes ahead once they are gone', async () => {
      const id = next();
      await orgshift.getUser(id);
      await sql`insert into projects (org_id, name) values (${id}, 'alpha'), (${id}, 'beta')`.execute(
        kyselyOf(orgshift),
      );
      await expectRefused(id, 'projects', 'personal org');
      expect(await count(orgshift, 'projects')).toBe(2);

      await sql`delete from projects where org_id = ${id}`.execute(kyselyOf(orgshift));
      const done = await rollback(id);
      // The mapped dependents (conversations, api_keys) reference orgs(id) too: orgshift re-points them itself.
      expect({ status: done.status, dependentRows: done.json.dependentRows }).toEqual({
        status: 200,
        dependentRows: 4,
      });
      expect(await orgshift.verifyUser(id)).toEqual({ ok: true, state: 'pending', violations: [] });
    });

    it('refuses a non-cascading foreign key to the personal org with 409, not a 500', async () => {
      const id = next();
      await orgshift.getUser(id);
      await sql`insert into budgets (org_id, amount) values (${id}, 100)`.execute(kyselyOf(orgshift));
      await expectRefused(id, 'budgets', 'personal org');
    });

    it('refuses rows referencing the user (ON DELETE SET NULL) and the owner membership (composite key)', async () => {
      const noted = next();
      const seated = next();
      await orgshift.getUser(noted);
      await orgshift.getUser(seated);
      await sql`insert into user_notes (user_id) values (${noted})`.execute(kyselyOf(orgshift));
      await sql`insert into seat_grants (org_id, user_id) values (${seated}, ${seated})`.execute(kyselyOf(orgshift));
      await expectRefused(noted, 'user_notes', 'user');
      await expectRefused(seated, 'seat_grants', 'membership');
      expect(await count(orgshift, 'user_notes where user_id is not null')).toBe(1);
      expect(await count(orgshift, 'seat_grants')).toBe(1);
    });

    it("a dry run (HTTP and CLI) lists the personal org's new name and contact email as discarded and changes nothing; the rollback reports the same", async () => {
      const id = next();
      await orgshift.getUser(id);
      await sql`update orgs set name = 'Renamed after the migration', contact_email = 'billing@example.com'
        where id = ${id}`.execute(kyselyOf(orgshift));
      const discarded = [
        { field: 'target.org.fields.name', column: 'orgs.name' },
        { field: 'target.org.fields.contact_email', column: 'orgs.contact_email' },
      ];
      const before = await dumpAll(orgshift);

      const http = await rollback(id, '?dryRun=true');
      expect(http.status).toBe(200);
      expect(http.json).toMatchObject({ id, dryRun: true, discarded, dependentRows: 4 });
      // The flag in a JSON body means the same; a body the route does not know is refused, never ignored.
      expect(await rollback(id, '', { dryRun: true })).toMatchObject({ status: 200, json: http.json });
      expect(await rollback(id, '?dryRun=false', { dryRun: true })).toMatchObject({ status: 200, json: http.json });
      expect(await rollback(id, '', { dry_run: true })).toMatchObject({ status: 400, code: 'invalid_request' });
      expect(await rollback(id, '?dry_run=true')).toMatchObject({ status: 400, code: 'invalid_request' });
      expect(await rollback(id, '', [true])).toMatchObject({ status: 400, code: 'invalid_request' });
      expect(await dumpAll(orgshift)).toEqual(before);
      const cli = await runCli(['rollback', id, '--dry-run', '--json'], instance.env);
      expect({ code: cli.code, report: JSON.parse(cli.stdout) }).toEqual({ code: 0, report: http.json });
      expect(await dumpAll(orgshift)).toEqual(before);

      const real = await rollback(id);
      expect(real.status).toBe(200);
      expect(real.json).toEqual({ ...http.json, dryRun: false });
      expect(await count(orgshift, `orgs where ${internalsOf(orgshift).sql.asText('id')} = '${id}'`)).toBe(0);
    });

    it('library: the refusal is a RollbackRefusedError and a dry run of a refused rollback is refused too', async () => {
      const id = next();
      await orgshift.getUser(id);
      await sql`insert into projects (org_id, name) values (${id}, 'gamma')`.execute(kyselyOf(orgshift));
      for (const dryRun of [false, true]) {
        const error = await orgshift.rollbackUser(id, { dryRun }).then(
          () => null,
          (e: unknown) => e,
        );
        expect(isOrgshiftError(error) && error.code).toBe('rollback_refused');
        expect(String((error as Error).message)).toMatch(/projects \(1 row → personal org\)/);
      }
    });
  });
});
