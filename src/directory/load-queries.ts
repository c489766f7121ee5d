import { type Dialect, ident } from '../db/database.js';
import type { LegacySchema } from '../db/legacy-schema.js';

/**
 * SQL for the three loading strategies (json, join, select-in), on both dialects.
 * Every variant returns the same "head" columns (user, current org, personal
 * org, personal org member count, legacy status); they differ in how the
 * memberships come back.
 */
interface DialectSql {
  readonly obj: string;
  readonly agg: string;
  readonly emptyArray: string;
  uuid(expression: string): string;
  param(n: number): string;
  oneKey(): string;
  manyKeys(): string;
}

const POSTGRES: DialectSql = {
  obj: 'json_build_object',
  agg: 'json_agg',
  emptyArray: `'[]'::json`,
  uuid: (e) => `${e}::uuid`,
  param: (n) => `$${n}`,
  oneKey: () => '(select $1::text as id)',
  manyKeys: () => '(select id from unnest($1::text[]) as keys(id))',
};

const SQLITE: DialectSql = {
  obj: 'json_object',
  agg: 'json_group_array',
  emptyArray: `'[]'`,
  uuid: (e) => e,
  param: () => '?',
  oneKey: () => '(select ? as id)',
  manyKeys: () => '(select value as id from json_each(?))',
};

function dialectSql(dialect: Dialect): DialectSql {
  return dialect === 'postgres' ? POSTGRES : SQLITE;
}

const MEMBERSHIP_FROM = `org_members m
  left join roles r on r.id = m.role_id
  left join orgs o on o.id = m.org_id`;

const MEMBERSHIP_ORDER = 'm.created_at, m.org_id';

function headColumns(legacy: LegacySchema): string {
  return `k.id as key,
    u.id as user_id, u.email, u.display_name, u.current_org_id, u.preferences, u.created_at, u.migrated_at,
    co.id as current_org_found, co.kind as current_org_kind, co.name as current_org_name,
    po.id as personal_org_id, po.kind as personal_org_kind, po.name as personal_org_name,
    (select count(*) from org_members pm where pm.org_id = po.id) as personal_member_count,
    l.${ident(legacy.columns.id)} is not null as legacy_exists,
    l.${ident(legacy.columns.migratedAt)} as legacy_migrated_at`;
}

function headJoins(d: DialectSql, legacy: LegacySchema): string {
  return `left join users u on u.id = ${d.uuid('k.id')}
  left join orgs co on co.id = u.current_org_id
  left join orgs po on po.id = ${d.uuid('k.id')}
  left join ${ident(legacy.usersTable)} l on l.${ident(legacy.columns.id)} = k.id`;
}

/** Unordered: an ORDER BY inside the aggregate costs a sort per read; the decoder orders them (decode-user.ts). */
function membershipsJson(d: DialectSql): string {
  return `(select coalesce(${d.agg}(${d.obj}(
      'orgId', m.org_id, 'status', m.status, 'createdAt', m.created_at,
      'roleId', r.id, 'roleName', r.name, 'roleRank', r.rank,
      'orgFound', o.id, 'orgKind', o.kind, 'orgName', o.name)), ${d.emptyArray})
    from ${MEMBERSHIP_FROM}
    where m.user_id = u.id) as memberships`;
}

/**
 * One query, memberships aggregated into a JSON array: no Cartesian product.
 * On PostgreSQL the whole row comes back as one JSON column (`graph`, same
 * keys): node-pg decodes a row description and a parser per column on every
 * execution, and one JSON.parse of one column costs the client about a third
 * less than eighteen typed columns.
 */
export function jsonGraphSql(dialect: Dialect, legacy: LegacySchema, keys: 'one' | 'many'): string {
  const d = dialectSql(dialect);
  const flat = `select ${headColumns(legacy)},
    ${membershipsJson(d)}
  from ${keys === 'one' ? d.oneKey() : d.manyKeys()} k
  ${headJoins(d, legacy)}`;
  return dialect === 'postgres' ? `select row_to_json(g) as graph from (${flat}) g` : flat;
}

/** One flat LEFT JOIN, one row per membership: SQLAlchemy's joinedload shape. */
export function joinGraphSql(dialect: Dialect, legacy: LegacySchema): string {
  const d = dialectSql(dialect);
  return `select ${headColumns(legacy)},
    m.org_id as m_org_id, m.status as m_status, m.created_at as m_created_at,
    r.id as m_role_id, r.name as m_role_name, r.rank as m_role_rank,
    o.id as m_org_found, o.kind as m_org_kind, o.name as m_org_name
  from ${d.oneKey()} k
  ${headJoins(d, legacy)}
  left join org_members m on m.user_id = u.id
  left join roles r on r.id = m.role_id
  left join orgs o on o.id = m.org_id
  order by ${MEMBERSHIP_ORDER}`;
}

/** First of the two select-in queries: the head alone. */
export function headOnlySql(dialect: Dialect, legacy: LegacySchema): string {
  const d = dialectSql(dialect);
  return `select ${headColumns(legacy)}
  from ${d.oneKey()} k
  ${headJoins(d, legacy)}`;
}

/** Second select-in query: the memberships of one user, flat. */
export function membershipsSql(dialect: Dialect): string {
  const d = dialectSql(dialect);
  return `select m.org_id as m_org_id, m.status as m_status, m.created_at as m_created_at,
    r.id as m_role_id, r.name as m_role_name, r.rank as m_role_rank,
    o.id as m_org_found, o.kind as m_org_kind, o.name as m_org_name
  from ${MEMBERSHIP_FROM}
  where m.user_id = ${d.uuid(d.param(1))}
  order by ${MEMBERSHIP_ORDER}`;
}
