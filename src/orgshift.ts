import { sql } from 'kysely';
import { loadConfig, type OrgshiftConfig } from './config/config.js';
import type { Database, Executor } from './db/database.js';
import { translateDatabaseError } from './db/database-errors.js';
import { MapSql } from './db/map-sql.js';
import { type MigrateReport, migrateSchema } from './db/migrate.js';
import { type DatabaseConfig, openDatabase } from './db/open-database.js';
import { createDemoTables } from './demo/demo-tables.js';
import type { NewUser } from './directory/create-user.js';
import type { LoadStrategy } from './directory/load-user.js';
import type { LockMode } from './directory/lock-load-verify.js';
import type { DirectoryObserver } from './directory/observer.js';
import { UserDirectory, type VerifyReport } from './directory/user-directory.js';
import type { UserView } from './directory/user-graph.js';
import { SchemaInvalidError } from './errors.js';
import { createLockManager } from './lock/create-lock-manager.js';
import type { LockKind, LockManager } from './lock/lock-manager.js';
import { createCodecs } from './migration/codecs.js';
import type { MigrationContext } from './migration/migration-context.js';
import type { PlannedUser } from './migration/plan.js';
import { type AuditOptions, type AuditReport, audit } from './ops/audit.js';
import { backfill } from './ops/backfill/backfill.js';
import type { BackfillOptions, BackfillReport } from './ops/backfill/options.js';
import { MigrationCounter } from './ops/progress/migration-counter.js';
import { countingBackfill, countingObserver, recordedAudit } from './ops/progress/recording.js';
import { type RollbackReport, type RolledBackRows, rollbackUser } from './ops/rollback/rollback.js';
import { type SeedOptions, type SeedReport, seed } from './ops/seed/seed.js';
import { type StatusReport, status } from './ops/status.js';
import { appendEvents } from './outbox/append-events.js';
import type { EventHandler } from './outbox/handler-destination.js';
import { Outbox } from './outbox/outbox.js';
import type { OutboxEvent, OutboxEventType } from './outbox/outbox-event.js';
import { nudgeOutbox } from './outbox/outbox-nudge.js';
import type { OutboxObserver } from './outbox/outbox-observer.js';
import { createdEvent, migratedEvents, rolledBackEvent } from './outbox/user-events.js';
import { DEMO_ORIGIN } from './schema-map/demo-map.js';
import type { MapModel } from './schema-map/map-model.js';
import { inspectMap, type ResolvedMap, type SchemaProblem } from './schema-map/schema-check.js';
import { draftMap, type MapDraft } from './schema-map/schema-init.js';
import type { SchemaMap } from './schema-map/schema-map.js';

export interface OpenOptions {
  /** Apply orgshift's schema (and the map's opt-in changes) before returning; the CLI's `serve` does. */
  readonly migrate?: boolean;
  readonly lockMode?: LockMode;
  readonly loadStrategy?: LoadStrategy;
  readonly observer?: DirectoryObserver;
  /** Use this lock manager instead of the configured one; it is not closed by `close()`. */
  readonly locks?: LockManager;
  /** Pool-level database errors (a killed idle connection), which must not crash the process. */
  readonly onDatabaseError?: (error: Error) => void;
  /** How often this process adds its migration counts to `orgshift_migration_counts` (default 10 s). */
  readonly countsFlushMs?: number;
  /** Metrics and logs of the outbox dispatcher. */
  readonly outboxObserver?: OutboxObserver;
}

export interface Health {
  readonly database: boolean;
  readonly lock: boolean;
}

export interface RollbackRequest {
  /** Report what a rollback would do, refusals and discarded changes included, and change nothing. */
  readonly dryRun?: boolean;
}

