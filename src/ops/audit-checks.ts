import type { MapSql } from '../db/map-sql.js';
import { VIOLATION_CODES, type ViolationCode } from '../directory/violations.js';
import { recordedMigration } from '../migration/in-place-record.js';
import { columnOf, type TableInfo } from '../schema-map/catalog.js';
import type { DependentModel, MapModel, TargetField } from '../schema-map/map-model.js';
import { labelOf } from '../schema-map/table-name.js';

/**
 * One set-based query per invariant (docs/design.md#invariants) over the whole
 * database, generated from the map. Each returns the distinct keys of the
 * users that break it, as `user_id`, with one boolean column per code it
 * checks (named after the code); the runner counts them and keeps a sample.
 * No query loads a user: they are anti-joins (`NOT EXISTS`) and joins the
 * planner runs as hash joins over whole tables.
 *
 * One exception to "one query per invariant": every comparison of a
 * migrated legacy row with its target rows (user_missing and the fidelity
 * of each mapped field) shares one pass over legacy ⋈ user ⋈ org. Reading
 * those million-row tables once instead of once per field is the largest
 * single saving against the 10 s budget for a million users.
 */
export interface AuditCheck {
  readonly codes: readonly ViolationCode[];
  /** The dependent table, for `dependent_unmigrated` (one check per dependent). */
  readonly table?: string;
  readonly sql: string;
  /** Rough relative cost, so the runner starts the longest queries first. */
  readonly weight: number;
}

/** What the audit cannot check set-based, and why (deep verification does, per user). */
export interface NotChecked {
  readonly code: ViolationCode;
  readonly reason: string;
}

function single(code: ViolationCode, weight: number, keys: string, table?: string): AuditCheck {
  return {
    codes: [code],
    ...(table === undefined ? {} : { table }),
    weight,
    sql: `select v.user_id, 1 = 1 as ${code} from (${keys}) v`,
  };
}

export function auditChecks(m: MapSql): readonly AuditCheck[] {
  return Object.freeze([
    ...structuralChecks(m),
    ...legacyNotMarked(m),
    ...m.model.dependents.flatMap((d, n) => dependentChecks(m, d, n)),
    ...legacyPass(m),
  ]);
}

/** The target tables mapped fields go to. */
type FieldTable = 'org' | 'user' | 'membership';

/** One mapped field as the audit sees it: the code a difference gets, and why SQL leaves it alone (null: compared). */
interface FieldAudit {
  readonly field: TargetField;
  readonly table: FieldTable;
  readonly code: ViolationCode;
  readonly skipped: string | null;
}

const SKIPPED = Object.freeze({
  secret:
    'secrets are compared decoded on both sides, which SQL cannot do; `orgshift verify <id>` compares them per user',
  javascript:
    'computed in JavaScript (templates, slugs, JSON keys, constants); `orgshift verify <id>` compares them per user',
  own: 'set by the migration itself (its time, the user key, the org id), not from the legacy row: nothing to compare',
});

/** Every mapped field of the org, the user and the membership, with how the audit treats it. */
function fieldAudits(model: MapModel): FieldAudit[] {
  const tables: [FieldTable, readonly TargetField[]][] = [
    ['org', model.org.fields],
    ['user', model.user.fields],
    ['membership', model.membership.fields],
  ];
  return tables.flatMap(([table, fields]) =>
    fields.map((field) => ({ field, table, code: codeOf(model, table, field), skipped: skipReason(field) })),
  );
}

/** The violation a difference in this field is reported as (the same as deep verification's). */
function codeOf(model: MapModel, table: FieldTable, field: TargetField): ViolationCode {
  if (field.source.kind === 'secret') return 'secret_mismatch';
  if (field.source.kind === 'json-object') return 'settings_mismatch';
  if (table === 'user' && field.column === model.user.email) return 'email_mismatch';
  return 'field_mismatch';
}

function skipReason(field: TargetField): string | null {
  const source = field.source;
  switch (source.kind) {
    case 'column':
      // An object default has no SQL literal to stand in for a NULL source.
      return source.fallback !== null && typeof source.fallback === 'object' ? SKIPPED.javascript : null;
    case 'json-object':
      return null;
    case 'secret':
      return SKIPPED.secret;
    case 'now':
    case 'user-key':
    case 'org-id':
      return SKIPPED.own;
    default:
      return SKIPPED.javascript;
  }
}

