import type { JsonValue } from './field-source.js';

/**
 * JSON with `//` comments above the properties they explain: how `schema
 * init` writes a draft a person finishes by hand. The output is what
 * load-map.ts reads (jsonc-parser); without the comments it is plain JSON.
 */
export type JsonPath = readonly (string | number)[];

export class JsonComments {
  readonly #byPath = new Map<string, string[]>();

  add(path: JsonPath, text: string): void {
    const key = keyOf(path);
    const list = this.#byPath.get(key) ?? [];
    list.push(text);
    this.#byPath.set(key, list);
  }

  at(path: JsonPath): readonly string[] {
    return this.#byPath.get(keyOf(path)) ?? [];
  }

  /** True when a comment sits on `path` or anywhere below it (such a value is never printed on one line). */
  within(path: JsonPath): boolean {
    const key = keyOf(path);
    for (const other of this.#byPath.keys()) if (other === key || other.startsWith(`${key}\u0000`)) return true;
    return false;
  }
}

const INLINE_WIDTH = 100;

/** `header` lines go on top; `comments` above the properties and array items they are attached to. */
export function printCommentedJson(value: JsonValue, comments: JsonComments, header: readonly string[] = []): string {
  const lines = header.flatMap((line) => commentLines(line, ''));
  for (const line of comments.at([])) lines.push(...commentLines(line, ''));
  return `${[...lines, printValue(value, [], 0, comments)].join('\n')}\n`;
}

function printValue(value: JsonValue, path: JsonPath, depth: number, comments: JsonComments): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const entries: [string | number, JsonValue][] = Array.isArray(value)
    ? (value as readonly JsonValue[]).map((v, i) => [i, v])
    : Object.entries(value as { readonly [key: string]: JsonValue });
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0) return `${open}${close}`;
  const item = ([key, v]: [string | number, JsonValue], d: number) =>
    `${typeof key === 'number' ? '' : `${JSON.stringify(key)}: `}${printValue(v, [...path, key], d, comments)}`;
  const items = entries.map((e) => item(e, 0)).join(', ');
  const inline = Array.isArray(value) ? `[${items}]` : `{ ${items} }`;
  const nestedComments = entries.some(([key]) => comments.within([...path, key]));
  if (!nestedComments && !inline.includes('\n') && inline.length + depth * 2 <= INLINE_WIDTH) return inline;
  const pad = '  '.repeat(depth + 1);
  const body = entries.map((entry, i) => {
    const above = comments.at([...path, entry[0]]).flatMap((line) => commentLines(line, pad));
    return [...above, `${pad}${item(entry, depth + 1)}${i < entries.length - 1 ? ',' : ''}`].join('\n');
  });
  return `${open}\n${body.join('\n')}\n${'  '.repeat(depth)}${close}`;
}

/** One comment, one `//` line per line of text; control characters (from odd identifiers) cannot end it early. */
function commentLines(text: string, pad: string): string[] {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is replaced
  const controls = /[\u0000-\u001f\u007f\u2028\u2029]/g;
  return text.split('\n').map((line) => `${pad}// ${line.replace(controls, '?')}`.trimEnd());
}

function keyOf(path: JsonPath): string {
  return path.map(String).join('\u0000');
}