/** One open orgshift: a database, a lock backend, a schema map, and the operations over them. */
export interface Orgshift {
  /** The schema map in use. */
  readonly map: SchemaMap;
  readonly lockKind: LockKind;
  /** Lock-load-verify: the user, migrated just in time on first access and verified. */
  getUser(id: string): Promise<UserView>;
  /** Deep verification of one user (dependents, every mapped field against its legacy source); never migrates. */
  verifyUser(id: string): Promise<VerifyReport>;
  /** A native sign-up, with the personal org and owner membership a migration would create. */
  createUser(input: NewUser): Promise<UserView>;
  status(): Promise<StatusReport>;
  health(): Promise<Health>;
  /** orgshift's own tables, and the changes to the team's tables that the map opts into; one transaction. */
  migrateSchema(options?: { readonly dryRun?: boolean }): Promise<MigrateReport>;
  /** The map against the live catalog: every problem, named by map path and database object. */
  checkSchema(): Promise<readonly SchemaProblem[]>;
  /** Test and demo data in the mapped legacy tables. */
  seed(options: SeedOptions): Promise<SeedReport>;
  /** Migrates every pending legacy user in claimed batches. */
  backfill(options?: BackfillOptions): Promise<BackfillReport>;
  /** Set-based integrity audit of the whole database. */
  audit(options?: AuditOptions): Promise<AuditReport>;
  /** Reverses one user's migration under its lock; `rollback_refused` when it would lose data. */
  rollbackUser(id: string, request?: RollbackRequest): Promise<RollbackReport>;
  /**
   * Runs `handler` for every committed change of `type` ('user.migrated',
   * 'user.created', 'user.rolled_back'), at least once, after the commit,
   * with the event id as idempotency key. Starts this process's dispatcher.
   */
  on(type: OutboxEventType, handler: EventHandler): void;
  /** Writes this process's migration counts now instead of at the next tick (they are also written on close). */
  flushCounts(): Promise<void>;
  close(): Promise<void>;
}

/** What the CLI, the HTTP service and the tests reach under the public surface. */
export interface OrgshiftInternals {
  readonly config: OrgshiftConfig;
  readonly db: Database;
  readonly sql: MapSql;
  readonly locks: LockManager;
  readonly users: UserDirectory;
  readonly migration: MigrationContext;
  readonly outbox: Outbox;
}

const INTERNALS = new WeakMap<Orgshift, OrgshiftInternals>();

/**
 * Internal: not exported from the package. An object made from an opened
 * orgshift with `Object.create` (a wrapper overriding a method, as tests and
 * instrumentation do) shares its internals.
 */
export function internalsOf(orgshift: Orgshift): OrgshiftInternals {
  for (let o: object | null = orgshift; o !== null; o = Object.getPrototypeOf(o)) {
    const found = INTERNALS.get(o as Orgshift);
    if (found !== undefined) return found;
  }
  throw new TypeError('not an orgshift opened by open()');
}

export async function open(config: OrgshiftConfig = loadConfig(), options: OpenOptions = {}): Promise<Orgshift> {
  const db = openDatabase(config.database, { onPoolError: options.onDatabaseError ?? (() => undefined) });
  let locks: LockManager | undefined;
  try {
    const model = config.map.model;
    if (options.migrate) await migrateWith(db, config, model);
    const resolved = await resolve(db, model);
    const ownerRole = await ownerRoleValue(db, new MapSql(resolved, db.sql));
    locks = options.locks ?? createLockManager(config.lock);
    return assemble(config, db, resolved, ownerRole, locks, options);
  } catch (error) {
    if (locks !== undefined && options.locks === undefined) await locks.close().catch(() => undefined);
    await db.close();
    throw translateDatabaseError(db, error);
  }
}

/**
 * `db migrate` without opening the rest: the map may not resolve yet (a
 * marker column the migration is about to add), so nothing here needs it to.
 */
export async function migrateDatabase(
  config: OrgshiftConfig,
  options: { readonly dryRun?: boolean } = {},
): Promise<MigrateReport> {
  const db = openDatabase(config.database);
  try {
    return await migrateWith(db, config, config.map.model, options.dryRun);
  } catch (error) {
    throw translateDatabaseError(db, error);
  } finally {
    await db.close();
  }
}

