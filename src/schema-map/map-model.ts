import { columnsRead, type FieldSource, fieldSource, type JsonValue } from './field-source.js';
import type { CodecSpec, Fields, IdSpec, KeyType, Marker, SchemaMap } from './schema-map.js';
import { labelOf, type QualifiedName, qualifiedName, sameTable } from './table-name.js';
import { TemplateSyntaxError } from './template.js';

/**
 * The map compiled for the engine: table names parsed, fields classified,
 * defaults applied and every rule a JSON Schema cannot express checked
 * (`MapRuleError` names the map path). Still knows nothing of the database:
 * schema-check.ts (inspectMap) adds the catalog's tables and column types.
 */
export interface TargetField {
  readonly column: string;
  readonly source: FieldSource;
  /** Where the field sits in the map, for messages: `target.org.fields.name`. */
  readonly path: string;
}

export type Scalar = string | number | boolean;

export interface LegacyModel {
  readonly table: QualifiedName;
  readonly key: { readonly column: string; readonly type: KeyType; readonly pattern: RegExp | null };
  readonly marker: Marker;
}

export interface OrgModel {
  readonly table: QualifiedName;
  readonly id: IdSpec;
  readonly name: string | null;
  readonly kind: { readonly column: string; readonly personal: Scalar } | null;
  readonly owner: string | null;
  readonly fields: readonly TargetField[];
}

export interface UserModel {
  /** In place: the legacy table. */
  readonly table: QualifiedName;
  /** In place: the legacy key column. */
  readonly id: string;
  readonly currentOrg: string;
  readonly email: string | null;
  readonly displayName: string | null;
  readonly migratedAt: string | null;
  readonly fields: readonly TargetField[];
}

export type RoleModel =
  | {
      readonly kind: 'table';
      readonly table: QualifiedName;
      readonly column: string;
      readonly id: string;
      readonly name: string;
      readonly rank: string | null;
      readonly owner: string;
    }
  | {
      readonly kind: 'column';
      readonly column: string;
      readonly owner: string;
      readonly ranks: Readonly<Record<string, number>>;
    };

export interface MembershipModel {
  readonly table: QualifiedName;
  readonly org: string;
  readonly user: string;
  readonly id: IdSpec | null;
  readonly role: RoleModel;
  readonly status: { readonly column: string; readonly active: Scalar } | null;
  readonly fields: readonly TargetField[];
}

export interface DependentModel {
  readonly table: QualifiedName;
  /** The column holding the user, and the legacy column whose value it holds. */
  readonly userKey: { readonly column: string; readonly references: string };
  readonly org: { readonly column: string; readonly add: boolean; readonly keepAssigned: boolean } | null;
  readonly copyTo: {
    readonly table: QualifiedName;
    readonly columns: readonly TargetField[];
    readonly conflict: readonly string[];
  } | null;
  readonly path: string;
}

export interface MapModel {
  readonly shape: 'moved' | 'in-place';
  readonly legacy: LegacyModel;
  readonly org: OrgModel;
  readonly user: UserModel;
  readonly membership: MembershipModel;
  readonly dependents: readonly DependentModel[];
  readonly codecs: Readonly<Record<string, CodecSpec>>;
  /** `db migrate` may create the indexes `schema check` asks for. */
  readonly createIndexes: boolean;
  /** Every legacy column the migration reads (key and marker included). */
  readonly legacyColumns: readonly string[];
}

/** A rule of the map is broken; `path` is where, in the map's own terms. */
export class MapRuleError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}

/** Tables orgshift owns carry this prefix; a map may not name them. */
export const OWN_TABLE_PREFIX = 'orgshift_';

const DEFAULT_RANKS = Object.freeze({ owner: 10, admin: 20, member: 30 });

export function compileMap(map: SchemaMap): MapModel {
  const shape = map.target.shape;
  const legacyTable = qualifiedName(map.legacy.table);
  const legacy: LegacyModel = Object.freeze({
    table: legacyTable,
    key: Object.freeze({
      column: map.legacy.key.column,
      type: map.legacy.key.type,
      pattern: compilePattern(map.legacy.key.pattern),
    }),
    marker: map.legacy.marker,
  });
  const codecs = map.codecs ?? {};
  const org = compileOrg(map, codecs);
  const user = compileUser(map, legacy, codecs);
  const membership = compileMembership(map, codecs);
  const dependents = (map.dependents ?? []).map((d, i) => compileDependent(d, i, legacy.key.column));
  const model: MapModel = Object.freeze({
    shape,
    legacy,
    org,
    user,
    membership,
    dependents: Object.freeze(dependents),
    codecs,
    createIndexes: map.createIndexes ?? false,
    legacyColumns: Object.freeze(legacyColumnsOf(legacy, [org, user, membership], dependents)),
  });
  checkTables(model);
  return model;
}

