import type { Dialect } from '../../../db/database.js';
import type { MarkerTimeSql } from './marker-time.js';
import { postgresMarkerTime } from './postgres-marker-time.js';
import { sqliteMarkerTime } from './sqlite-marker-time.js';

export type { MarkerTimeSql } from './marker-time.js';

const BY_DIALECT: Readonly<Record<Dialect, MarkerTimeSql>> = Object.freeze({
  postgres: postgresMarkerTime,
  sqlite: sqliteMarkerTime,
});

export function markerTimeSql(dialect: Dialect): MarkerTimeSql {
  return BY_DIALECT[dialect];
}