/** `schema check` without opening the rest: it must report a map that does not resolve, not fail on it. */
export async function inspectDatabase(config: OrgshiftConfig): Promise<readonly SchemaProblem[]> {
  const db = openDatabase(config.database);
  try {
    return (await inspectMap(config.map.model, db.catalog)).problems;
  } catch (error) {
    throw translateDatabaseError(db, error);
  } finally {
    await db.close();
  }
}

/** `schema init`: a draft map from the database's catalog; needs no map. */
export async function draftDatabaseMap(database: DatabaseConfig): Promise<MapDraft> {
  const db = openDatabase(database);
  try {
    return await draftMap(db.catalog, { source: db.target });
  } catch (error) {
    throw translateDatabaseError(db, error);
  } finally {
    await db.close();
  }
}

/** The demo map's tables are created with orgshift's own: the demo has no application to create them. */
function migrateWith(db: Database, config: OrgshiftConfig, model: MapModel, dryRun = false): Promise<MigrateReport> {
  const demo = config.map.origin === DEMO_ORIGIN;
  return migrateSchema(db, model, {
    dryRun,
    before: demo ? (trx) => createDemoTables(trx, db.sql, db.catalogOn(trx)) : undefined,
  });
}

async function resolve(db: Database, model: MapModel): Promise<ResolvedMap> {
  const inspection = await inspectMap(model, db.catalog);
  if (inspection.resolved !== null) return inspection.resolved;
  const errors = inspection.problems.filter((p) => p.severity === 'error');
  const listed = errors
    .slice(0, 5)
    .map((p) => `${p.path} (${p.object}): ${p.message}`)
    .join('; ');
  throw new SchemaInvalidError(
    `the schema map does not match ${db.target}: ${listed}${errors.length > 5 ? ` and ${errors.length - 5} more` : ''} (run \`orgshift schema check\`)`,
  );
}

/** The owner role's key in the roles table (looked up once: roles do not change under a migration), or the role string. */
async function ownerRoleValue(db: Database, m: MapSql): Promise<unknown> {
  const role = m.model.membership.role;
  if (role.kind === 'column') return role.owner;
  const result = await sql<{
    id: unknown;
  }>`select ${sql.raw(m.col('r', role.id))} as id from ${sql.raw(m.roles as string)} r
    where ${sql.raw(m.col('r', role.name))} = ${role.owner}`.execute(db.kysely);
  const id = result.rows[0]?.id;
  if (id === undefined) {
    throw new SchemaInvalidError(
      `the roles table ${m.roles} has no row named "${role.owner}" (target.membership.role.owner)`,
    );
  }
  return id;
}

