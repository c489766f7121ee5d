import {
  type Catalog,
  type CatalogSnapshot,
  type ColumnInfo,
  columnOf,
  hasIndexOn,
  type TableInfo,
  type TypeFamily,
  type ValueStorage,
} from './catalog.js';
import { columnsRead } from './field-source.js';
import type { DependentModel, MapModel, TargetField } from './map-model.js';
import type { KeyType } from './schema-map.js';
import { labelOf, type QualifiedName } from './table-name.js';

/**
 * The map against the live catalog: every table and column exists with a
 * compatible type, keys and foreign keys are indexed, the fence has the
 * unique constraints it relies on. Each problem names the map path and the
 * database object. `error` problems make the map unusable (open() refuses
 * it); `index` problems make it slow (a scan per user), and `schema check`
 * still exits 2 for them, with the statement that fixes each.
 */
export interface SchemaProblem {
  readonly severity: 'error' | 'index';
  readonly path: string;
  readonly object: string;
  readonly message: string;
  /** SQL that would fix it, when there is an obvious one. */
  readonly fix?: string;
}

/** The map with every table it names described by the catalog; only built when no `error` problem was found. */
export interface ResolvedMap {
  readonly model: MapModel;
  readonly catalog: CatalogSnapshot;
  readonly legacy: TableInfo;
  readonly org: TableInfo;
  readonly user: TableInfo;
  readonly membership: TableInfo;
  readonly roles: TableInfo | null;
  readonly dependents: readonly ResolvedDependent[];
  /** The legacy key has a unique index, so a key can never match two rows. */
  readonly keyUnique: boolean;
}

export interface ResolvedDependent {
  readonly model: DependentModel;
  readonly table: TableInfo;
  readonly copy: TableInfo | null;
}

export interface SchemaInspection {
  readonly problems: readonly SchemaProblem[];
  readonly resolved: ResolvedMap | null;
}

/** Type families a value of each key type can be stored in. */
export const KEY_FAMILIES: Readonly<Record<KeyType, readonly TypeFamily[]>> = Object.freeze({
  text: ['text', 'other'],
  uuid: ['uuid', 'text'],
  integer: ['integer', 'bigint', 'numeric'],
  bigint: ['bigint', 'integer', 'numeric'],
});
const JSONS: readonly TypeFamily[] = ['json', 'jsonb', 'text', 'other'];
const TEXTS: readonly TypeFamily[] = ['text', 'other'];

export async function inspectMap(model: MapModel, catalog: Catalog): Promise<SchemaInspection> {
  const names = tablesOf(model);
  const snapshot = await catalog.describe(names);
  const check = new Checker(model, snapshot, catalog.storage);
  return check.run();
}

export function tablesOf(model: MapModel): QualifiedName[] {
  const role = model.membership.role;
  return [
    model.legacy.table,
    model.org.table,
    model.user.table,
    model.membership.table,
    ...(role.kind === 'table' ? [role.table] : []),
    ...model.dependents.flatMap((d) => [d.table, ...(d.copyTo ? [d.copyTo.table] : [])]),
  ];
}

class Checker {
  readonly #problems: SchemaProblem[] = [];

  constructor(
    readonly model: MapModel,
    readonly catalog: CatalogSnapshot,
    readonly storage: ValueStorage,
  ) {}

