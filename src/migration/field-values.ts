import { LegacyRowInvalidError } from '../errors.js';
import type { TargetField } from '../schema-map/map-model.js';
import { renderTemplate, TEMPLATE_KEY } from '../schema-map/template.js';
import type { CodecSet } from './codecs.js';
import { slugify, uniqueSlug } from './slug.js';

/** What a field's value is computed from: one legacy row and the ids the migration chose. */
export interface FieldContext {
  readonly key: string;
  readonly orgId: string;
  /** Migration time, ISO-8601. */
  readonly now: string;
  /** Legacy values by column name, as the driver returned them. */
  readonly row: Readonly<Record<string, unknown>>;
  readonly codecs: CodecSet;
}

/**
 * The value a target column gets. NULL stays NULL (a field's `default`
 * replaces it when given): nothing here ever turns a NULL into text.
 * Throws LegacyRowInvalidError (a JSON column that is not JSON) or
 * SecretUndecryptableError (a secret its codec cannot read), both naming
 * the column and never its content.
 */
export function fieldValue(field: TargetField, ctx: FieldContext): unknown {
  const source = field.source;
  switch (source.kind) {
    case 'column':
      return orDefault(plain(ctx.row[source.column]), source.fallback);
    case 'json-key': {
      const object = jsonObjectOf(ctx, source.json);
      return orDefault(object === null ? null : (object[source.key] ?? null), source.fallback);
    }
    case 'json-object': {
      const object = jsonObjectOf(ctx, source.json);
      return object === null ? null : pickKeys(object, source.pick, source.omit);
    }
    case 'const':
      return source.value;
    case 'template':
      return orDefault(
        renderTemplate(source.template, (name) => templateValue(ctx, name)),
        source.fallback,
      );
    case 'slug': {
      const text = renderTemplate(source.template, (name) => templateValue(ctx, name)) ?? ctx.key;
      return source.unique ? uniqueSlug(text, ctx.key) : slugify(text);
    }
    case 'now':
      return ctx.now;
    case 'secret':
      return secretValue(ctx, source.column, source.from, source.to);
    case 'user-key':
      return ctx.key;
    case 'org-id':
      return ctx.orgId;
  }
}

/** The plaintext a secret field holds in the legacy row (for fidelity checks); null when there is none. */
export function legacySecret(ctx: FieldContext, column: string, from: string): string | null {
  const stored = ctx.row[column];
  if (stored === null || stored === undefined) return null;
  return codec(ctx, from).decode(String(stored), { ownerId: ctx.key, column });
}

function secretValue(ctx: FieldContext, column: string, from: string, to: string): string | null {
  const plaintext = legacySecret(ctx, column, from);
  return plaintext === null ? null : codec(ctx, to).encode(plaintext, { ownerId: ctx.key });
}

function codec(ctx: FieldContext, name: string) {
  const found = ctx.codecs.get(name);
  // The map loader checked every codec name; this is a programming error.
  if (found === undefined) throw new TypeError(`codec ${name} is not configured`);
  return found;
}

function templateValue(ctx: FieldContext, name: string): unknown {
  return name === TEMPLATE_KEY ? ctx.key : plain(ctx.row[name]);
}

function orDefault(value: unknown, fallback: unknown): unknown {
  return value === null || value === undefined ? (fallback ?? null) : value;
}

/** Driver values as JSON can carry them: Dates as ISO text, bytes as PostgreSQL's hex form, bigints as text. */
export function plain(value: unknown): unknown {
  if (value === undefined) return null;
  if (value instanceof Date) return Number.isFinite(value.getTime()) ? value.toISOString() : null;
  if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`;
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** A legacy JSON column as an object (SQLite keeps JSON as text); null for NULL. */
export function jsonObjectOf(ctx: FieldContext, column: string): Readonly<Record<string, unknown>> | null {
  const value = ctx.row[column];
  if (value === null || value === undefined) return null;
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new LegacyRowInvalidError(ctx.key, column, 'JSON');
    }
  }
  if (parsed === null) return null;
  if (typeof parsed !== 'object' || Array.isArray(parsed))
    throw new LegacyRowInvalidError(ctx.key, column, 'a JSON object');
  return parsed as Readonly<Record<string, unknown>>;
}

function pickKeys(
  object: Readonly<Record<string, unknown>>,
  pick: readonly string[] | undefined,
  omit: readonly string[] | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    if (pick !== undefined ? pick.includes(key) : !(omit ?? []).includes(key)) out[key] = value;
  }
  return out;
}
