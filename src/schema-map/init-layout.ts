import { OrgshiftError } from '../errors.js';
import { type ColumnInfo, columnOf, hasIndexOn, type TableInfo } from './catalog.js';
import {
  BOOKKEEPING,
  EMAIL,
  emailColumn,
  foreignKeyColumn,
  keyTypeOf,
  LEGACY_TABLES,
  MEMBER_USER_COLUMN,
  MEMBERSHIP_TABLES,
  ORG_TABLES,
  orgColumnOf,
  primaryKeyColumn,
  ROLE_TABLES,
  sameGroup,
  sameName,
  USER_KEY_LIKE,
  USER_TABLES,
  words,
} from './init-conventions.js';

/**
 * Which table plays which part, read from the catalog alone: the first half
 * of `schema init` (schema-init.ts writes the draft from it).
 */

/** The database has no table a map could start from. */
export class NothingToDraftError extends OrgshiftError {
  constructor(message: string) {
    super('schema_invalid', message);
  }
}

export interface KeyPick {
  readonly column: ColumnInfo;
  readonly why: string;
}

export interface DependentPick {
  readonly table: TableInfo;
  readonly column: ColumnInfo;
  /** The legacy column it holds (the key, unless a foreign key says otherwise). */
  readonly references: string;
  readonly how: string;
}

export interface LegacyPick {
  readonly table: TableInfo;
  readonly key: KeyPick;
  readonly email: ColumnInfo | undefined;
  readonly dependents: readonly DependentPick[];
  readonly others: readonly TableInfo[];
}

export interface Layout {
  readonly tables: readonly TableInfo[];
  readonly ignored: readonly TableInfo[];
  readonly org: TableInfo | null;
  readonly membership: TableInfo | null;
  readonly roles: TableInfo | null;
  /** The target user table of the moved shape (null in place, or when there is none yet). */
  readonly user: TableInfo | null;
  readonly legacy: LegacyPick;
  readonly inPlace: boolean;
}

export function analyse(all: readonly TableInfo[]): Layout {
  const ignored = all.filter((t) => BOOKKEEPING.some((re) => re.test(t.name.name)));
  const tables = all.filter((t) => !ignored.includes(t));
  if (tables.length === 0) {
    throw new NothingToDraftError(
      'the database has no tables (besides bookkeeping ones): there is nothing to draft a map from',
    );
  }
  const roles = byName(tables, ROLE_TABLES, []);
  const org = byName(tables, ORG_TABLES, [roles]);
  const membership = byName(tables, MEMBERSHIP_TABLES, [roles, org]) ?? membershipByShape(tables, org, [roles]);
  const targetUser = targetUserTable(tables, membership, [org, roles, membership]);
  const legacy = pickLegacy(tables, org, [org, roles, membership], targetUser);
  const inPlace = orgColumnOf(legacy.table, org) !== undefined || (legacy.table === targetUser && org !== null);
  return Object.freeze({
    tables,
    ignored,
    org,
    membership,
    roles,
    user: inPlace || targetUser === legacy.table ? null : targetUser,
    legacy,
    inPlace,
  });
}

/** The table whose name is earliest in `names` (then the most referenced), among those not taken. */
function byName(
  tables: readonly TableInfo[],
  names: readonly string[],
  taken: readonly (TableInfo | null)[],
): TableInfo | null {
  const found = tables
    .filter((t) => !taken.includes(t) && names.includes(words(t.name.name)))
    .sort(
      (a, b) =>
        names.indexOf(words(a.name.name)) - names.indexOf(words(b.name.name)) ||
        referenceCount(tables, b) - referenceCount(tables, a),
    );
  return found[0] ?? null;
}

/** No membership-like name: a table with foreign keys to the org table and to one other table. */
function membershipByShape(
  tables: readonly TableInfo[],
  org: TableInfo | null,
  taken: readonly (TableInfo | null)[],
): TableInfo | null {
  if (org === null) return null;
  return (
    tables.find(
      (t) =>
        t !== org &&
        !taken.includes(t) &&
        foreignKeyColumn(t, org) !== undefined &&
        t.foreignKeys.some((fk) => !sameName(fk.references, org.name) && fk.columns.length === 1),
    ) ?? null
  );
}

function targetUserTable(
  tables: readonly TableInfo[],
  membership: TableInfo | null,
  taken: readonly (TableInfo | null)[],
): TableInfo | null {
  if (membership !== null) {
    for (const fk of membership.foreignKeys) {
      const column = fk.columns[0];
      if (fk.columns.length !== 1 || column === undefined || !MEMBER_USER_COLUMN.test(words(column))) continue;
      const table = tables.find((t) => sameName(t.name, fk.references));
      if (table !== undefined) return table;
    }
  }
  return byName(tables, USER_TABLES, taken);
}

