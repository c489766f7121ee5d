import type { MapSql } from '../db/map-sql.js';
import { columnOf } from '../schema-map/catalog.js';

/**
 * The user graph in SQL, generated from the map: one row per user with the
 * user, its current org, its personal org and that org's member count, the
 * legacy row's state, and the memberships with their roles and orgs. Three
 * loading strategies return the same head columns and differ in how the
 * memberships come back (json: aggregated into the row; join: one row per
 * membership, SQLAlchemy's joinedload; select-in: a second query).
 */
export interface GraphSql {
  readonly json: string;
  /**
   * The read path's query: the user row and its memberships, each with its
   * role and org, and the member count of the personal org's membership. The
   * current and personal orgs are found among the memberships (a verified
   * user is an active member of both), which saves two org lookups and,
   * moved, the legacy row (see fast-graph notes in docs/design.md). When
   * either is not among them the caller loads the full graph instead.
   */
  /** `slots`: 1 for one key, else a statement for up to that many (SqlDialect.eachKey). */
  readonly fast: (slots: number) => string;
  readonly join: string;
  readonly headOnly: string;
  readonly memberships: string;
}

export function graphSql(m: MapSql): GraphSql {
  const d = m.dialect;
  const head = headColumns(m);
  const joins = (keys: string) => `from ${keys} k\n${headJoins(m)}`;
  const flat = `select ${head},\n ${membershipsJson(m)} as memberships\n${joins(d.oneKey(1))}`;
  const fast = (keys: string) =>
    d.rowAsJson(`select ${fastHeadColumns(m)},\n ${membershipsJson(m, true)} as memberships\n${fastJoins(m, keys)}`);
  return {
    json: d.rowAsJson(flat),
    fast: (slots) => (slots === 1 ? fast(d.oneKey(1)) : d.eachKey(slots, fast)),
    join: `select ${head}, ${membershipColumns(m)}\n${joins(d.oneKey(1))}\n${membershipJoins(m, `${m.col('m', m.model.membership.user)} = ${userIdOf(m)}`, 'left join')}`,
    headOnly: `select ${head}\n${joins(d.oneKey(1))}`,
    memberships: `select ${membershipColumns(m)}\nfrom ${membershipFrom(m)}\nwhere ${m.col('m', m.model.membership.user)} = ${m.dialect.cast(d.param(1), membershipUserType(m))}`,
  };
}

/** The alias of the user row: `u` (moved), or the legacy row itself (in place). */
function userAlias(m: MapSql): string {
  return m.model.shape === 'in-place' ? 'l' : 'u';
}

function userIdOf(m: MapSql): string {
  return m.col(userAlias(m), m.model.user.id);
}

function membershipUserType(m: MapSql): string {
  return columnOf(m.resolved.membership, m.model.membership.user)?.type ?? 'text';
}

/** The key parameter as a value of `table.column` (validated in JavaScript already, so a plain cast). */
function keyFor(m: MapSql, table: Parameters<typeof columnOf>[0], column: string): string {
  const type = columnOf(table, column)?.type;
  return type === undefined ? 'k.key' : m.dialect.cast('k.key', type);
}

function orgRef(m: MapSql, alias: string, column: string | null): string {
  return column === null ? 'null' : m.col(alias, column);
}

/** The key asked for and the user row's own columns, as both graphs name them. */
function userColumns(m: MapSql): string[] {
  const model = m.model;
  const u = userAlias(m);
  return [
    'k.key as key',
    `${m.col(u, model.user.id)} as user_id`,
    `${model.user.email ? m.col(u, model.user.email) : 'null'} as email`,
    `${model.user.displayName ? m.col(u, model.user.displayName) : 'null'} as display_name`,
    `${model.user.migratedAt ? m.col(u, model.user.migratedAt) : 'null'} as user_migrated_at`,
    `${m.col(u, model.user.currentOrg)} as current_org_id`,
  ];
}

