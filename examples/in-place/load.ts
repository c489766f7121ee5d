/**
 * Creates the in-place fixture in a database, for trying a schema map by hand
 * or timing the generator:
 *   npx tsx examples/in-place/load.ts --sqlite /tmp/kanbu.db --users 20000
 *   npx tsx examples/in-place/load.ts --postgres postgres://postgres@127.0.0.1:5432/kanbu --users 100000
 * The database must be empty. Prints a summary, or with --manifest FILE
 * writes the whole manifest there.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { type FixtureTarget, generateInPlaceData } from './generate.js';
import { applyInPlaceSchema } from './schema.js';

const { values } = parseArgs({
  options: {
    sqlite: { type: 'string' },
    postgres: { type: 'string' },
    users: { type: 'string', default: '1000' },
    native: { type: 'string', default: '0' },
    seed: { type: 'string', default: '1' },
    batch: { type: 'string', default: '5000' },
    manifest: { type: 'string' },
  },
});

if (Boolean(values.sqlite) === Boolean(values.postgres)) {
  console.error(
    'usage: load.ts (--sqlite FILE | --postgres URL) [--users N] [--native N] [--seed N] [--batch N] [--manifest FILE]',
  );
  process.exit(2);
}

const target: FixtureTarget = values.postgres
  ? { kind: 'postgres', pool: new pg.Pool({ connectionString: values.postgres, max: 2 }) }
  : { kind: 'sqlite', db: new Database(values.sqlite as string) };
try {
  const schemaStarted = performance.now();
  await applyInPlaceSchema(target);
  const started = performance.now();
  const manifest = await generateInPlaceData(target, {
    users: Number(values.users),
    nativeUsers: Number(values.native),
    seed: Number(values.seed),
    batchSize: Number(values.batch),
  });
  const seconds = (performance.now() - started) / 1000;
  if (values.manifest) await writeFile(values.manifest, JSON.stringify(manifest, null, 2));
  console.log(
    JSON.stringify(
      {
        schemaSeconds: Number(((started - schemaStarted) / 1000).toFixed(2)),
        generateSeconds: Number(seconds.toFixed(2)),
        counts: manifest.counts,
        withoutOrganization: manifest.withoutOrganization,
        inTeams: manifest.inTeams,
        legacyUsersWithTeamMemberships: manifest.legacyUsersWithTeamMemberships.length,
        samples: manifest.samples.length,
      },
      null,
      2,
    ),
  );
} finally {
  if (target.kind === 'postgres') await target.pool.end();
  else target.db.close();
}
