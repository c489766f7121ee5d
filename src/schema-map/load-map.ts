import { readFileSync } from 'node:fs';
import { type ParseError, parse, printParseErrorCode } from 'jsonc-parser';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { compileMap, type MapModel, MapRuleError } from './map-model.js';
import { type SchemaMap, schemaMapSchema } from './schema-map.js';

/** A map file read and checked: the map as written, and compiled. */
export interface LoadedMap {
  /** Where it came from: a path, or `built-in demo map`. */
  readonly origin: string;
  readonly map: SchemaMap;
  readonly model: MapModel;
}

/**
 * Reads a map file (JSON; comments and trailing commas allowed, since
 * `schema init` drafts one with TODO comments), validates it and compiles it.
 * Every error is a ConfigError naming the file and the map path
 * (`orgshift.map.json: target.org.owner: …`).
 */
export function loadMapFile(path: string): LoadedMap {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new ConfigError('ORGSHIFT_MAP', `cannot read the map file ${path}`);
  }
  return parseMap(text, path);
}

export function parseMap(text: string, origin: string): LoadedMap {
  const errors: ParseError[] = [];
  const raw: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  const first = errors[0];
  if (first !== undefined) {
    const { line, column } = lineAndColumn(text, first.offset);
    throw new ConfigError(
      origin,
      `is not valid JSON (${printParseErrorCode(first.error)} at line ${line}, column ${column})`,
    );
  }
  return checkMap(raw, origin);
}

/** Validates a map given as a value (library callers pass objects). */
export function checkMap(raw: unknown, origin: string): LoadedMap {
  const result = schemaMapSchema.safeParse(raw);
  if (!result.success) {
    const { path, message } = describeIssue(result.error.issues[0]);
    throw new ConfigError(`${origin}: ${path || '(top level)'}`, message);
  }
  try {
    return Object.freeze({ origin, map: result.data, model: compileMap(result.data) });
  } catch (error) {
    if (error instanceof MapRuleError)
      throw new ConfigError(`${origin}: ${error.path}`, error.message.slice(error.path.length + 2));
    throw error;
  }
}

type Issue = z.core.$ZodIssue;

/**
 * A field is a union told apart by its keys: zod reports every variant's
 * complaint. The variant the author meant is the one whose keys were all
 * recognized, so its first complaint is the useful one.
 */
function describeIssue(
  issue: Issue | undefined,
  prefix: readonly PropertyKey[] = [],
): { path: string; message: string } {
  if (issue === undefined) return { path: prefix.join('.'), message: 'invalid value' };
  const path = [...prefix, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const meant = issue.errors.find(
      (variant) => !variant.some((i) => i.code === 'unrecognized_keys' && i.path.length === 0),
    );
    if (meant !== undefined && meant.length > 0) return describeIssue(meant[0], path);
    return { path: path.join('.'), message: 'is none of the accepted forms (see schema-map.schema.json)' };
  }
  return { path: path.join('.'), message: issue.message };
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}
