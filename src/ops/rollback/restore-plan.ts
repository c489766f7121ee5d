import type { Row } from '../../db/database.js';
import type { MapSql } from '../../db/map-sql.js';
import { sameValue } from '../../directory/same-value.js';
import type { CodecSet } from '../../migration/codecs.js';
import { type FieldContext, fieldValue, jsonObjectOf, plain } from '../../migration/field-values.js';
import { columnOf, type TableInfo } from '../../schema-map/catalog.js';
import type { TargetField } from '../../schema-map/map-model.js';
import { labelOf } from '../../schema-map/table-name.js';

/** A change made on the organization side that the legacy row has no place for: lost by a rollback, so reported. */
export interface Discarded {
  /** Where the field sits in the map. */
  readonly field: string;
  /** `table.column` of the target. */
  readonly column: string;
}

export interface RestorePlan {
  /** Legacy column → the value it gets back (moved shape; in place the user row is the legacy row and keeps its values). */
  readonly legacy: ReadonlyMap<string, unknown>;
  readonly discarded: readonly Discarded[];
}

interface Target {
  readonly fields: readonly TargetField[];
  readonly row: Row | null;
  readonly table: TableInfo;
  readonly label: string;
}

/**
 * Carries the user's current state back to its legacy row: the legacy
 * system becomes the source of truth again. Each legacy column (and each
 * key of a legacy JSON column) gets its value from the first field that maps
 * it, in the order user, membership, org; a secret is decoded with the
 * target's codec and encoded with the legacy one. Whatever cannot go back
 * (a template, a constant, a value that lost to another field) is compared
 * with what the migration would write from the restored row: if it was
 * changed after the migration, the change is lost, and listed.
 */
export function planRestore(
  m: MapSql,
  codecs: CodecSet,
  key: string,
  legacy: Row,
  targets: { readonly user: Row | null; readonly membership: Row | null; readonly org: Row | null },
): RestorePlan {
  const model = m.model;
  const r = m.resolved;
  const order: Target[] = [
    ...(model.shape === 'moved'
      ? [{ fields: model.user.fields, row: targets.user, table: r.user, label: labelOf(model.user.table) }]
      : []),
    {
      fields: model.membership.fields,
      row: targets.membership,
      table: r.membership,
      label: labelOf(model.membership.table),
    },
    { fields: model.org.fields, row: targets.org, table: r.org, label: labelOf(model.org.table) },
  ];
  const restored = new Map<string, unknown>();
  const jsons = new Map<string, Record<string, unknown>>();
  const claimed = new Set<string>();
  const lost: { field: TargetField; target: Target }[] = [];
  // In place, the legacy row stayed live (the application kept writing it): only what the migration
  // moved out of it, its secrets, goes back; the other fields were copies and the row has the originals.
  const restorable = (field: TargetField) => model.shape === 'moved' || field.source.kind === 'secret';
  for (const target of order) {
    if (target.row === null) continue;
    for (const field of target.fields) {
      const value = plain(target.row[field.column]);
      const state = { key, codecs, legacy, restored, jsons, claimed };
      if (!restorable(field) || !restoreField(field, value, state)) lost.push({ field, target });
    }
  }
  for (const [column, object] of jsons) restored.set(column, object);
  const after: Row = { ...legacy, ...Object.fromEntries(restored) };
  const context: FieldContext = {
    key,
    orgId: targets.org ? String(targets.org[model.org.id.column]) : '',
    now: '',
    row: after,
    codecs,
  };
  const discarded: Discarded[] = [];
  for (const { field, target } of lost) {
    if (!changedSinceMigration(field, target, context)) continue;
    // Named as a person reads it (`orgs.name`), not quoted for SQL: it is a report.
    discarded.push(Object.freeze({ field: field.path, column: `${target.label}.${field.column}` }));
  }
  return { legacy: restored, discarded };
}

interface RestoreState {
  readonly key: string;
  readonly codecs: CodecSet;
  readonly legacy: Row;
  readonly restored: Map<string, unknown>;
  readonly jsons: Map<string, Record<string, unknown>>;
  /** Legacy columns and `column.key` JSON members already given a value. */
  readonly claimed: Set<string>;
}

/** Returns false when the field cannot go back (not invertible, or its legacy place was taken by an earlier field). */
function restoreField(field: TargetField, value: unknown, state: RestoreState): boolean {
  const source = field.source;
  switch (source.kind) {
    case 'column': {
      if (state.claimed.has(source.column)) return sameAsClaimed(state, source.column, value);
      state.claimed.add(source.column);
      state.restored.set(source.column, value);
      return true;
    }
    case 'secret': {
      if (state.claimed.has(source.column)) return false;
      state.claimed.add(source.column);
      state.restored.set(source.column, reencode(state, source.column, source.from, source.to, value));
      return true;
    }
    case 'json-key': {
      const object = jsonOf(state, source.json);
      const member = `${source.json}.${source.key}`;
      if (state.claimed.has(member)) return false;
      state.claimed.add(member);
      if (value === null) delete object[source.key];
      else object[source.key] = value;
      return true;
    }
    case 'json-object': {
      const object = jsonOf(state, source.json);
      const given = parsedObject(value);
      const kept = (name: string) =>
        source.pick !== undefined ? source.pick.includes(name) : !(source.omit ?? []).includes(name);
      for (const name of Object.keys(object))
        if (kept(name) && !state.claimed.has(`${source.json}.${name}`)) delete object[name];
      for (const [name, v] of Object.entries(given)) {
        if (!kept(name) || state.claimed.has(`${source.json}.${name}`)) continue;
        state.claimed.add(`${source.json}.${name}`);
        object[name] = v;
      }
      return true;
    }
    default:
      return false;
  }
}

function sameAsClaimed(state: RestoreState, column: string, value: unknown): boolean {
  return sameValue(state.restored.get(column), value, undefined);
}

function jsonOf(state: RestoreState, column: string): Record<string, unknown> {
  let object = state.jsons.get(column);
  if (object === undefined) {
    const context: FieldContext = { key: state.key, orgId: '', now: '', row: state.legacy, codecs: state.codecs };
    object = { ...(jsonObjectOf(context, column) ?? {}) };
    state.jsons.set(column, object);
  }
  return object;
}

function parsedObject(value: unknown): Record<string, unknown> {
  const parsed = typeof value === 'string' ? safeParse(value) : value;
  return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : {};
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function reencode(state: RestoreState, column: string, from: string, to: string, value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const decoder = state.codecs.get(to);
  const encoder = state.codecs.get(from);
  if (decoder === undefined || encoder === undefined)
    throw new TypeError(`codec ${decoder ? from : to} is not configured`);
  const plaintext = decoder.decode(String(value), { ownerId: state.key, column });
  return plaintext === null ? null : encoder.encode(plaintext, { ownerId: state.key });
}

/** The migration would write something else from the restored row: the target was changed after it. */
function changedSinceMigration(field: TargetField, target: Target, context: FieldContext): boolean {
  if (field.source.kind === 'now' || field.source.kind === 'org-id' || field.source.kind === 'user-key') return false;
  if (field.source.kind === 'secret') return false;
  let expected: unknown;
  try {
    expected = fieldValue(field, context);
  } catch {
    return true;
  }
  return !sameValue(expected, target.row?.[field.column], columnOf(target.table, field.column)?.family);
}
