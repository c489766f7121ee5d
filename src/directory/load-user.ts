import type { Database, PreparedQuery, Row } from '../db/database.js';
import type { MapSql } from '../db/map-sql.js';
import { UserDecoder } from './decode-user.js';
import { graphSql } from './load-queries.js';
import type { LoadedUser } from './user-graph.js';

export type LoadStrategy = 'json' | 'join' | 'select-in';

/** Loads users with every relation verification needs, eagerly. */
export interface UserLoader {
  readonly strategy: LoadStrategy;
  load(key: string): Promise<LoadedUser>;
  /** One query for many users (json strategy), for operations that sweep the table. */
  loadMany(keys: readonly string[]): Promise<LoadedUser[]>;
}

export function createUserLoader(db: Database, m: MapSql, strategy: LoadStrategy = 'json'): UserLoader {
  const queries = graphSql(m);
  const decoder = new UserDecoder(m.model);
  const many = db.prepare(queries.json('many'));
  const loadMany = async (keys: readonly string[]) =>
    keys.length === 0 ? [] : (await many.all([m.dialect.manyKeysValue(keys)])).map((row) => decoder.fromJsonRow(row));
  switch (strategy) {
    case 'json':
      return { strategy, load: jsonLoad(db.prepare(queries.json('one')), decoder), loadMany };
    case 'join':
      return { strategy, load: joinLoad(db.prepare(queries.join), decoder), loadMany };
    case 'select-in':
      return {
        strategy,
        load: selectInLoad(db.prepare(queries.headOnly), db.prepare(queries.memberships), decoder),
        loadMany,
      };
  }
}

function firstRow(rows: readonly Row[], key: string): Row {
  // The key source always yields a row, even for an unknown key.
  return rows[0] ?? { key };
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