function assemble(
  config: OrgshiftConfig,
  db: Database,
  resolved: ResolvedMap,
  ownerRole: unknown,
  locks: LockManager,
  options: OpenOptions,
): Orgshift {
  const m = new MapSql(resolved, db.sql);
  const migration: MigrationContext = Object.freeze({
    db,
    sql: m,
    codecs: createCodecs(config.map.map.codecs ?? {}, config.keys.env),
    ownerRole,
  });
  const counter = new MigrationCounter(db, { flushMs: options.countsFlushMs });
  const outbox = new Outbox(db, config.outbox, options.outboxObserver);
  const events = outboxHooks(db, m, outbox);
  const users = new UserDirectory(locks, migration, {
    ttlMs: config.lockTtlMs,
    waitMs: config.lockWaitMs,
    lockMode: options.lockMode,
    loadStrategy: options.loadStrategy,
    observer: events.nudging(countingObserver(options.observer, counter)),
    afterMigration: events.migrated,
    afterSignUp: events.created,
  });
  const ownsLocks = options.locks === undefined;
  // Every entry point passes its errors through the one translation seam.
  const guard = <T>(work: () => Promise<T>): Promise<T> =>
    work().catch((error: unknown) => {
      throw translateDatabaseError(db, error);
    });
  const orgshift: Orgshift = Object.freeze({
    map: config.map.map,
    lockKind: locks.kind,
    getUser: (id: string) => guard(() => users.getUser(id)),
    verifyUser: (id: string) => guard(() => users.verifyUser(id)),
    createUser: (input: NewUser) => guard(() => users.createUser(input).finally(events.nudge)),
    status: () => guard(() => status(db, m)),
    health: () => health(db, locks),
    migrateSchema: (request?: { readonly dryRun?: boolean }) =>
      guard(() => migrateWith(db, config, config.map.model, request?.dryRun)),
    checkSchema: () => guard(async () => (await inspectMap(config.map.model, db.catalog)).problems),
    seed: (seedOptions: SeedOptions) => guard(() => seed(migration, seedOptions)),
    backfill: (backfillOptions?: BackfillOptions) =>
      guard(() =>
        backfill(migration, events.nudgingBackfill(countingBackfill(backfillOptions ?? {}, counter)), events.migrated),
      ),
    audit: (auditOptions?: AuditOptions) => guard(() => recordedAudit(db, () => audit(db, m, auditOptions))),
    rollbackUser: (id: string, request?: RollbackRequest) =>
      guard(() =>
        rollbackUser(migration, { locks, ttlMs: config.lockTtlMs, waitMs: config.lockWaitMs }, id, {
          dryRun: request?.dryRun,
          after: events.rolledBack,
        }).finally(events.nudge),
      ),
    on: (type: OutboxEventType, handler: EventHandler) => outbox.on(type, handler),
    flushCounts: () => counter.flush(),
    async close() {
      // First: deliveries in flight finish and their outcomes are written while the database is still open.
      await outbox.close().catch(() => undefined);
      await counter.close();
      if (ownsLocks) await locks.close().catch(() => undefined);
      await db.close();
    },
  });
  INTERNALS.set(orgshift, Object.freeze({ config, db, sql: m, locks, users, migration, outbox }));
  return orgshift;
}

async function health(db: Database, locks: LockManager): Promise<Health> {
  const [database, lock] = await Promise.all([
    db
      .ping()
      .then(() => true)
      .catch(() => false),
    locks
      .ping()
      .then(() => true)
      .catch(() => false),
  ]);
  return { database, lock };
}

/**
 * Every change appends its events inside its own transaction (so they exist
 * exactly when it commits) and, once committed, wakes this process's
 * dispatcher instead of leaving the events to its next poll.
 */
function outboxHooks(db: Database, m: MapSql, outbox: Outbox) {
  const nudge = () => nudgeOutbox(db);
  const append = (trx: Executor, events: () => readonly OutboxEvent[]) =>
    outbox.hasDestinations ? appendEvents(trx, db.sql, events()) : Promise.resolve();
  return {
    nudge,
    migrated: (trx: Executor, users: readonly PlannedUser[]) => append(trx, () => migratedEvents(m.model, users)),
    created: (trx: Executor, users: readonly PlannedUser[]) =>
      append(trx, () => users.map((u) => createdEvent(m.model, u))),
    rolledBack: (trx: Executor, report: RollbackReport, before: RolledBackRows) =>
      append(trx, () => [rolledBackEvent(m.model, report.id, before.user, before.org)]),
    /** Just-in-time migrations are committed when the observer hears of them. */
    nudging(observer: DirectoryObserver): DirectoryObserver {
      return {
        ...observer,
        migration(result, seconds) {
          if (result === 'migrated') nudge();
          observer.migration?.(result, seconds);
        },
      };
    },
    /** A backfill reports progress after each batch commits. */
    nudgingBackfill(options: BackfillOptions): BackfillOptions {
      if (options.dryRun) return options;
      return {
        ...options,
        onProgress(progress) {
          nudge();
          options.onProgress?.(progress);
        },
      };
    },
  };
}
