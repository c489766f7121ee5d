import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { ColumnInfo } from '../../schema-map/catalog.js';

const FIRST = ['ada', 'grace', 'alan', 'edsger', 'barbara', 'donald', 'margaret', 'ken', 'radia', 'linus'];
const LAST = ['lovelace', 'hopper', 'turing', 'dijkstra', 'liskov', 'knuth', 'hamilton', 'thompson', 'perlman'];
const MODELS = ['gpt-4o', 'claude-sonnet-4', 'llama-3-70b', 'mistral-large'];
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];

export function pick<T>(items: readonly T[]): T {
  return items[randomInt(items.length)] as T;
}

/** A person, consistent across the columns that describe them. */
export interface FakePerson {
  readonly first: string;
  readonly last: string;
  readonly email: string;
  readonly displayName: string;
}

export function fakePerson(key: string): FakePerson {
  const first = pick(FIRST);
  const last = pick(LAST);
  const tag = key.replace(/[^a-z0-9]/gi, '').slice(0, 16) || randomBytes(8).toString('hex');
  return {
    first,
    last,
    email: `${first}.${last}.${tag}@example.com`.toLowerCase(),
    displayName: `${capitalize(first)} ${capitalize(last)}`,
  };
}

function capitalize(word: string): string {
  return `${word[0]?.toUpperCase() ?? ''}${word.slice(1)}`;
}

/** A value for a JSON settings key, from what its name suggests. */
export function settingValue(key: string, person: FakePerson): unknown {
  if (key.includes('url')) return `https://llm-${person.first}.example.com/v1`;
  if (key.includes('model')) return pick(MODELS);
  if (key === 'theme') return pick(['light', 'dark', 'system']);
  if (key === 'language') return pick(['en', 'de', 'fr', 'ja']);
  if (key === 'notifications') return randomInt(2) === 1;
  return pick(WORDS);
}

/**
 * A plausible value for a column nobody mapped but the table requires (NOT
 * NULL without a default), or that reads like a label: by name first, then
 * by type. null when the type is one it cannot invent.
 */
export function columnValue(column: ColumnInfo, person: FakePerson, label: string): unknown {
  const name = column.name.toLowerCase();
  switch (column.family) {
    case 'text':
      if (name.includes('email')) return person.email;
      if (name.includes('name')) return person.displayName;
      return label;
    case 'uuid':
      return randomUUID();
    case 'integer':
    case 'bigint':
      return randomInt(1, 1000);
    case 'numeric':
      return randomInt(1, 10_000) / 100;
    case 'boolean':
      return randomInt(2) === 1;
    case 'timestamp':
    case 'timestamptz':
      return new Date(Date.now() - randomInt(1, 3 * 365) * 86_400_000).toISOString();
    case 'date':
      return new Date(Date.now() - randomInt(1, 3 * 365) * 86_400_000).toISOString().slice(0, 10);
    case 'json':
    case 'jsonb':
      return {};
    default:
      return null;
  }
}

/** Column names that read like a human label, worth filling even when nullable. */
export function isLabel(column: ColumnInfo): boolean {
  return column.family === 'text' && /^(title|name|label|description)$/i.test(column.name);
}