function headColumns(m: MapSql): string {
  const model = m.model;
  const org = model.org;
  const orgName = (alias: string) => m.col(alias, org.name ?? org.id.column);
  const legacyRows = m.resolved.keyUnique
    ? `case when ${m.key('l')} is null then 0 else 1 end`
    : `(select count(*) from ${m.legacy} lx where ${m.key('lx')} = ${keyFor(m, m.resolved.legacy, model.legacy.key.column)})`;
  return [
    ...userColumns(m),
    `${m.col('co', org.id.column)} as current_org_found`,
    `${orgRef(m, 'co', org.kind?.column ?? null)} as current_org_kind`,
    `${orgName('co')} as current_org_name`,
    `${orgRef(m, 'co', org.owner)} as current_org_owner`,
    `${m.col('po', org.id.column)} as personal_org_id`,
    `${orgRef(m, 'po', org.kind?.column ?? null)} as personal_org_kind`,
    `${orgName('po')} as personal_org_name`,
    `(select count(*) from ${m.membership} pm where ${m.col('pm', model.membership.org)} = ${m.col('po', org.id.column)}) as personal_member_count`,
    `${legacyRows} as legacy_rows`,
    `${m.marked('l')} as legacy_marked`,
    `${m.markedAt('l')} as legacy_marked_at`,
  ].join(',\n  ');
}

/**
 * The user's own columns, and the legacy row's status where the same row
 * holds it (in place) or the view needs the marker's time (moved, with a
 * timestamp marker and no migration time on the user row).
 */
function fastHeadColumns(m: MapSql): string {
  const model = m.model;
  const columns = userColumns(m);
  if (model.org.id.generate === 'user-key') columns.push('k.key as personal_org_id');
  if (fastNeedsLegacy(m)) {
    columns.push(
      `case when ${m.key('l')} is null then 0 else 1 end as legacy_rows`,
      `${m.marked('l')} as legacy_marked`,
      `${m.markedAt('l')} as legacy_marked_at`,
    );
  }
  return columns.join(',\n  ');
}

/** Whether the fast read joins the legacy row: in place it is the user row; moved, only for the migration time. */
export function fastNeedsLegacy(m: MapSql): boolean {
  const model = m.model;
  if (model.shape === 'in-place') return true;
  // A legacy key that is not unique would need a count; the full graph has it.
  return model.user.migratedAt === null && model.legacy.marker.type === 'timestamp' && m.resolved.keyUnique;
}

function fastJoins(m: MapSql, keys: string): string {
  const model = m.model;
  const lines = [`from ${keys} k`];
  if (fastNeedsLegacy(m)) {
    lines.push(`left join ${m.legacy} l on ${m.key('l')} = ${keyFor(m, m.resolved.legacy, model.legacy.key.column)}`);
  }
  if (model.shape === 'moved') {
    lines.push(`left join ${m.user} u on ${m.col('u', model.user.id)} = ${keyFor(m, m.resolved.user, model.user.id)}`);
  }
  return lines.join('\n');
}

/** The membership of the user's personal org, as the map finds that org (by id or by owner and kind). */
function personalMembership(m: MapSql): string {
  const model = m.model;
  const org = model.org;
  if (org.id.generate === 'user-key') {
    return `${m.col('m', model.membership.org)} = ${keyFor(m, m.resolved.membership, model.membership.org)}`;
  }
  const owner = `${m.col('o', org.owner as string)} = ${keyFor(m, m.resolved.org, org.owner as string)}`;
  return org.kind === null ? owner : `${owner} and ${m.col('o', org.kind.column)} = ${m.literal(org.kind.personal)}`;
}