  run(): SchemaInspection {
    const m = this.model;
    const legacy = this.#table('legacy.table', m.legacy.table);
    const org = this.#table('target.org.table', m.org.table);
    const user = m.shape === 'in-place' ? legacy : this.#table('target.user.table', m.user.table);
    const membership = this.#table('target.membership.table', m.membership.table);
    const role = m.membership.role;
    const roles = role.kind === 'table' ? this.#table('target.membership.role.table', role.table) : null;
    if (legacy) this.#checkLegacy(legacy);
    if (org) this.#checkOrg(org);
    if (user && org) this.#checkUser(user, org, legacy);
    if (membership && org && user) this.#checkMembership(membership, org, user, roles);
    const dependents: ResolvedDependent[] = [];
    m.dependents.forEach((d) => {
      const table = this.#table(`${d.path}.table`, d.table);
      const copy = d.copyTo ? this.#table(`${d.path}.copyTo.table`, d.copyTo.table) : null;
      if (table && legacy) this.#checkDependent(d, table, copy, org, legacy);
      if (table) dependents.push(Object.freeze({ model: d, table, copy: copy ?? null }));
    });
    for (const [path, table] of [
      ['legacy.table', legacy],
      ['target.org.table', org],
      ['target.user.table', user],
      ['target.membership.table', membership],
    ] as const) {
      if (table) this.#checkForeignKeyIndexes(path, table);
    }
    for (const d of dependents) {
      this.#checkForeignKeyIndexes(`${d.model.path}.table`, d.table);
      if (d.copy) this.#checkForeignKeyIndexes(`${d.model.path}.copyTo.table`, d.copy);
    }
    const problems = Object.freeze([...this.#problems]);
    const fatal = problems.some((p) => p.severity === 'error');
    if (fatal || !legacy || !org || !user || !membership) return { problems, resolved: null };
    return {
      problems,
      resolved: Object.freeze({
        model: m,
        catalog: this.catalog,
        legacy,
        org,
        user,
        membership,
        roles: roles ?? null,
        dependents: Object.freeze(dependents),
        keyUnique: hasIndexOn(legacy, [m.legacy.key.column], true),
      }),
    };
  }

  #problem(severity: SchemaProblem['severity'], path: string, object: string, message: string, fix?: string): void {
    // One missing index is one problem, however many rules need it (a foreign key that is also a lookup key).
    if (fix !== undefined && this.#problems.some((p) => p.fix === fix)) return;
    this.#problems.push(Object.freeze({ severity, path, object, message, ...(fix ? { fix } : {}) }));
  }

  /** A table as the map names it: unqualified in the default schema. */
  #label(name: QualifiedName): string {
    return name.schema === null || name.schema === this.catalog.defaultSchema ? name.name : labelOf(name);
  }

  #table(path: string, name: QualifiedName): TableInfo | undefined {
    const table = this.catalog.get(name);
    if (table === undefined) this.#problem('error', path, this.#label(name), 'table does not exist');
    return table;
  }

