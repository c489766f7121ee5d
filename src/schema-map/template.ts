/**
 * Templates build text from legacy columns: `"{display_name|email} (personal)"`.
 * A placeholder lists alternatives separated by `|`; the first that is not
 * NULL or empty is used. `{key}` is the user key. `{{` and `}}` are literal
 * braces. If a placeholder has no usable alternative the whole template is
 * NULL (and the field's `default`, if any, applies), so a NULL never turns
 * into the text "null".
 */
export type TemplatePart = { readonly literal: string } | { readonly alternatives: readonly string[] };

export interface Template {
  readonly source: string;
  readonly parts: readonly TemplatePart[];
  /** Every column name the placeholders mention (`key` excluded). */
  readonly columns: readonly string[];
}

export const TEMPLATE_KEY = 'key';

export class TemplateSyntaxError extends Error {}

export function parseTemplate(source: string): Template {
  const parts: TemplatePart[] = [];
  let literal = '';
  let i = 0;
  while (i < source.length) {
    const ch = source[i] as string;
    const next = source[i + 1];
    if ((ch === '{' && next === '{') || (ch === '}' && next === '}')) {
      literal += ch;
      i += 2;
      continue;
    }
    if (ch === '}') throw new TemplateSyntaxError(`unmatched "}" at ${i}`);
    if (ch !== '{') {
      literal += ch;
      i += 1;
      continue;
    }
    const end = source.indexOf('}', i + 1);
    if (end < 0) throw new TemplateSyntaxError(`unclosed "{" at ${i}`);
    const alternatives = source
      .slice(i + 1, end)
      .split('|')
      .map((name) => name.trim());
    if (alternatives.some((name) => name.length === 0)) throw new TemplateSyntaxError(`empty placeholder at ${i}`);
    if (literal.length > 0) parts.push({ literal });
    literal = '';
    parts.push({ alternatives: Object.freeze(alternatives) });
    i = end + 1;
  }
  if (literal.length > 0) parts.push({ literal });
  const columns = new Set<string>();
  for (const part of parts) {
    if ('alternatives' in part) for (const name of part.alternatives) if (name !== TEMPLATE_KEY) columns.add(name);
  }
  return Object.freeze({ source, parts: Object.freeze(parts), columns: Object.freeze([...columns]) });
}

/** Renders with `valueOf(column)`; null when a placeholder has no usable value. */
export function renderTemplate(template: Template, valueOf: (name: string) => unknown): string | null {
  let out = '';
  for (const part of template.parts) {
    if ('literal' in part) {
      out += part.literal;
      continue;
    }
    const value = firstUsable(part.alternatives, valueOf);
    if (value === null) return null;
    out += value;
  }
  return out;
}

function firstUsable(alternatives: readonly string[], valueOf: (name: string) => unknown): string | null {
  for (const name of alternatives) {
    const value = valueOf(name);
    if (value === null || value === undefined) continue;
    const text =
      value instanceof Date ? value.toISOString() : typeof value === 'object' ? JSON.stringify(value) : String(value);
    if (text.trim().length > 0) return text;
  }
  return null;
}