function headJoins(m: MapSql): string {
  const model = m.model;
  const u = userAlias(m);
  const org = model.org;
  const personal =
    org.id.generate === 'user-key'
      ? `${m.col('po', org.id.column)} = ${keyFor(m, m.resolved.org, org.id.column)}`
      : `${m.col('po', org.owner as string)} = ${keyFor(m, m.resolved.org, org.owner as string)}`;
  const lines = [`left join ${m.legacy} l on ${m.key('l')} = ${keyFor(m, m.resolved.legacy, model.legacy.key.column)}`];
  if (model.shape === 'moved') {
    lines.push(`left join ${m.user} u on ${m.col('u', model.user.id)} = ${keyFor(m, m.resolved.user, model.user.id)}`);
  }
  lines.push(
    `left join ${m.org} co on ${m.col('co', org.id.column)} = ${m.col(u, model.user.currentOrg)}`,
    `left join ${m.org} po on ${personal}`,
  );
  return lines.join('\n');
}

/** Role name and rank expressions, from the roles table (`r`) or the membership's own column. */
function roleColumns(m: MapSql): { found: string; name: string; rank: string } {
  const role = m.model.membership.role;
  if (role.kind === 'table') {
    return {
      found: m.col('r', role.id),
      name: m.col('r', role.name),
      rank: role.rank ? m.col('r', role.rank) : 'null',
    };
  }
  return { found: m.col('m', role.column), name: m.col('m', role.column), rank: 'null' };
}

function membershipFrom(m: MapSql): string {
  const model = m.model;
  const role = model.membership.role;
  const roles =
    role.kind === 'table' ? `\n  left join ${m.roles} r on ${m.col('r', role.id)} = ${m.col('m', role.column)}` : '';
  return `${m.membership} m${roles}\n  left join ${m.org} o on ${m.col('o', model.org.id.column)} = ${m.col('m', model.membership.org)}`;
}

function membershipJoins(m: MapSql, on: string, join: string): string {
  const model = m.model;
  const role = model.membership.role;
  const roles =
    role.kind === 'table' ? `\nleft join ${m.roles} r on ${m.col('r', role.id)} = ${m.col('m', role.column)}` : '';
  return `${join} ${m.membership} m on ${on}${roles}\nleft join ${m.org} o on ${m.col('o', model.org.id.column)} = ${m.col('m', model.membership.org)}`;
}

function membershipFields(m: MapSql): [string, string][] {
  const model = m.model;
  const role = roleColumns(m);
  const org = model.org;
  return [
    ['orgId', m.col('m', model.membership.org)],
    ['status', model.membership.status ? m.col('m', model.membership.status.column) : 'null'],
    ['roleFound', role.found],
    ['roleName', role.name],
    ['roleRank', role.rank],
    ['orgFound', m.col('o', org.id.column)],
    ['orgKind', orgRef(m, 'o', org.kind?.column ?? null)],
    ['orgName', m.col('o', org.name ?? org.id.column)],
    ['orgOwner', orgRef(m, 'o', org.owner)],
  ];
}

/**
 * Unordered: a sort inside the aggregate costs every read; the decoder orders
 * them. `withPersonalCount`: the personal org's membership also carries that
 * org's member count (evaluated for that one membership only).
 */
function membershipsJson(m: MapSql, withPersonalCount = false): string {
  const d = m.dialect;
  const fields = membershipFields(m);
  if (withPersonalCount) {
    fields.push([
      'members',
      `case when ${personalMembership(m)} then (select count(*) from ${m.membership} pm where ${m.col('pm', m.model.membership.org)} = ${m.col('m', m.model.membership.org)}) end`,
    ]);
  }
  return `(select coalesce(${d.jsonArrayAgg(d.jsonObject(fields))}, ${d.emptyJsonArray})
    from ${membershipFrom(m)}
    where ${m.col('m', m.model.membership.user)} = ${userIdOf(m)})`;
}

function membershipColumns(m: MapSql): string {
  return membershipFields(m)
    .map(([name, expression]) => `${expression} as ${m.q(`m_${name}`)}`)
    .join(', ');
}
