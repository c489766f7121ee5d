import type { Field } from './schema-map.js';
import { parseTemplate, type Template } from './template.js';

/** A JSON value as the map writes it (constants, defaults). */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/**
 * A field of the map in a form the engine switches on. The map's JSON names
 * a field by the key it carries (`column`, `json`, `template`…); this is the
 * same thing with an explicit `kind` and parsed templates.
 */
export type FieldSource =
  | { readonly kind: 'column'; readonly column: string; readonly fallback: JsonValue | undefined }
  | { readonly kind: 'json-key'; readonly json: string; readonly key: string; readonly fallback: JsonValue | undefined }
  | {
      readonly kind: 'json-object';
      readonly json: string;
      readonly pick: readonly string[] | undefined;
      readonly omit: readonly string[] | undefined;
    }
  | { readonly kind: 'const'; readonly value: JsonValue }
  | { readonly kind: 'template'; readonly template: Template; readonly fallback: JsonValue | undefined }
  | { readonly kind: 'slug'; readonly template: Template; readonly unique: boolean }
  | { readonly kind: 'now' }
  | { readonly kind: 'secret'; readonly column: string; readonly from: string; readonly to: string }
  | { readonly kind: 'user-key' }
  | { readonly kind: 'org-id' };

export type FieldKind = FieldSource['kind'];

/** Throws TemplateSyntaxError for a bad template; the map loader turns that into a ConfigError with the path. */
export function fieldSource(field: Field): FieldSource {
  if ('column' in field)
    return { kind: 'column', column: field.column, fallback: field.default as JsonValue | undefined };
  if ('key' in field)
    return { kind: 'json-key', json: field.json, key: field.key, fallback: field.default as JsonValue | undefined };
  if ('json' in field) return { kind: 'json-object', json: field.json, pick: field.pick, omit: field.omit };
  if ('const' in field) return { kind: 'const', value: field.const as JsonValue };
  if ('template' in field) {
    return {
      kind: 'template',
      template: parseTemplate(field.template),
      fallback: field.default as JsonValue | undefined,
    };
  }
  if ('slug' in field) return { kind: 'slug', template: parseTemplate(field.slug), unique: field.unique ?? false };
  if ('now' in field) return { kind: 'now' };
  if ('secret' in field) return { kind: 'secret', column: field.secret, from: field.from, to: field.to };
  if ('userKey' in field) return { kind: 'user-key' };
  return { kind: 'org-id' };
}

/** The legacy columns a field reads (for the select list and for schema check). */
export function columnsRead(source: FieldSource): readonly string[] {
  switch (source.kind) {
    case 'column':
    case 'secret':
      return [source.column];
    case 'json-key':
    case 'json-object':
      return [source.json];
    case 'template':
    case 'slug':
      return source.template.columns;
    default:
      return [];
  }
}

/** Fields whose value can be recomputed from the legacy row, so deep verification can compare it. */
export function isDeterministic(source: FieldSource): boolean {
  return source.kind !== 'now';
}
