import { type Dialect, ident } from '../db/database.js';
import type { LegacySchema } from '../db/legacy-schema.js';
import { ROLES } from '../db/schema.js';
import type { ViolationCode } from '../directory/violations.js';

/**
 * One set-based query per invariant of docs/design.md#invariants, over the whole database.
 * Each returns the distinct ids of the users that break it, as `user_id`,
 * with one boolean column per code it checks (named after the code) saying
 * which invariant the user breaks; the runner counts them and keeps a sample. No
 * query loads a user: they are anti-joins (`NOT EXISTS`) and joins the
 * planner runs as hash joins over whole tables.
 *
 * One exception to "one query per invariant": the three comparisons of a
 * migrated legacy row with its users row (user_missing, email_mismatch,
 * settings_mismatch) share one pass over legacy ⋈ users ⋈ orgs. Reading and
 * hashing those three million-row tables once instead of three times is the
 * largest single saving against the 10 s budget for a million users.
 */
export interface AuditCheck {
  /** What the query can report: each is a boolean column of its rows. */
  readonly codes: readonly ViolationCode[];
  /** The dependent table, for `dependent_unmigrated` (one check per configured table). */
  readonly table?: string;
  readonly sql: string;
  /**
   * Rough relative cost (joins of whole tables, per-row JSON work), so the
   * runner can start the longest queries first and finish together.
   */
  readonly weight: number;
}

/** A query for one invariant: every row it returns breaks it. */
function single(code: ViolationCode, weight: number, userIds: string, table?: string): AuditCheck {
  return {
    codes: [code],
    ...(table === undefined ? {} : { table }),
    weight,
    sql: `select v.user_id, 1 = 1 as ${code} from (${userIds}) v`,
  };
}

/** Dialect differences: legacy ids are text, org-side ids are `uuid` on PostgreSQL and text on SQLite. */
interface Ids {
  /**
   * A uuid column as text, to join with legacy text ids. Byte-wise ("C")
   * comparison: hashing and comparing under a linguistic collation costs
   * several times more and lures the planner into sort-merge joins.
   */
  text(expression: string): string;
  /**
   * A legacy text id as uuid, so that the hashed side of an anti-join is the
   * plain `uuid` key the planner has statistics for. Only applied to rows
   * marked migrated, whose ids the migration wrote into a uuid column. The
   * length guard turns most stray text into a non-match instead of a failed
   * cast; a full format check (a regular expression costs 10 µs a row, more
   * than the join) is not worth it for rows orgshift itself marked.
   */
  uuid(expression: string): string;
}

const POSTGRES_IDS: Ids = {
  text: (e) => `${e}::text collate "C"`,
  uuid: (e) => `(case when length(${e}) = 36 then (${e})::uuid end)`,
};

const SQLITE_IDS: Ids = { text: (e) => e, uuid: (e) => e };

interface Names {
  readonly legacy: string;
  readonly id: string;
  readonly email: string;
  readonly settings: string;
  readonly migratedAt: string;
}

function namesOf(legacy: LegacySchema): Names {
  const c = legacy.columns;
  return {
    legacy: ident(legacy.usersTable),
    id: `l.${ident(c.id)}`,
    email: `l.${ident(c.email)}`,
    settings: `l.${ident(c.settings)}`,
    migratedAt: `l.${ident(c.migratedAt)}`,
  };
}

const OWNER = `(select r.id from roles r where r.name = '${ROLES.owner.name}')`;

/** A no-op OFFSET the planner will not flatten (SQLite wants a LIMIT before it). */
function fence(dialect: Dialect): string {
  return dialect === 'postgres' ? 'offset 0' : 'limit -1 offset 0';
}

export function auditChecks(dialect: Dialect, legacy: LegacySchema): readonly AuditCheck[] {
  const ids = dialect === 'postgres' ? POSTGRES_IDS : SQLITE_IDS;
  const n = namesOf(legacy);
  return Object.freeze([
    ...structuralChecks(dialect),
    single(
      'legacy_not_marked',
      0,
      // Starts from the pending rows (partial index), which are few once the backfill ran.
      `select u.id as user_id from ${n.legacy} l join users u on ${ids.text('u.id')} = ${n.id}
        where ${n.migratedAt} is null and u.migrated_at is not null`,
    ),
    ...legacy.dependents.map((d) => dependentCheck(d.table, n, ids)),
    legacyPass(dialect, n, ids),
  ]);
}