function compilePattern(pattern: string | undefined): RegExp | null {
  if (pattern === undefined) return null;
  try {
    // Anchored whatever the author wrote: a key must match whole.
    return new RegExp(`^(?:${pattern})$`, 'u');
  } catch {
    throw new MapRuleError('legacy.key.pattern', 'is not a valid regular expression');
  }
}

function compileFields(fields: Fields | undefined, path: string, codecs: Readonly<Record<string, CodecSpec>>) {
  const compiled: TargetField[] = [];
  for (const [column, field] of Object.entries(fields ?? {})) {
    const at = `${path}.${column}`;
    let source: FieldSource;
    try {
      source = fieldSource(field);
    } catch (error) {
      if (error instanceof TemplateSyntaxError) throw new MapRuleError(at, `template: ${error.message}`);
      throw error;
    }
    if (source.kind === 'secret') {
      for (const codec of [source.from, source.to]) {
        if (codecs[codec] === undefined) throw new MapRuleError(at, `codec "${codec}" is not defined in codecs`);
      }
      if (source.encryptNull && codecs[source.to]?.codec !== 'jwe') {
        throw new MapRuleError(at, 'encryptNull needs a target codec that can hold an encrypted NULL (jwe)');
      }
    }
    if (source.kind === 'json-object' && source.pick !== undefined && source.omit !== undefined) {
      throw new MapRuleError(at, 'give pick or omit, not both');
    }
    compiled.push(Object.freeze({ column, source, path: at }));
  }
  return Object.freeze(compiled);
}

function refuseStructural(fields: readonly TargetField[], structural: readonly (string | null)[]): void {
  for (const field of fields) {
    if (structural.includes(field.column)) {
      throw new MapRuleError(field.path, 'this column is set by the migration itself; remove it from fields');
    }
  }
}

function compileOrg(map: SchemaMap, codecs: Readonly<Record<string, CodecSpec>>): OrgModel {
  const spec = map.target.org;
  if (spec.id.generate !== 'user-key' && spec.owner === undefined) {
    throw new MapRuleError(
      'target.org.owner',
      'is required when the org id is not the user key (it is how the personal org is found)',
    );
  }
  const fields = compileFields(spec.fields, 'target.org.fields', codecs);
  refuseStructural(fields, [spec.id.column, spec.kind?.column ?? null, spec.owner ?? null]);
  return Object.freeze({
    table: qualifiedName(spec.table),
    id: spec.id,
    name: spec.name ?? null,
    kind: spec.kind ? Object.freeze({ column: spec.kind.column, personal: spec.kind.personal }) : null,
    owner: spec.owner ?? null,
    fields,
  });
}

function compileUser(map: SchemaMap, legacy: LegacyModel, codecs: Readonly<Record<string, CodecSpec>>): UserModel {
  const spec = map.target.user;
  const inPlace = map.target.shape === 'in-place';
  if (inPlace && spec.table !== undefined) {
    const table = qualifiedName(spec.table);
    if (!sameTable(table, legacy.table, null)) {
      throw new MapRuleError('target.user.table', 'in place, the user table is the legacy table; leave it out');
    }
  }
  if (!inPlace && spec.table === undefined) {
    throw new MapRuleError('target.user.table', 'is required for the moved shape');
  }
  if (inPlace && spec.migratedAt !== undefined) {
    throw new MapRuleError('target.user.migratedAt', 'in place, use the legacy marker instead');
  }
  const fields = compileFields(spec.fields, 'target.user.fields', codecs);
  const id = inPlace ? legacy.key.column : (spec.id ?? 'id');
  refuseStructural(fields, [id, spec.currentOrg, spec.migratedAt ?? null]);
  if (inPlace && legacy.marker.type !== 'derived' && legacy.marker.column === spec.currentOrg) {
    throw new MapRuleError('legacy.marker.column', "must not be the user's org column");
  }
  return Object.freeze({
    table: inPlace ? legacy.table : qualifiedName(spec.table as NonNullable<typeof spec.table>),
    id,
    currentOrg: spec.currentOrg,
    email: spec.email ?? null,
    displayName: spec.displayName ?? null,
    migratedAt: spec.migratedAt ?? null,
    fields,
  });
}

function compileMembership(map: SchemaMap, codecs: Readonly<Record<string, CodecSpec>>): MembershipModel {
  const spec = map.target.membership;
  if (spec.id?.generate === 'user-key') {
    throw new MapRuleError(
      'target.membership.id.generate',
      'a membership id cannot be the user key; use uuid or random-text',
    );
  }
  const role: RoleModel =
    'table' in spec.role
      ? Object.freeze({
          kind: 'table',
          table: qualifiedName(spec.role.table),
          column: spec.role.column,
          id: spec.role.id,
          name: spec.role.name,
          rank: spec.role.rank ?? null,
          owner: spec.role.owner,
        })
      : Object.freeze({
          kind: 'column',
          column: spec.role.column,
          owner: spec.role.owner,
          ranks: Object.freeze({ ...DEFAULT_RANKS, ...spec.role.ranks }),
        });
  const fields = compileFields(spec.fields, 'target.membership.fields', codecs);
  refuseStructural(fields, [spec.org, spec.user, spec.id?.column ?? null, role.column, spec.status?.column ?? null]);
  if (spec.org === spec.user) throw new MapRuleError('target.membership.user', 'must differ from the org column');
  return Object.freeze({
    table: qualifiedName(spec.table),
    org: spec.org,
    user: spec.user,
    id: spec.id ?? null,
    role,
    status: spec.status ? Object.freeze({ column: spec.status.column, active: spec.status.active }) : null,
    fields,
  });
}