/** Every mapped field the legacy pass does not compare in SQL, by code and reason, naming each field's map path. */
export function notChecked(m: MapSql): readonly NotChecked[] {
  const groups = new Map<string, { code: ViolationCode; why: string; paths: string[] }>();
  for (const audit of fieldAudits(m.model)) {
    if (audit.skipped === null) continue;
    const id = `${audit.code}\u0000${audit.skipped}`;
    const group = groups.get(id) ?? { code: audit.code, why: audit.skipped, paths: [] };
    group.paths.push(audit.field.path);
    groups.set(id, group);
  }
  const order = (code: ViolationCode) => VIOLATION_CODES.indexOf(code);
  return Object.freeze(
    [...groups.values()]
      .sort((a, b) => order(a.code) - order(b.code))
      .map((g) => Object.freeze({ code: g.code, reason: `${g.paths.join(', ')}: ${g.why}` })),
  );
}

/** The rows of the user table that are on the organization side (in place: those migrated). */
function users(m: MapSql): { from: string; where: string; key: string } {
  const model = m.model;
  if (model.shape === 'moved') return { from: `${m.user} u`, where: 'true', key: m.col('u', model.user.id) };
  return {
    from: `${m.user} u`,
    where: `(${m.col('u', model.user.currentOrg)} is not null or ${m.marked('u')})`,
    key: m.col('u', model.user.id),
  };
}

/** `po` is the personal org of the user whose id is `userId` (an expression of the user table's id type). */
function personalOrgOf(m: MapSql, po: string, userId: string): string {
  const org = m.model.org;
  const link = org.id.generate === 'user-key' ? org.id.column : (org.owner as string);
  const linkColumn = columnOf(m.resolved.org, link);
  const idColumn = columnOf(m.resolved.user, m.model.user.id);
  const same =
    linkColumn && idColumn && linkColumn.family !== idColumn.family
      ? `${m.asText(m.col(po, link))} = ${m.asText(userId)}`
      : `${m.col(po, link)} = ${userId}`;
  const kind = org.kind ? ` and ${m.col(po, org.kind.column)} = ${m.literal(org.kind.personal)}` : '';
  return `${same}${kind}`;
}

function activeMember(m: MapSql, alias: string): string {
  const status = m.model.membership.status;
  return status ? ` and ${m.col(alias, status.column)} = ${m.literal(status.active)}` : '';
}

function ownerRole(m: MapSql, alias: string): string {
  const role = m.model.membership.role;
  if (role.kind === 'column') return `${m.col(alias, role.column)} = ${m.literal(role.owner)}`;
  return `${m.col(alias, role.column)} = (select ${m.col('r', role.id)} from ${m.roles} r where ${m.col('r', role.name)} = ${m.literal(role.owner)})`;
}

function structuralChecks(m: MapSql): AuditCheck[] {
  const model = m.model;
  const u = users(m);
  const org = model.org;
  const ms = model.membership;
  const orgId = (alias: string) => m.col(alias, org.id.column);
  const checks: AuditCheck[] = [
    single(
      'current_org_missing',
      2,
      `select ${u.key} as user_id from ${u.from}
        where ${u.where} and not exists (select 1 from ${m.org} o where ${orgId('o')} = ${m.col('u', model.user.currentOrg)})`,
    ),
    single(
      'current_org_not_member',
      2,
      `select ${u.key} as user_id from ${u.from}
        where ${u.where} and not exists (select 1 from ${m.membership} m
          where ${m.col('m', ms.org)} = ${m.col('u', model.user.currentOrg)} and ${m.col('m', ms.user)} = ${u.key}${activeMember(m, 'm')})`,
    ),
    single(
      'membership_dangling',
      2,
      `select ${m.col('m', ms.user)} as user_id from ${m.membership} m where not exists (select 1 from ${m.org} o where ${orgId('o')} = ${m.col('m', ms.org)})${
        ms.role.kind === 'table'
          ? `\n        union\n        select ${m.col('m', ms.user)} from ${m.membership} m where not exists (select 1 from ${m.roles} r where ${m.col('r', ms.role.id)} = ${m.col('m', ms.role.column)})`
          : ''
      }`,
    ),
    single(
      'personal_org_missing',
      2,
      `select ${u.key} as user_id from ${u.from}
        where ${u.where} and not exists (select 1 from ${m.org} po where ${personalOrgOf(m, 'po', u.key)})`,
    ),
    single('personal_org_membership', 3, personalOrgMembership(m, u)),
  ];
  return checks;
}

