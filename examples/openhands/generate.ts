import type pg from 'pg';
import { deriveFernetKey } from '../../src/secrets/create-secret-codec.js';
import { FernetCodec } from '../../src/secrets/fernet-codec.js';
import type { FernetCodecSpec } from '../../src/secrets/secret-codec.js';
import { advanceSequence, insertRows, type Row } from './bulk-insert.js';
import { type ForcedTraits, IdCounters, makeDependents, makeLegacyUser, type Shares } from './legacy-user.js';
import { ManifestBuilder, type OpenHandsManifest } from './manifest.js';
import { Random } from './random.js';
import {
  DEPENDENT_COLUMNS,
  DEPENDENT_TABLES,
  DEPENDENTS_WITH_SEQUENCES,
  type DependentTable,
  USER_SETTINGS,
} from './tables.js';

export type { OpenHandsManifest, OpenHandsSample } from './manifest.js';

/** A made-up JWT secret: the fixture's Fernet key is derived from it exactly as OpenHands derives its own. */
export const OPENHANDS_TEST_JWT_SECRET = 'orgshift-openhands-fixture-jwt-secret (not a real one)';

/** The codec that reads the fixture's legacy secrets, with the JWT secret in the named environment variable. */
export function openHandsLegacyCodecSpec(env = 'OPENHANDS_JWT_SECRET'): FernetCodecSpec {
  return { codec: 'fernet', key: { env }, derive: 'sha256', wrap: 'base64', plaintextFallback: true };
}

export interface OpenHandsDataOptions {
  /** Rows in `user_settings`, NULL and duplicated Keycloak ids included. */
  readonly users: number;
  /** Same seed, same database. Default 1. */
  readonly seed?: number;
  /**
   * Scales the dependents. Per user: up to 2x this many conversations, up to
   * this many API keys; a share of users also get up to this many custom
   * secrets and billing sessions, Slack users up to 2x this many Slack
   * conversations. Default 2.
   */
  readonly dependentsPerUser?: number;
  readonly jwtSecret?: string;
  /** Share of rows with a NULL `keycloak_user_id`. Default 0.01. */
  readonly nullIdShare?: number;
  /** Share of rows that repeat an earlier row's Keycloak id (a repeated id appears exactly twice). Default 0.01. */
  readonly duplicateIdShare?: number;
  readonly shares?: Partial<Shares>;
  /** Valid users described in full in the manifest. Default 20. */
  readonly sampleSize?: number;
  /** `user_settings` rows per INSERT round. Default 2,000. */
  readonly batchSize?: number;
}

const DEFAULT_SHARES: Shares = {
  plaintextKey: 0.2,
  noKey: 0.1,
  nullEmail: 0.15,
  nullAcceptedTos: 0.2,
  nullMarker: 0.01,
};

/** What the plan knows about one `user_settings` row before any value is invented. */
interface PlannedRow {
  readonly rowId: number;
  readonly keycloakUserId: string | null;
  /** The first row carrying this id: the user's dependents are generated with it. */
  readonly first: boolean;
}

/** Traits of the first samples, so the samples always include each kind of legacy row. */
const SAMPLE_TRAITS: readonly ForcedTraits[] = [
  { keyStorage: 'encrypted', everySecret: true },
  { keyStorage: 'plaintext', everySecret: true },
  { keyStorage: 'none' },
  { nullEmail: true },
  { nullAcceptedTos: true },
  { keyStorage: 'plaintext', nullEmail: true, nullAcceptedTos: true },
];

/**
 * Fills a database loaded with `schema.sql` with legacy OpenHands data, in one
 * transaction, the same for the same seed. Secrets are stored the way
 * OpenHands stores them (base64 of a Fernet token keyed by SHA-256 of the JWT
 * secret), a share of keys in plaintext.
 */
