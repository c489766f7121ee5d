/**
 * Loads the OpenHands fixture into a PostgreSQL database.
 *
 *   npx tsx examples/openhands/load.ts postgres://postgres@127.0.0.1:5432/openhands \
 *     [--schema] [--users 100000] [--seed 1] [--dependents 2] [--manifest manifest.json]
 *
 * `--schema` runs schema.sql first (the database must be empty); without it,
 * load the schema yourself: psql -v ON_ERROR_STOP=1 -1 -f examples/openhands/schema.sql.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { generateOpenHandsData } from './generate.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    schema: { type: 'boolean', default: false },
    users: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '1' },
    dependents: { type: 'string', default: '2' },
    manifest: { type: 'string' },
  },
});
const url = positionals[0];
if (url === undefined) {
  console.error('usage: load.ts <postgres url> [--schema] [--users N] [--seed S] [--dependents K] [--manifest FILE]');
  process.exit(2);
}

const pool = new pg.Pool({ connectionString: url, max: 2 });
try {
  if (values.schema) await pool.query(readFileSync(new URL('./schema.sql', import.meta.url), 'utf8'));
  const started = performance.now();
  const manifest = await generateOpenHandsData(pool, {
    users: Number(values.users),
    seed: Number(values.seed),
    dependentsPerUser: Number(values.dependents),
  });
  const seconds = (performance.now() - started) / 1000;
  const rows = Object.entries(manifest.counts).map(([table, count]) => `${table} ${count}`);
  console.log(`generated in ${seconds.toFixed(1)} s: ${rows.join(', ')}`);
  console.log(
    `valid ids ${manifest.ids.valid.length}, NULL ids ${manifest.ids.nullRowIds.length}, duplicated ids ${manifest.ids.duplicated.length}`,
  );
  if (values.manifest !== undefined) writeFileSync(values.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
} finally {
  await pool.end();
}