  /** The column, or a problem; `families` restricts its type. `optional`: a column `db migrate` may add. */
  #column(
    path: string,
    table: TableInfo,
    name: string,
    families?: readonly TypeFamily[],
    what = 'a compatible type',
  ): ColumnInfo | undefined {
    const column = columnOf(table, name);
    const object = `${this.#label(table.name)}.${name}`;
    if (column === undefined) {
      this.#problem('error', path, object, 'column does not exist');
      return undefined;
    }
    if (families && !families.includes(column.family)) {
      this.#problem('error', path, object, `has type ${column.type}; expected ${what}`);
    }
    return column;
  }

  #quoteTable(name: QualifiedName): string {
    const inDefault = name.schema === null || name.schema === this.catalog.defaultSchema;
    return inDefault ? quote(name.name) : `${quote(name.schema as string)}.${quote(name.name)}`;
  }

  #index(path: string, table: TableInfo, columns: readonly string[], why: string, unique = false): void {
    if (columns.some((c) => columnOf(table, c) === undefined)) return;
    if (hasIndexOn(table, columns, unique)) return;
    const list = columns.map(quote).join(', ');
    const object = `${this.#label(table.name)}(${columns.join(', ')})`;
    const kind = unique ? 'unique index' : 'index';
    this.#problem(
      unique ? 'error' : 'index',
      path,
      object,
      `no ${kind}: ${why}`,
      `create ${kind} ${quote(indexName(table.name.name, columns))} on ${this.#quoteTable(table.name)} (${list});`,
    );
  }

  #checkLegacy(legacy: TableInfo): void {
    const { key, marker } = this.model.legacy;
    this.#column(
      'legacy.key.column',
      legacy,
      key.column,
      KEY_FAMILIES[key.type],
      `a column that can hold ${key.type} keys`,
    );
    this.#index('legacy.key.column', legacy, [key.column], 'every read and every migration looks a user up by it');
    if (marker.type !== 'derived') {
      const families = marker.type === 'timestamp' ? this.storage.timestamp : this.storage.boolean;
      if (columnOf(legacy, marker.column) === undefined && marker.add) {
        this.#problem(
          'error',
          'legacy.marker.column',
          `${this.#label(legacy.name)}.${marker.column}`,
          'column does not exist yet; `orgshift db migrate` adds it (the map allows it)',
        );
      } else {
        this.#column('legacy.marker.column', legacy, marker.column, families, `a ${marker.type} type`);
      }
    }
    this.#checkFieldSources(this.model.org.fields, legacy);
    this.#checkFieldSources(this.model.user.fields, legacy);
    this.#checkFieldSources(this.model.membership.fields, legacy);
  }

  #checkFieldSources(fields: readonly TargetField[], legacy: TableInfo): void {
    for (const field of fields) {
      const source = field.source;
      for (const name of columnsRead(source)) {
        const families =
          source.kind === 'json-key' || source.kind === 'json-object'
            ? JSONS
            : source.kind === 'secret'
              ? TEXTS
              : undefined;
        this.#column(field.path, legacy, name, families, source.kind === 'secret' ? 'text' : 'json, jsonb or text');
      }
    }
  }

  /** Target columns of `fields` exist; NOT NULL columns without a default get a value. */
  #checkTargetColumns(
    path: string,
    table: TableInfo,
    fields: readonly TargetField[],
    structural: readonly string[],
  ): void {
    for (const field of fields) {
      const families = field.source.kind === 'secret' ? TEXTS : undefined;
      this.#column(field.path, table, field.column, families, 'text');
    }
    const given = new Set([...structural, ...fields.map((f) => f.column)]);
    for (const column of table.columns) {
      if (!column.nullable && !column.hasDefault && !column.generated && !given.has(column.name)) {
        this.#problem(
          'error',
          path,
          `${this.#label(table.name)}.${column.name}`,
          'is NOT NULL without a default, and the map gives it no value',
        );
      }
    }
  }

  #checkOrg(org: TableInfo): void {
    const spec = this.model.org;
    const idFamilies: readonly TypeFamily[] =
      spec.id.generate === 'uuid'
        ? ['uuid', 'text']
        : spec.id.generate === 'random-text'
          ? TEXTS
          : KEY_FAMILIES[this.model.legacy.key.type];
    this.#column('target.org.id.column', org, spec.id.column, idFamilies, `a type that holds ${spec.id.generate} ids`);
    this.#index('target.org.id.column', org, [spec.id.column], 'org ids must be unique', true);
    if (spec.name) this.#column('target.org.name', org, spec.name);
    if (spec.kind) this.#column('target.org.kind.column', org, spec.kind.column);
    if (spec.owner) {
      this.#column(
        'target.org.owner',
        org,
        spec.owner,
        KEY_FAMILIES[this.model.legacy.key.type],
        'a type that holds user keys',
      );
      this.#index('target.org.owner', org, [spec.owner], 'one personal org per user, found by its owner', true);
    }
    const structural = [spec.id.column, ...(spec.kind ? [spec.kind.column] : []), ...(spec.owner ? [spec.owner] : [])];
    this.#checkTargetColumns('target.org.fields', org, spec.fields, structural);
  }

  #checkUser(user: TableInfo, org: TableInfo, legacy: TableInfo | undefined): void {
    const spec = this.model.user;
    const inPlace = this.model.shape === 'in-place';
    const orgId = columnOf(org, this.model.org.id.column);
    if (!inPlace) {
      this.#column(
        'target.user.id',
        user,
        spec.id,
        KEY_FAMILIES[this.model.legacy.key.type],
        'a type that holds user keys',
      );
      this.#index(
        'target.user.id',
        user,
        [spec.id],
        'a user row per key; the unique key is also the fence of a derived marker',
        true,
      );
    }
    const current = this.#column('target.user.currentOrg', user, spec.currentOrg);
    if (current && orgId && !compatible(current.family, orgId.family)) {
      this.#problem(
        'error',
        'target.user.currentOrg',
        `${this.#label(user.name)}.${spec.currentOrg}`,
        `has type ${current.type}, but org ids are ${orgId.type}`,
      );
    }
    for (const [path, name] of [
      ['target.user.email', spec.email],
      ['target.user.displayName', spec.displayName],
    ] as const) {
      if (name) this.#column(path, user, name);
    }
    if (spec.migratedAt)
      this.#column('target.user.migratedAt', user, spec.migratedAt, this.storage.timestamp, 'a timestamp type');
    if (inPlace) {
      for (const field of spec.fields) this.#column(field.path, user, field.column);
      if (current && !current.nullable && this.model.legacy.marker.type === 'derived') {
        this.#problem(
          'error',
          'legacy.marker',
          `${this.#label(user.name)}.${spec.currentOrg}`,
          'a derived marker in place needs the org column to be NULL until a user is migrated, but it is NOT NULL',
        );
      }
    } else {
      const structural = [spec.id, spec.currentOrg, ...(spec.migratedAt ? [spec.migratedAt] : [])];
      this.#checkTargetColumns('target.user.fields', user, spec.fields, structural);
    }
    void legacy;
  }

  #checkMembership(membership: TableInfo, org: TableInfo, user: TableInfo, roles: TableInfo | null | undefined): void {
    const spec = this.model.membership;
    const orgId = columnOf(org, this.model.org.id.column);
    const userId = columnOf(user, this.model.user.id);
    const orgColumn = this.#column('target.membership.org', membership, spec.org);
    const userColumn = this.#column('target.membership.user', membership, spec.user);
    if (orgColumn && orgId && !compatible(orgColumn.family, orgId.family)) {
      this.#problem(
        'error',
        'target.membership.org',
        `${this.#label(membership.name)}.${spec.org}`,
        `has type ${orgColumn.type}, but org ids are ${orgId.type}`,
      );
    }
    if (userColumn && userId && !compatible(userColumn.family, userId.family)) {
      this.#problem(
        'error',
        'target.membership.user',
        `${this.#label(membership.name)}.${spec.user}`,
        `has type ${userColumn.type}, but user ids are ${userId.type}`,
      );
    }
    this.#index('target.membership.user', membership, [spec.user], "every read loads a user's memberships by it");
    this.#index('target.membership.org', membership, [spec.org], "every read counts the personal org's members by it");
    if (spec.id) this.#column('target.membership.id.column', membership, spec.id.column);
    if (spec.status) this.#column('target.membership.status.column', membership, spec.status.column);
    const role = spec.role;
    this.#column('target.membership.role.column', membership, role.column);
    if (role.kind === 'table' && roles) {
      this.#column('target.membership.role.id', roles, role.id);
      this.#column('target.membership.role.name', roles, role.name);
      if (role.rank) this.#column('target.membership.role.rank', roles, role.rank);
    }
    const structural = [
      spec.org,
      spec.user,
      role.column,
      ...(spec.id ? [spec.id.column] : []),
      ...(spec.status ? [spec.status.column] : []),
    ];
    this.#checkTargetColumns('target.membership.fields', membership, spec.fields, structural);
  }

  #checkDependent(
    d: DependentModel,
    table: TableInfo,
    copy: TableInfo | null | undefined,
    org: TableInfo | undefined,
    legacy: TableInfo,
  ): void {
    const references = columnOf(legacy, d.userKey.references);
    if (references === undefined) this.#column(`${d.path}.userKey.references`, legacy, d.userKey.references);
    const userKey = this.#column(`${d.path}.userKey.column`, table, d.userKey.column);
    if (userKey && references && !compatible(userKey.family, references.family)) {
      this.#problem(
        'error',
        `${d.path}.userKey.column`,
        `${this.#label(table.name)}.${d.userKey.column}`,
        `has type ${userKey.type}, but ${this.#label(legacy.name)}.${d.userKey.references} is ${references.type}`,
      );
    }
    this.#index(`${d.path}.userKey.column`, table, [d.userKey.column], "a migration finds a user's rows by it");
    if (d.org) {
      const orgId = org ? columnOf(org, this.model.org.id.column) : undefined;
      const column = columnOf(table, d.org.column);
      if (column === undefined) {
        this.#problem(
          'error',
          `${d.path}.org.column`,
          `${this.#label(table.name)}.${d.org.column}`,
          d.org.add
            ? 'column does not exist yet; `orgshift db migrate` adds it (the map allows it)'
            : 'column does not exist (set "add": true to let `orgshift db migrate` add it)',
        );
      } else {
        if (orgId && !compatible(column.family, orgId.family)) {
          this.#problem(
            'error',
            `${d.path}.org.column`,
            `${this.#label(table.name)}.${d.org.column}`,
            `has type ${column.type}, but org ids are ${orgId.type}`,
          );
        }
        this.#index(`${d.path}.org.column`, table, [d.org.column], "the audit and rollback find an org's rows by it");
      }
    }
    if (d.copyTo && copy) {
      for (const field of d.copyTo.columns) {
        this.#column(field.path, copy, field.column);
        if (field.source.kind === 'column') this.#column(field.path, table, field.source.column);
      }
      const given = new Set(d.copyTo.columns.map((f) => f.column));
      for (const column of copy.columns) {
        if (!column.nullable && !column.hasDefault && !column.generated && !given.has(column.name)) {
          const object = `${this.#label(copy.name)}.${column.name}`;
          this.#problem(
            'error',
            `${d.path}.copyTo.columns`,
            object,
            'is NOT NULL without a default, and the map gives it no value',
          );
        }
      }
      if (d.copyTo.conflict.length > 0) {
        this.#index(
          `${d.path}.copyTo.conflict`,
          copy,
          d.copyTo.conflict,
          'a copy that exists already is recognized by it',
          true,
        );
      }
    }
  }

  /** Every foreign key of a mapped table is indexed: otherwise each delete of a parent, and each anti-join of the audit, scans. */
  #checkForeignKeyIndexes(path: string, table: TableInfo): void {
    for (const fk of table.foreignKeys) {
      if (hasIndexOn(table, fk.columns)) continue;
      this.#index(path, table, fk.columns, `foreign key ${fk.name} → ${this.#label(fk.references)} is not indexed`);
    }
  }
}

/** Two columns can hold the same ids (text holds uuids; integers widen). */
function compatible(a: TypeFamily, b: TypeFamily): boolean {
  if (a === b) return true;
  const groups: readonly (readonly TypeFamily[])[] = [
    ['text', 'uuid', 'other'],
    ['integer', 'bigint', 'numeric'],
  ];
  return groups.some((g) => g.includes(a) && g.includes(b));
}

function quote(identifier: string): string {
  return `"${identifier}"`;
}

/** `table_col1_col2_idx`, cut to PostgreSQL's 63 bytes. */
function indexName(table: string, columns: readonly string[]): string {
  let name = `${table}_${columns.join('_')}`;
  while (Buffer.byteLength(`${name}_idx`, 'utf8') > 63) name = name.slice(0, -1);
  return `${name}_idx`;
}