/**
 * Either the user is not the active owner of its personal org, or someone
 * else is a member of it. When the personal org's id is the user's, the
 * second half filters memberships row by row (member ≠ org) and keeps its
 * EXISTS as per-row index probes (an optimization fence stops the
 * semi-join): a semi-join would hash every user and org to probe almost
 * none.
 */
function personalOrgMembership(m: MapSql, u: { from: string; where: string; key: string }): string {
  const model = m.model;
  const ms = model.membership;
  const orgId = (alias: string) => m.col(alias, model.org.id.column);
  const notOwner = `select ${u.key} as user_id from ${u.from} join ${m.org} po on ${personalOrgOf(m, 'po', u.key)}
        where ${u.where} and not exists (select 1 from ${m.membership} m
          where ${m.col('m', ms.org)} = ${orgId('po')} and ${m.col('m', ms.user)} = ${u.key}${activeMember(m, 'm')} and ${ownerRole(m, 'm')})`;
  if (model.org.id.generate === 'user-key') {
    const member = m.col('m', ms.user);
    const org = m.col('m', ms.org);
    const sameFamily =
      columnOf(m.resolved.membership, ms.user)?.family === columnOf(m.resolved.membership, ms.org)?.family;
    const differs = sameFamily ? `${member} <> ${org}` : `${m.asText(member)} <> ${m.asText(org)}`;
    const kind = model.org.kind
      ? ` and ${m.col('po', model.org.kind.column)} = ${m.literal(model.org.kind.personal)}`
      : '';
    const userIdFamily = columnOf(m.resolved.user, model.user.id)?.family;
    const ownerId = m.col('ou', model.user.id);
    const ownerIs =
      userIdFamily === columnOf(m.resolved.membership, ms.org)?.family
        ? `${ownerId} = ${org}`
        : `${m.asText(ownerId)} = ${m.asText(org)}`;
    return `${notOwner}
        union
        select ${org} from ${m.membership} m
        where ${differs}
          and exists (select 1 from ${m.org} po where ${orgId('po')} = ${org}${kind} ${m.dialect.optimizationFence})
          and exists (select 1 from ${m.user} ou where ${ownerIs} ${m.dialect.optimizationFence})`;
  }
  return `${notOwner}
        union
        select ${m.col('ou', model.user.id)} from ${m.membership} m
        join ${m.org} po on ${orgId('po')} = ${m.col('m', ms.org)}
        join ${m.user} ou on ${personalOrgOf(m, 'po', m.col('ou', model.user.id))}
        where ${m.col('m', ms.user)} <> ${m.col('ou', model.user.id)}`;
}

/** A user on the organization side whose legacy row is not marked (split brain). */
function legacyNotMarked(m: MapSql): AuditCheck[] {
  const model = m.model;
  if (model.legacy.marker.type === 'derived') return [];
  if (model.shape === 'in-place') {
    return [
      single(
        'legacy_not_marked',
        0,
        `select ${m.key('l')} as user_id from ${m.legacy} l where ${m.col('l', model.user.currentOrg)} is not null and ${m.pending('l')}`,
      ),
    ];
  }
  return [
    single(
      'legacy_not_marked',
      0,
      // Starts from the pending rows (a partial index, when there is one), which are few once the backfill ran.
      `select ${m.col('u', model.user.id)} as user_id from ${m.legacy} l
        join ${m.user} u on ${m.col('u', model.user.id)} = ${m.keyAs(m.key('l'), m.resolved.user, model.user.id)}
        where ${m.pending('l')}`,
    ),
  ];
}

