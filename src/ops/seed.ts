import { randomBytes, randomUUID } from 'node:crypto';
import { SecretCipher } from '../crypto/secret-cipher.js';
import { type Database, ident } from '../db/database.js';
import { inWriteQueue } from '../db/write-queue.js';

export interface SeedOptions {
  readonly users: number;
  /** Rows per user in each configured dependent table. */
  readonly dependents?: number;
  /** Share of users that own an API key (0..1). */
  readonly apiKeyShare?: number;
  /** Users per insert batch. */
  readonly batchSize?: number;
  readonly onProgress?: (inserted: number) => void;
}

export interface SeededUser {
  readonly id: string;
  readonly email: string;
  readonly displayName: string;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly apiKeyEnc: string | null;
}

export interface SeedReport {
  readonly users: number;
  readonly dependentRows: number;
  readonly seconds: number;
  /** A few of the ids just inserted, for demos and smoke tests. */
  readonly sampleIds: readonly string[];
}

const FIRST = ['ada', 'grace', 'alan', 'edsger', 'barbara', 'donald', 'margaret', 'ken', 'radia', 'linus'];
const LAST = ['lovelace', 'hopper', 'turing', 'dijkstra', 'liskov', 'knuth', 'hamilton', 'thompson', 'perlman'];
const MODELS = ['gpt-4o', 'claude-sonnet-4', 'llama-3-70b', 'mistral-large'];

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)] as T;
}

/** A legacy user as the old single-user product would have stored it. */
export function makeLegacyUser(cipher: SecretCipher, orgSettingsKeys: readonly string[], withKey: boolean): SeededUser {
  const id = randomUUID();
  const first = pick(FIRST);
  const last = pick(LAST);
  const settings: Record<string, unknown> = {
    theme: pick(['light', 'dark', 'system']),
    language: pick(['en', 'de', 'fr', 'ja']),
    notifications: Math.random() < 0.5,
  };
  for (const key of orgSettingsKeys) {
    settings[key] = key.includes('url') ? `https://llm-${first}.example.com/v1` : pick(MODELS);
  }
  return {
    id,
    email: `${first}.${last}.${id.replaceAll('-', '').slice(0, 16)}@example.com`,
    displayName: `${first[0]?.toUpperCase()}${first.slice(1)} ${last[0]?.toUpperCase()}${last.slice(1)}`,
    settings,
    apiKeyEnc: withKey ? cipher.encrypt(`sk-legacy-${randomBytes(24).toString('hex')}`, id) : null,
  };
}

/**
 * Inserts N legacy users and K rows per user in each dependent table, in
 * batches (one statement per table per batch on PostgreSQL, one transaction
 * per batch on SQLite).
 */
export async function seed(db: Database, legacyKey: Buffer, options: SeedOptions): Promise<SeedReport> {
  const started = performance.now();
  const cipher = new SecretCipher(legacyKey);
  const perUser = options.dependents ?? 0;
  const batchSize = options.batchSize ?? (db.dialect === 'postgres' ? 2_000 : 5_000);
  const share = options.apiKeyShare ?? 0.9;
  const insert = db.dialect === 'postgres' ? insertBatchPostgres : insertBatchSqlite;
  let inserted = 0;
  const sampleIds: string[] = [];
  while (inserted < options.users) {
    const count = Math.min(batchSize, options.users - inserted);
    const batch = Array.from({ length: count }, () =>
      makeLegacyUser(cipher, db.legacy.orgSettingsKeys, Math.random() < share),
    );
    await insert(db, batch, perUser);
    if (sampleIds.length === 0) sampleIds.push(...batch.slice(0, 5).map((u) => u.id));
    inserted += count;
    options.onProgress?.(inserted);
  }
  return {
    users: inserted,
    dependentRows: inserted * perUser * db.legacy.dependents.length,
    seconds: (performance.now() - started) / 1000,
    sampleIds,
  };
}

function dependentPayload(table: string, userIndex: number, n: number): string {
  return `${table} ${n + 1} of user ${userIndex}`;
}

async function insertBatchPostgres(db: Database, users: readonly SeededUser[], perUser: number) {
  if (db.dialect !== 'postgres') throw new TypeError('postgres only');
  const c = db.legacy.columns;
  const client = await db.pool.connect();
  try {
    await client.query('begin');
    // unnest() keeps the parameter count at one per column whatever the batch size.
    await client.query(
      `insert into ${ident(db.legacy.usersTable)}
         (${ident(c.id)}, ${ident(c.email)}, ${ident(c.displayName)}, ${ident(c.settings)}, ${ident(c.apiKeyEnc)})
       select * from unnest($1::text[], $2::text[], $3::text[], $4::jsonb[], $5::text[])`,
      [
        users.map((u) => u.id),
        users.map((u) => u.email),
        users.map((u) => u.displayName),
        users.map((u) => JSON.stringify(u.settings)),
        users.map((u) => u.apiKeyEnc),
      ],
    );
    if (perUser > 0) {
      for (const dependent of db.legacy.dependents) {
        const ids: string[] = [];
        const payloads: string[] = [];
        users.forEach((u, i) => {
          for (let n = 0; n < perUser; n++) {
            ids.push(u.id);
            payloads.push(dependentPayload(dependent.table, i, n));
          }
        });
        await client.query(
          `insert into ${ident(dependent.table)} (user_id, ${ident(dependent.payloadColumn)})
           select * from unnest($1::text[], $2::text[])`,
          [ids, payloads],
        );
      }
    }
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

async function insertBatchSqlite(db: Database, users: readonly SeededUser[], perUser: number) {
  if (db.dialect !== 'sqlite') throw new TypeError('sqlite only');
  const c = db.legacy.columns;
  const insertUser = db.sqlite.prepare(
    `insert into ${ident(db.legacy.usersTable)}
       (${ident(c.id)}, ${ident(c.email)}, ${ident(c.displayName)}, ${ident(c.settings)}, ${ident(c.apiKeyEnc)})
     values (?, ?, ?, ?, ?)`,
  );
  const insertDependents = db.legacy.dependents.map((d) =>
    db.sqlite.prepare(`insert into ${ident(d.table)} (user_id, ${ident(d.payloadColumn)}) values (?, ?)`),
  );
  const writeBatch = db.sqlite.transaction(() => {
    users.forEach((u, i) => {
      insertUser.run(u.id, u.email, u.displayName, JSON.stringify(u.settings), u.apiKeyEnc);
      db.legacy.dependents.forEach((dependent, d) => {
        for (let n = 0; n < perUser; n++) insertDependents[d]?.run(u.id, dependentPayload(dependent.table, i, n));
      });
    });
  });
  // Kysely serializes its own use of the SQLite connection; join that queue so
  // a batch never interleaves with a transaction it started.
  await inWriteQueue(db.file, () => db.kysely.connection().execute(async () => writeBatch.immediate()));
}
