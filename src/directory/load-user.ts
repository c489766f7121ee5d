import type { Database } from '../db/database.js';
import { type PreparedQuery, prepareQuery, type Row } from '../db/prepared-query.js';
import { loadedUserFrom, membershipFromFlat, membershipsFromJson } from './decode-user.js';
import { headOnlySql, joinGraphSql, jsonGraphSql, membershipsSql } from './load-queries.js';
import type { LoadedUser } from './user-graph.js';

export type LoadStrategy = 'json' | 'join' | 'select-in';

/** Loads users with every relation verification needs, eagerly. */
export interface UserLoader {
  readonly strategy: LoadStrategy;
  load(id: string): Promise<LoadedUser>;
  /** One query for many users (json strategy), for operations that sweep the table. */
  loadMany(ids: readonly string[]): Promise<LoadedUser[]>;
}

export function createUserLoader(db: Database, strategy: LoadStrategy = 'json'): UserLoader {
  const many = prepareQuery(db, jsonGraphSql(db.dialect, db.legacy, 'many'));
  const manyParam = (ids: readonly string[]) => (db.dialect === 'postgres' ? [ids] : [JSON.stringify(ids)]);
  const loadMany = async (ids: readonly string[]) =>
    ids.length === 0 ? [] : (await many.all(manyParam(ids))).map(fromJsonRow);
  switch (strategy) {
    case 'json':
      return { strategy, load: jsonLoad(prepareQuery(db, jsonGraphSql(db.dialect, db.legacy, 'one'))), loadMany };
    case 'join':
      return { strategy, load: joinLoad(prepareQuery(db, joinGraphSql(db.dialect, db.legacy))), loadMany };
    case 'select-in':
      return {
        strategy,
        load: selectInLoad(
          prepareQuery(db, headOnlySql(db.dialect, db.legacy)),
          prepareQuery(db, membershipsSql(db.dialect)),
        ),
        loadMany,
      };
  }
}

/** A json-strategy row: flat on SQLite, one `graph` object with the same keys on PostgreSQL. */
function fromJsonRow(row: Row): LoadedUser {
  const graph = row.graph;
  const head = graph !== null && typeof graph === 'object' ? (graph as Row) : row;
  return loadedUserFrom(head, membershipsFromJson(head.memberships));
}

function firstRow(rows: readonly Row[], id: string): Row {
  // The key source always yields one row, even for an unknown id.
  return rows[0] ?? { key: id };
}

function jsonLoad(query: PreparedQuery) {
  return async (id: string) => fromJsonRow(firstRow(await query.all([id]), id));
}

function joinLoad(query: PreparedQuery) {
  return async (id: string) => {
    const rows = await query.all([id]);
    const memberships = rows.filter((row) => row.m_org_id !== null && row.m_org_id !== undefined);
    return loadedUserFrom(firstRow(rows, id), memberships.map(membershipFromFlat));
  };
}

function selectInLoad(head: PreparedQuery, members: PreparedQuery) {
  return async (id: string) => {
    const row = firstRow(await head.all([id]), id);
    const memberships = row.user_id === null || row.user_id === undefined ? [] : await members.all([id]);
    return loadedUserFrom(row, memberships.map(membershipFromFlat));
  };
}