function dependentChecks(m: MapSql, d: DependentModel, n: number): AuditCheck[] {
  const resolved = m.resolved.dependents[n];
  if (resolved === undefined) return [];
  const table = m.table(d.table);
  const checks: AuditCheck[] = [];
  const model = m.model;
  const byKey = d.userKey.references === model.legacy.key.column;
  if (d.org) {
    const org = m.col('d', d.org.column);
    const userKey = m.col('d', d.userKey.column);
    // The personal org's id is the user key: a row-local comparison filters the whole table first, and
    // only its (normally empty) result meets the legacy table.
    const sql = d.org.keepAssigned
      ? `select distinct ${userKey} as user_id from ${table} d
          where ${org} is null
            and exists (select 1 from ${m.legacy} l where ${m.col('l', d.userKey.references)} = ${userKey} and ${m.marked('l')})`
      : byKey && model.org.id.generate === 'user-key'
        ? `select distinct ${userKey} as user_id from ${table} d
            where (${org} is null or ${m.asText(org)} <> ${m.asText(userKey)})
              and exists (select 1 from ${m.legacy} l where ${m.key('l')} = ${userKey} and ${m.marked('l')})`
        : `select distinct ${m.key('l')} as user_id from ${table} d
            join ${m.legacy} l on ${m.col('l', d.userKey.references)} = ${userKey}
            where ${m.marked('l')} and (${org} is null or not exists (
              select 1 from ${m.org} po where ${m.col('po', model.org.id.column)} = ${org} and ${personalOrgOf(m, 'po', m.keyAs(m.key('l'), m.resolved.user, model.user.id))}))`;
    checks.push(single('dependent_unmigrated', 1, sql, labelOf(d.table)));
  }
  const copy = resolved.copy;
  if (d.copyTo && copy) {
    const matches = copyMatches(m, d, copy);
    if (matches !== null) {
      checks.push(
        single(
          'dependent_unmigrated',
          1,
          `select distinct ${m.key('l')} as user_id from ${table} d
            join ${m.legacy} l on ${m.col('l', d.userKey.references)} = ${m.col('d', d.userKey.column)}
            where ${m.marked('l')} and not exists (select 1 from ${m.table(d.copyTo.table)} c where ${matches})`,
          labelOf(d.copyTo.table),
        ),
      );
    }
  }
  return checks;
}

/** How a copy is recognized: its conflict columns, each copied from a column of the row. */
function copyMatches(m: MapSql, d: DependentModel, copy: TableInfo): string | null {
  const spec = d.copyTo as NonNullable<DependentModel['copyTo']>;
  if (spec.conflict.length === 0) return null;
  const parts: string[] = [];
  for (const name of spec.conflict) {
    const source = spec.columns.find((c) => c.column === name)?.source;
    if (source?.kind !== 'column') return null;
    const type = columnOf(copy, name)?.type;
    const value = m.col('d', source.column);
    parts.push(`${m.col('c', name)} = ${type ? m.dialect.cast(value, type) : value}`);
  }
  return parts.join(' and ');
}

/**
 * An SQL expression true when a field (one skipReason leaves to SQL) differs
 * from its legacy source: `target` is the target column, `l` the legacy row.
 */
function differs(m: MapSql, field: TargetField, target: string, info: TableInfo): string {
  const source = field.source;
  if (source.kind === 'json-object') {
    const keys = (source.pick ?? source.omit ?? []).map((k) => m.literal(k));
    return m.dialect.jsonDiffers(target, m.col('l', source.json), keys, source.pick !== undefined ? 'pick' : 'omit');
  }
  if (source.kind !== 'column') throw new TypeError(`${field.path} is not compared in SQL`);
  const column = columnOf(info, field.column);
  const type = column?.type;
  let value = m.col('l', source.column);
  if (type !== undefined) value = m.dialect.cast(value, type);
  const fallback = source.fallback;
  if (fallback !== undefined && fallback !== null && typeof fallback !== 'object') {
    value = `coalesce(${value}, ${type ? m.dialect.cast(m.literal(fallback), type) : m.literal(fallback)})`;
  }
  return m.dialect.distinct(target, value, column?.family);
}

/** `a = b` for two id columns, byte-wise as text when their types differ. */
function sameId(m: MapSql, a: string, aFamily: string | undefined, b: string, bFamily: string | undefined): string {
  return aFamily !== undefined && aFamily === bFamily ? `${a} = ${b}` : `${m.asText(a)} = ${m.asText(b)}`;
}

