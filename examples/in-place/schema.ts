import { readFile } from 'node:fs/promises';
import type { FixtureTarget } from './target.js';
import { openWriter } from './writer.js';

const SCHEMA_FILES = {
  postgres: new URL('./schema.postgres.sql', import.meta.url),
  sqlite: new URL('./schema.sqlite.sql', import.meta.url),
} as const;

/** Creates the app's tables on an empty database; if any exists it fails and creates nothing. */
export async function applyInPlaceSchema(target: FixtureTarget): Promise<void> {
  await openWriter(target).executeScript(await readFile(SCHEMA_FILES[target.kind], 'utf8'));
}