const COPY_KINDS = new Set(['column', 'const', 'now', 'user-key', 'org-id', 'template']);

function compileDependent(
  spec: NonNullable<SchemaMap['dependents']>[number],
  index: number,
  keyColumn: string,
): DependentModel {
  const path = `dependents.${index}`;
  if (spec.org === undefined && spec.copyTo === undefined) {
    throw new MapRuleError(path, 'needs org (update in place) or copyTo (copy into another table)');
  }
  let copyTo: DependentModel['copyTo'] = null;
  if (spec.copyTo !== undefined) {
    const columns = compileFields(spec.copyTo.columns, `${path}.copyTo.columns`, {});
    for (const column of columns) {
      if (!COPY_KINDS.has(column.source.kind)) {
        throw new MapRuleError(
          column.path,
          'a copied column comes from a column of the row, a constant, a template, now, userKey or orgId',
        );
      }
    }
    const conflict = spec.copyTo.conflict ?? [];
    for (const name of conflict) {
      if (!columns.some((c) => c.column === name)) {
        throw new MapRuleError(`${path}.copyTo.conflict`, `"${name}" is not one of the copied columns`);
      }
    }
    copyTo = Object.freeze({
      table: qualifiedName(spec.copyTo.table),
      columns,
      conflict: Object.freeze([...conflict]),
    });
  }
  return Object.freeze({
    table: qualifiedName(spec.table),
    userKey: Object.freeze({ column: spec.userKey.column, references: spec.userKey.references ?? keyColumn }),
    org: spec.org
      ? Object.freeze({
          column: spec.org.column,
          add: spec.org.add ?? false,
          keepAssigned: spec.org.keepAssigned ?? false,
        })
      : null,
    copyTo,
    path,
  });
}

function legacyColumnsOf(
  legacy: LegacyModel,
  targets: readonly { readonly fields: readonly TargetField[] }[],
  dependents: readonly DependentModel[],
): string[] {
  const columns = new Set<string>([legacy.key.column]);
  if (legacy.marker.type !== 'derived') columns.add(legacy.marker.column);
  for (const target of targets)
    for (const field of target.fields) for (const c of columnsRead(field.source)) columns.add(c);
  for (const dependent of dependents) columns.add(dependent.userKey.references);
  return [...columns];
}

/** Tables must be distinct where the algorithm needs them to be, and never orgshift's own. */
function checkTables(model: MapModel): void {
  const named: [string, QualifiedName][] = [
    ['legacy.table', model.legacy.table],
    ['target.org.table', model.org.table],
    ['target.membership.table', model.membership.table],
    ...(model.shape === 'moved' ? ([['target.user.table', model.user.table]] as [string, QualifiedName][]) : []),
    ...(model.membership.role.kind === 'table'
      ? ([['target.membership.role.table', model.membership.role.table]] as [string, QualifiedName][])
      : []),
  ];
  const dependents: [string, QualifiedName][] = model.dependents.flatMap((d) => [
    [`${d.path}.table`, d.table] as [string, QualifiedName],
    ...(d.copyTo ? [[`${d.path}.copyTo.table`, d.copyTo.table] as [string, QualifiedName]] : []),
  ]);
  for (const [path, table] of [...named, ...dependents]) {
    if (table.name.toLowerCase().startsWith(OWN_TABLE_PREFIX)) {
      throw new MapRuleError(
        path,
        `"${labelOf(table)}" is named like one of orgshift's own tables (${OWN_TABLE_PREFIX}*)`,
      );
    }
  }
  for (let i = 0; i < named.length; i++) {
    for (let j = i + 1; j < named.length; j++) {
      const [pathA, a] = named[i] as [string, QualifiedName];
      const [pathB, b] = named[j] as [string, QualifiedName];
      if (sameTable(a, b, null)) throw new MapRuleError(pathB, `is the same table as ${pathA}`);
    }
  }
  for (const [path, table] of dependents) {
    const clash = named.find(([, t]) => sameTable(t, table, null));
    if (clash) throw new MapRuleError(path, `is the same table as ${clash[0]}; a dependent must be another table`);
  }
}

/** Convenience for code that needs every value a field may write when its source is NULL. */
export function fallbackOf(source: FieldSource): JsonValue | undefined {
  return 'fallback' in source ? source.fallback : undefined;
}