/**
 * Every migrated legacy row against its user row, its personal org and its
 * membership of it: no user row (user_missing, moved shape), and each mapped
 * field the database can recompute (email_mismatch for the user's email,
 * settings_mismatch for JSON splits, field_mismatch for the rest), each a
 * flag computed once per row; only rows with a flag set (normally none) come
 * out. Fidelity is checked where the legacy row says "migrated"; in place,
 * only for the users orgshift migrated (a user created in the new shape has
 * no legacy source to be faithful to). The membership is joined only when
 * one of its fields is compared, and then the rows are grouped by user, since
 * nothing guarantees one membership per org and user.
 */
function legacyPass(m: MapSql): AuditCheck[] {
  const model = m.model;
  const inPlace = model.shape === 'in-place';
  const u = inPlace ? 'l' : 'u';
  const userId = m.col(u, model.user.id);
  const no = m.dialect.falseLiteral;
  const compared = fieldAudits(model).filter((f) => f.skipped === null);
  const tableOf: Record<FieldTable, { alias: string; info: TableInfo; row: string }> = {
    user: { alias: u, info: m.resolved.user, row: userId },
    org: { alias: 'o', info: m.resolved.org, row: m.col('o', model.org.id.column) },
    membership: { alias: 'ms', info: m.resolved.membership, row: m.col('ms', model.membership.user) },
  };
  const flags = new Map<ViolationCode, string[]>();
  for (const { field, table, code } of compared) {
    const { alias, info, row } = tableOf[table];
    // A missing row is another check's finding (user_missing, personal_org_missing, personal_org_membership).
    const expression = `${row} is not null and ${differs(m, field, m.col(alias, field.column), info)}`;
    flags.set(code, [...(flags.get(code) ?? []), expression]);
  }
  const codes: ViolationCode[] = inPlace ? [] : ['user_missing'];
  const columns: string[] = inPlace ? [] : [`${userId} is null as user_missing`];
  const any: string[] = inPlace ? [] : [`${userId} is null`];
  for (const [code, expressions] of flags) {
    const differ = expressions.map((e) => `(${e})`).join(' or ');
    codes.push(code);
    columns.push(`coalesce(${inPlace ? '' : `${userId} is not null and `}(${differ}), ${no}) as ${code}`);
    any.push(`(${differ})`);
  }
  // In place with nothing comparable, there is nothing for this pass to find.
  if (codes.length === 0) return [];
  const joins = [
    ...(inPlace ? [] : [`left join ${m.user} u on ${userId} = ${m.keyAs(m.key('l'), m.resolved.user, model.user.id)}`]),
    `left join ${m.org} o on ${personalOrgOf(m, 'o', userId)}`,
    ...(compared.some((f) => f.table === 'membership') ? [membershipJoin(m, userId)] : []),
  ];
  const migrated = inPlace ? `${m.marked('l')} and ${recordedMigration(m, 'l')}` : m.marked('l');
  const rows = `select ${m.key('l')} as user_id, ${columns.join(', ')}
      from ${m.legacy} l
      ${joins.join('\n      ')}
      where ${migrated} and (${any.join(' or ')})`;
  const sql = compared.some((f) => f.table === 'membership')
    ? `select p.user_id, ${codes.map((c) => `count(case when p.${c} then 1 end) > 0 as ${c}`).join(', ')}
      from (${rows}) p group by p.user_id`
    : rows;
  return [{ codes, weight: 8, sql }];
}

/** The user's membership of its personal org `o`, aliased `ms`. */
function membershipJoin(m: MapSql, userId: string): string {
  const model = m.model;
  const ms = model.membership;
  const family = (info: TableInfo, column: string) => columnOf(info, column)?.family;
  const org = sameId(
    m,
    m.col('ms', ms.org),
    family(m.resolved.membership, ms.org),
    m.col('o', model.org.id.column),
    family(m.resolved.org, model.org.id.column),
  );
  const user = sameId(
    m,
    m.col('ms', ms.user),
    family(m.resolved.membership, ms.user),
    userId,
    family(m.resolved.user, model.user.id),
  );
  return `left join ${m.membership} ms on ${org} and ${user}`;
}
