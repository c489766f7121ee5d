import type { Database, PreparedQuery, Row } from '../db/database.js';
import type { MapSql } from '../db/map-sql.js';
import { UserDecoder } from './decode-user.js';
import { LoadBatcher } from './load-batcher.js';
import { type GraphSql, graphSql } from './load-queries.js';
import type { LoadedUser } from './user-graph.js';

export type LoadStrategy = 'json' | 'join' | 'select-in';

/** Loads users with every relation verification needs, eagerly. */
export interface UserLoader {
  readonly strategy: LoadStrategy;
  /** The read path's load: the fast graph where it stands for the whole one (json strategy), else the full graph. */
  load(key: string): Promise<LoadedUser>;
  /** Always the full graph, legacy status included (deep verification, diagnostics). */
  loadFull(key: string): Promise<LoadedUser>;
}

export function createUserLoader(db: Database, m: MapSql, strategy: LoadStrategy = 'json'): UserLoader {
  const queries = graphSql(m);
  const decoder = new UserDecoder(m.model);
  switch (strategy) {
    case 'json': {
      const full = jsonLoad(db.prepare(queries.json), decoder);
      const one = db.prepare(queries.fast(1));
      const many = manyKeysLoader(db, m, queries);
      const batcher = new LoadBatcher(async (key) => (await one.all([key]))[0], many, {
        maxInFlight: readsInFlight(db),
        maxBatch: MAX_BATCH,
      });
      return { strategy, load: fastLoad(batcher, decoder, full), loadFull: full };
    }
    case 'join': {
      const load = joinLoad(db.prepare(queries.join), decoder);
      return { strategy, load, loadFull: load };
    }
    case 'select-in': {
      const load = selectInLoad(db.prepare(queries.headOnly), db.prepare(queries.memberships), decoder);
      return { strategy, load, loadFull: load };
    }
  }
}

function firstRow(rows: readonly Row[], key: string): Row {
  // The key source always yields a row, even for an unknown key.
  return rows[0] ?? { key };
}

/** One query on the read path; a second (the full graph) only for users that are not migrated or not sound. */
function fastLoad(batcher: LoadBatcher, decoder: UserDecoder, full: (key: string) => Promise<LoadedUser>) {
  return async (key: string) => decoder.fromFastRow((await batcher.load(key)) ?? { key }) ?? full(key);
}

const MAX_BATCH = 128;

/**
 * Read queries one process keeps in flight before it batches: enough to keep
 * a few database cores busy, few enough that a crowd of reads shares queries
 * instead of queueing for connections one by one (on 2 cores, 1 to 4 read
 * 16 concurrent callers equally fast, and 10 (unbatched) half as fast).
 */
function readsInFlight(db: Database): number {
  return Math.max(1, Math.min(4, db.poolSize));
}

/** Statements for 2, 4, 8, … 128 keys, each prepared on first use; a batch takes the smallest that fits. */
function manyKeysLoader(db: Database, m: MapSql, queries: GraphSql) {
  const bySlots = new Map<number, PreparedQuery>();
  return async (keys: readonly string[]): Promise<ReadonlyMap<string, Row>> => {
    const slots = Math.max(2, 2 ** Math.ceil(Math.log2(keys.length)));
    let statement = bySlots.get(slots);
    if (statement === undefined) {
      statement = db.prepare(queries.fast(slots));
      bySlots.set(slots, statement);
    }
    const rows = await statement.all(m.dialect.eachKeyParams(keys, slots));
    return new Map(rows.map((row) => [keyOf(row), row]));
  };
}

/** The key a json-strategy row answers for (PostgreSQL wraps the row in `graph`). */
function keyOf(row: Row): string {
  const graph = row.graph;
  return String(graph !== null && typeof graph === 'object' ? (graph as Row).key : row.key);
}

function jsonLoad(query: PreparedQuery, decoder: UserDecoder) {
  return async (key: string) => decoder.fromJsonRow(firstRow(await query.all([key]), key));
}

function joinLoad(query: PreparedQuery, decoder: UserDecoder) {
  return async (key: string) => {
    const rows = await query.all([key]);
    const head = firstRow(rows, key);
    const memberships = rows.filter((row) => row.m_orgId !== null && row.m_orgId !== undefined);
    return decoder.fromHead(
      head,
      memberships.map((row) => decoder.membershipFromFlat(row, head)),
    );
  };
}

function selectInLoad(head: PreparedQuery, members: PreparedQuery, decoder: UserDecoder) {
  return async (key: string) => {
    const row = firstRow(await head.all([key]), key);
    const memberships = row.user_id === null || row.user_id === undefined ? [] : await members.all([key]);
    return decoder.fromHead(
      row,
      memberships.map((r) => decoder.membershipFromFlat(r, row)),
    );
  };
}
