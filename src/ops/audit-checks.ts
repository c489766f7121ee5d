import type { MapSql } from '../db/map-sql.js';
import type { ViolationCode } from '../directory/violations.js';
import { columnOf, type TableInfo } from '../schema-map/catalog.js';
import { type DependentModel, fidelityComparable, type TargetField } from '../schema-map/map-model.js';
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

/** Fields the legacy pass cannot compare in SQL. */
export function notChecked(m: MapSql): readonly NotChecked[] {
  const model = m.model;
  if (!fidelityComparable(model)) {
    return [
      {
        code: 'field_mismatch',
        reason:
          'in place with a derived marker, users orgshift migrated and users the application created look the same: fields are not compared (the structure is)',
      },
    ];
  }
  const fields = [...model.org.fields, ...model.user.fields, ...model.membership.fields];
  const out: NotChecked[] = [];
  if (fields.some((f) => f.source.kind === 'secret')) {
    out.push({
      code: 'secret_mismatch',
      reason: 'comparing secrets needs decoding both sides; `orgshift verify <id>` checks it per user',
    });
  }
  const skipped = fields.filter(
    (f) => comparable(m, f) === null && f.source.kind !== 'secret' && f.source.kind !== 'now',
  );
  if (skipped.length > 0) {
    out.push({
      code: 'field_mismatch',
      reason: `${skipped.map((f) => f.path).join(', ')}: computed in JavaScript (templates, JSON keys, slugs); \`orgshift verify <id>\` checks them per user`,
    });
  }
  return Object.freeze(out);
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
 * An SQL expression true when a field differs from its legacy source, or
 * null when it cannot be compared in SQL (templates, secrets, JSON keys,
 * the migration time: deep verification compares those per user).
 */
function comparable(m: MapSql, field: TargetField, target?: string, info?: TableInfo): string | null {
  const source = field.source;
  if (source.kind === 'column') {
    if (target === undefined || info === undefined) return 'column';
    const column = columnOf(info, field.column);
    const type = column?.type;
    let value = m.col('l', source.column);
    if (type !== undefined) value = m.dialect.cast(value, type);
    const fallback = source.fallback;
    if (fallback !== undefined && fallback !== null) {
      if (typeof fallback === 'object') return null;
      value = `coalesce(${value}, ${type ? m.dialect.cast(m.literal(fallback), type) : m.literal(fallback)})`;
    }
    return m.dialect.distinct(target, value, column?.family);
  }
  if (source.kind === 'json-object') {
    if (target === undefined) return 'json';
    const keys = (source.pick ?? source.omit ?? []).map((k) => m.literal(k));
    return m.dialect.jsonDiffers(target, m.col('l', source.json), keys, source.pick !== undefined ? 'pick' : 'omit');
  }
  return null;
}

/**
 * Every marked legacy row against its user row and personal org: no user
 * row (user_missing, moved shape), and each mapped org and user field the
 * database can recompute (email_mismatch for the user's email,
 * settings_mismatch for JSON splits, field_mismatch for the rest), each a
 * flag computed once per row; only rows with a flag set (normally none) come
 * out. Fidelity is checked where the legacy row says "migrated".
 */
function legacyPass(m: MapSql): AuditCheck[] {
  const model = m.model;
  const inPlace = model.shape === 'in-place';
  const u = inPlace ? 'l' : 'u';
  const userId = m.col(u, model.user.id);
  const no = m.dialect.falseLiteral;
  const flags = new Map<ViolationCode, string[]>();
  const add = (code: ViolationCode, expression: string) => flags.set(code, [...(flags.get(code) ?? []), expression]);
  const fieldFlags = (fields: readonly TargetField[], alias: string, info: TableInfo, userTable: boolean) => {
    // A missing row is another check's finding (user_missing, personal_org_missing), not a field's.
    const exists = `${m.col(alias, userTable ? model.user.id : model.org.id.column)} is not null`;
    for (const field of fields) {
      const compared = comparable(m, field, m.col(alias, field.column), info);
      if (compared === null) continue;
      const differs = `${exists} and ${compared}`;
      const code: ViolationCode =
        field.source.kind === 'json-object'
          ? 'settings_mismatch'
          : userTable && field.column === model.user.email
            ? 'email_mismatch'
            : 'field_mismatch';
      add(code, differs);
    }
  };
  if (!inPlace) fieldFlags(model.user.fields, 'u', m.resolved.user, true);
  if (fidelityComparable(model)) fieldFlags(model.org.fields, 'o', m.resolved.org, false);
  const codes: ViolationCode[] = inPlace ? [] : ['user_missing'];
  const columns: string[] = inPlace ? [] : [`${userId} is null as user_missing`];
  const any: string[] = inPlace ? [] : [`${userId} is null`];
  for (const [code, expressions] of flags) {
    const differs = expressions.map((e) => `(${e})`).join(' or ');
    codes.push(code);
    columns.push(`coalesce(${inPlace ? '' : `${userId} is not null and `}(${differs}), ${no}) as ${code}`);
    any.push(`(${differs})`);
  }
  const joins = inPlace
    ? `left join ${m.org} o on ${personalOrgOf(m, 'o', userId)}`
    : `left join ${m.user} u on ${userId} = ${m.keyAs(m.key('l'), m.resolved.user, model.user.id)}
      left join ${m.org} o on ${personalOrgOf(m, 'o', userId)}`;
  // In place with nothing comparable (a derived marker), there is nothing for this pass to find.
  if (codes.length === 0) return [];
  return [
    {
      codes,
      weight: 8,
      sql: `select ${m.key('l')} as user_id, ${columns.join(', ')}
      from ${m.legacy} l
      ${joins}
      where ${m.marked('l')} and (${any.join(' or ')})`,
    },
  ];
}