export async function generateOpenHandsData(pool: pg.Pool, options: OpenHandsDataOptions): Promise<OpenHandsManifest> {
  const seed = options.seed ?? 1;
  const random = new Random(seed);
  const jwtSecret = options.jwtSecret ?? OPENHANDS_TEST_JWT_SECRET;
  const shares: Shares = { ...DEFAULT_SHARES, ...options.shares };
  const scale = options.dependentsPerUser ?? 2;
  const plan = planRows(random, options.users, options.nullIdShare ?? 0.01, options.duplicateIdShare ?? 0.01);
  const duplicated = duplicatedIds(plan);
  const samples = chooseSamples(plan, duplicated, options.sampleSize ?? 20);
  const codec = new FernetCodec({
    key: deriveFernetKey(jwtSecret),
    wrap: 'base64',
    plaintextFallback: true,
    // Seeded IVs and times: the stored tokens are as reproducible as everything else.
    entropy: {
      iv: () => random.bytes(16),
      nowSeconds: () => random.int(Date.parse('2024-11-01') / 1000, Date.parse('2026-01-14') / 1000),
    },
  });
  const manifest = new ManifestBuilder(seed, jwtSecret);
  const ids = new IdCounters();
  const batchSize = options.batchSize ?? 2_000;

  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    for (let start = 0; start < plan.length; start += batchSize) {
      const settingsRows: Row[] = [];
      const dependentRows = emptyTables();
      for (const planned of plan.slice(start, start + batchSize)) {
        const traits = samples.get(planned.rowId);
        const id = planned.keycloakUserId;
        const legacy = makeLegacyUser(random, codec, planned.rowId, id, shares, traits);
        settingsRows.push(legacy.row);
        if (id === null) {
          manifest.nullIdRow(planned.rowId);
          continue;
        }
        const dependents = planned.first
          ? makeDependents(random, codec, id, scale, ids, traits !== undefined)
          : undefined;
        for (const table of DEPENDENT_TABLES) dependentRows[table].push(...(dependents?.rows[table] ?? []));
        const repeatedRows = duplicated.get(id);
        if (repeatedRows !== undefined) manifest.duplicatedRow(id, repeatedRows, planned.first, dependents);
        else manifest.validRow(id, legacy, dependents!, traits !== undefined);
      }
      await insertRows(client, 'user_settings', USER_SETTINGS, settingsRows);
      for (const table of DEPENDENT_TABLES)
        await insertRows(client, table, DEPENDENT_COLUMNS[table], dependentRows[table]);
    }
    await advanceSequence(client, 'user_settings');
    for (const table of DEPENDENTS_WITH_SEQUENCES) await advanceSequence(client, table);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  return manifest.build();
}

function planRows(random: Random, users: number, nullShare: number, duplicateShare: number): PlannedRow[] {
  const plan: PlannedRow[] = [];
  /** Ids seen once so far: each may be repeated once. */
  const singles: string[] = [];
  for (let rowId = 1; rowId <= users; rowId += 1) {
    const roll = random.int(0, 999_999) / 1_000_000;
    if (roll < nullShare) {
      plan.push({ rowId, keycloakUserId: null, first: false });
    } else if (roll < nullShare + duplicateShare && singles.length > 0) {
      const index = random.int(0, singles.length - 1);
      const repeated = singles[index]!;
      singles[index] = singles[singles.length - 1]!;
      singles.pop();
      plan.push({ rowId, keycloakUserId: repeated, first: false });
    } else {
      const id = random.uuid();
      singles.push(id);
      plan.push({ rowId, keycloakUserId: id, first: true });
    }
  }
  return plan;
}

function duplicatedIds(plan: readonly PlannedRow[]): ReadonlyMap<string, readonly number[]> {
  const rowsById = new Map<string, number[]>();
  for (const { keycloakUserId, rowId } of plan) {
    if (keycloakUserId === null) continue;
    const rows = rowsById.get(keycloakUserId);
    if (rows === undefined) rowsById.set(keycloakUserId, [rowId]);
    else rows.push(rowId);
  }
  return new Map([...rowsById].filter(([, rows]) => rows.length > 1));
}

/** Evenly spaced valid rows, the first few given forced traits. */
function chooseSamples(
  plan: readonly PlannedRow[],
  duplicated: ReadonlyMap<string, readonly number[]>,
  size: number,
): ReadonlyMap<number, ForcedTraits> {
  const valid = plan.filter((row) => row.keycloakUserId !== null && !duplicated.has(row.keycloakUserId));
  const count = Math.min(size, valid.length);
  const samples = new Map<number, ForcedTraits>();
  for (let n = 0; n < count; n += 1) {
    const row = valid[Math.floor((n * valid.length) / count)]!;
    samples.set(row.rowId, SAMPLE_TRAITS[n] ?? {});
  }
  return samples;
}

function emptyTables(): Record<DependentTable, Row[]> {
  return Object.fromEntries(DEPENDENT_TABLES.map((table) => [table, []])) as unknown as Record<DependentTable, Row[]>;
}