function structuralChecks(dialect: Dialect): AuditCheck[] {
  return [
    single(
      'current_org_missing',
      2,
      `select u.id as user_id from users u
        where not exists (select 1 from orgs o where o.id = u.current_org_id)`,
    ),
    single(
      'current_org_not_member',
      2,
      `select u.id as user_id from users u
        where not exists (select 1 from org_members m
          where m.org_id = u.current_org_id and m.user_id = u.id and m.status = 'active')`,
    ),
    single(
      'membership_dangling',
      2,
      `select m.user_id from org_members m where not exists (select 1 from orgs o where o.id = m.org_id)
        union
        select m.user_id from org_members m where not exists (select 1 from roles r where r.id = m.role_id)`,
    ),
    single(
      'personal_org_missing',
      2,
      `select u.id as user_id from users u
        where not exists (select 1 from orgs o where o.id = u.id and o.kind = 'personal')`,
    ),
    single(
      'personal_org_membership',
      3,
      // Either the user is not the active owner of its personal org, or someone else is a member of it.
      // The second half keeps its EXISTS as per-row index probes (OFFSET 0 stops the semi-join): only
      // memberships in someone else's org pass the first filter, and a semi-join would hash every
      // user and org to probe almost none.
      `select u.id as user_id from users u join orgs o on o.id = u.id and o.kind = 'personal'
        where not exists (select 1 from org_members m
          where m.org_id = u.id and m.user_id = u.id and m.status = 'active' and m.role_id = ${OWNER})
        union
        select m.org_id from org_members m
        where m.user_id <> m.org_id
          and exists (select 1 from orgs o where o.id = m.org_id and o.kind = 'personal' ${fence(dialect)})
          and exists (select 1 from users u where u.id = m.org_id ${fence(dialect)})`,
    ),
  ];
}

function dependentCheck(table: string, n: Names, ids: Ids): AuditCheck {
  // The cheap row-local filter runs first over the whole table; only its (normally empty) result meets the legacy table.
  return single(
    'dependent_unmigrated',
    1,
    `select distinct d.user_id from ${ident(table)} d
      where (d.org_id is null or ${ids.text('d.org_id')} <> d.user_id)
        and exists (select 1 from ${n.legacy} l where ${n.id} = d.user_id and ${n.migratedAt} is not null)`,
    table,
  );
}

/**
 * Every legacy row marked migrated against its users row and personal org:
 * no users row (user_missing), another email (email_mismatch), other
 * settings (settings_mismatch), each a flag computed once per row; only rows
 * with a flag set (normally none) come out. Fidelity is checked where the
 * legacy row says "migrated"; a users row whose legacy row is not marked is
 * legacy_not_marked's finding.
 */
function legacyPass(dialect: Dialect, n: Names, ids: Ids): AuditCheck {
  const settings = settingsDiffer(dialect, n);
  const no = dialect === 'postgres' ? 'false' : '0';
  return {
    codes: ['user_missing', 'email_mismatch', 'settings_mismatch'],
    weight: 8,
    sql: `select ${n.id} as user_id, u.id is null as user_missing,
        coalesce(u.email <> ${n.email}, ${no}) as email_mismatch,
        coalesce(u.id is not null and ${settings}, ${no}) as settings_mismatch
      from ${n.legacy} l
      left join users u on u.id = ${ids.uuid(n.id)}
      left join orgs o on o.id = u.id
      where ${n.migratedAt} is not null and (u.id is null or u.email <> ${n.email} or ${settings})`,
  };
}

/**
 * preferences ∪ personal-org settings (org keys win, as mergeSettings does)
 * against the legacy settings. PostgreSQL: jsonb equality, which ignores key
 * order at every depth. SQLite has no JSON equality: keys are compared one by
 * one through json_each (type and value); nested objects and arrays compare
 * as JSON text there, so only a different key order inside a nested value
 * could be reported where deep verification would not.
 */
function settingsDiffer(dialect: Dialect, n: Names): string {
  if (dialect === 'postgres') return `(u.preferences || coalesce(o.settings, '{}'::jsonb)) <> ${n.settings}`;
  const orgSettings = `coalesce(o.settings, '{}')`;
  const valueIn = (json: string) =>
    `(select e.type || ':' || coalesce(e.value, '') from json_each(${json}) e where e.key = k.key)`;
  return `exists (
    select 1 from (
      select key from json_each(${n.settings})
      union select key from json_each(u.preferences)
      union select key from json_each(${orgSettings})
    ) k
    where coalesce(${valueIn(orgSettings)}, ${valueIn('u.preferences')}) is not ${valueIn(n.settings)})`;
}