function pickLegacy(
  tables: readonly TableInfo[],
  org: TableInfo | null,
  targets: readonly (TableInfo | null)[],
  targetUser: TableInfo | null,
): LegacyPick {
  const candidates = tables.filter((t) => !targets.includes(t) && t.columns.some((c) => EMAIL.test(words(c.name))));
  const pool =
    candidates.length > 0
      ? candidates
      : tables.filter((t) => !targets.includes(t) && LEGACY_TABLES.includes(words(t.name.name)));
  const scored = pool.flatMap((table) => {
    const key = pickKey(table);
    if (key === null) return [];
    const dependents = dependentsOf(table, key.column, tables, [...targets, targetUser]);
    const moved = table !== targetUser && orgColumnOf(table, org) === undefined;
    const named = LEGACY_TABLES.indexOf(words(table.name.name));
    const score = (moved ? 1000 : 0) + dependents.length * 10 + (named < 0 ? 0 : LEGACY_TABLES.length - named);
    return [{ table, key, dependents, score }];
  });
  scored.sort((a, b) => b.score - a.score || a.table.name.name.localeCompare(b.table.name.name));
  const best = scored[0];
  if (best === undefined) {
    throw new NothingToDraftError(
      'no table looks like a users table (an email column, a text, uuid or integer key that other tables reference): write the map by hand',
    );
  }
  return Object.freeze({
    table: best.table,
    key: best.key,
    email: emailColumn(best.table),
    dependents: best.dependents,
    others: scored.slice(1).map((s) => s.table),
  });
}

/** A generated integer primary key is a surrogate: an indexed `*user_id` column beside it is the key the rest of the schema uses. */
function pickKey(table: TableInfo): KeyPick | null {
  const pk = primaryKeyColumn(table);
  const userIds = table.columns.filter((c) => USER_KEY_LIKE.test(words(c.name)) && keyTypeOf(c.family) !== null);
  const indexed =
    userIds.find((c) => hasIndexOn(table, [c.name], true)) ?? userIds.find((c) => hasIndexOn(table, [c.name]));
  const surrogate = pk === undefined || pk.generated || keyTypeOf(pk.family) === null;
  if (indexed && surrogate) {
    return {
      column: indexed,
      why: `${indexed.name} is an indexed user id${pk ? ` (the primary key ${pk.name} looks like a surrogate)` : ''}.`,
    };
  }
  if (pk && keyTypeOf(pk.family) !== null) return { column: pk, why: `${pk.name} is the primary key.` };
  const first = userIds[0];
  if (first) return { column: first, why: `${first.name} looks like a user id (not indexed).` };
  return null;
}

function dependentsOf(
  legacy: TableInfo,
  key: ColumnInfo,
  tables: readonly TableInfo[],
  excluded: readonly (TableInfo | null)[],
): DependentPick[] {
  const names = new Set(['user_id', words(key.name)]);
  if (!USER_KEY_LIKE.test(words(key.name))) {
    names.delete(words(key.name));
    names.add(`${words(legacy.name.name).replace(/s$/, '')}_id`);
  }
  const picks: DependentPick[] = [];
  for (const table of tables) {
    if (table === legacy || excluded.includes(table)) continue;
    const byForeignKey = table.foreignKeys.find(
      (fk) => fk.columns.length === 1 && sameName(fk.references, legacy.name),
    );
    const fkColumn = byForeignKey ? columnOf(table, byForeignKey.columns[0] as string) : undefined;
    if (byForeignKey && fkColumn) {
      const references = byForeignKey.referencedColumns[0] ?? key.name;
      picks.push({ table, column: fkColumn, references, how: `by its foreign key ${byForeignKey.name}` });
      continue;
    }
    const byName = table.columns.find(
      (c) =>
        names.has(words(c.name)) &&
        sameGroup(c.family, key.family) &&
        // A column with a foreign key to another table holds that table's ids (say, the target user's).
        !table.foreignKeys.some((fk) => fk.columns.includes(c.name) && !sameName(fk.references, legacy.name)),
    );
    if (byName) picks.push({ table, column: byName, references: key.name, how: `by name (${byName.name})` });
  }
  return picks;
}

function referenceCount(tables: readonly TableInfo[], target: TableInfo): number {
  return tables.filter((t) => t.foreignKeys.some((fk) => sameName(fk.references, target.name))).length;
}
