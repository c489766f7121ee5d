import { sql } from 'kysely';
import { loadConfig, type OrgshiftConfig } from './config/config.js';
import { SecretCipher } from './crypto/secret-cipher.js';
import { type Database, openDatabase } from './db/database.js';
import { translateDatabaseError } from './db/database-errors.js';
import { type MigrateReport, migrateSchema } from './db/migrate.js';
import type { NewUser } from './directory/create-user.js';
import type { LoadStrategy } from './directory/load-user.js';
import type { LockMode } from './directory/lock-load-verify.js';
import type { MigrationContext } from './directory/migration-context.js';
import type { DirectoryObserver } from './directory/observer.js';
import { UserDirectory, type VerifyReport } from './directory/user-directory.js';
import type { UserView } from './directory/user-graph.js';
import { createLockManager } from './lock/create-lock-manager.js';
import type { LockManager } from './lock/lock-manager.js';
import { type AuditOptions, type AuditReport, audit } from './ops/audit.js';
import { type BackfillOptions, type BackfillReport, backfill } from './ops/backfill.js';
import { MigrationCounter } from './ops/progress/migration-counter.js';
import { countingBackfill, countingObserver, recordedAudit } from './ops/progress/recording.js';
import { type RollbackReport, rollbackUser } from './ops/rollback.js';
import { type SeedOptions, type SeedReport, seed } from './ops/seed.js';
import { type StatusReport, status } from './ops/status.js';

export interface OpenOptions {
  /** Apply schema migrations before returning (the CLI's `serve` and `npm start` do). */
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
}

export interface Health {
  readonly database: boolean;
  readonly lock: boolean;
}

/** One open orgshift: a database, a lock backend and the operations over them. */
export interface Orgshift {
  readonly config: OrgshiftConfig;
  readonly db: Database;
  readonly locks: LockManager;
  readonly users: UserDirectory;
  readonly migration: MigrationContext;
  getUser(id: string): Promise<UserView>;
  verifyUser(id: string): Promise<VerifyReport>;
  createUser(input: NewUser): Promise<UserView>;
  status(): Promise<StatusReport>;
  health(): Promise<Health>;
  migrateSchema(): Promise<MigrateReport>;
  seed(options: SeedOptions): Promise<SeedReport>;
  /** Migrates every pending legacy user in claimed batches (DESIGN §5). */
  backfill(options?: BackfillOptions): Promise<BackfillReport>;
  /** Set-based integrity audit of the whole database. */
  audit(options?: AuditOptions): Promise<AuditReport>;
  /** Reverses one user's migration under its lock; `rollback_refused` when it would lose data. */
  rollbackUser(id: string): Promise<RollbackReport>;
  /** Writes this process's migration counts now instead of at the next tick (they are also written on close). */
  flushCounts(): Promise<void>;
  close(): Promise<void>;
}

export async function open(config: OrgshiftConfig = loadConfig(), options: OpenOptions = {}): Promise<Orgshift> {
  const db = openDatabase(config.database, config.legacy, {
    onPoolError: options.onDatabaseError ?? (() => undefined),
  });
  const ownsLocks = options.locks === undefined;
  let locks: LockManager;
  try {
    if (options.migrate) await migrateSchema(db).catch((error) => Promise.reject(translateDatabaseError(error)));
    locks = options.locks ?? createLockManager(config.lock);
  } catch (error) {
    await db.close();
    throw error;
  }
  const migration: MigrationContext = Object.freeze({
    dialect: db.dialect,
    legacy: config.legacy,
    legacyCipher: new SecretCipher(config.keys.legacy),
    currentCipher: new SecretCipher(config.keys.current),
  });
  const counter = new MigrationCounter(db, { flushMs: options.countsFlushMs });
  const users = new UserDirectory(db, locks, migration, {
    ttlMs: config.lockTtlMs,
    waitMs: config.lockWaitMs,
    lockMode: options.lockMode,
    loadStrategy: options.loadStrategy,
    observer: countingObserver(options.observer, counter),
  });
  return {
    config,
    db,
    locks: locks,
    users,
    migration,
    getUser: (id) => users.getUser(id),
    verifyUser: (id) => users.verifyUser(id),
    createUser: (input) => users.createUser(input),
    status: () => status(db),
    health: () => health(db, locks),
    migrateSchema: () => migrateSchema(db),
    seed: (seedOptions) => seed(db, config.keys.legacy, seedOptions),
    backfill: (backfillOptions = {}) => backfill(db, migration, countingBackfill(backfillOptions, counter)),
    audit: (auditOptions) => recordedAudit(db, () => audit(db, auditOptions)),
    rollbackUser: (id) =>
      rollbackUser(db, migration, { locks, ttlMs: config.lockTtlMs, waitMs: config.lockWaitMs }, id),
    flushCounts: () => counter.flush(),
    async close() {
      await counter.close();
      if (ownsLocks) await locks.close().catch(() => undefined);
      await db.close();
    },
  };
}

async function health(db: Database, locks: LockManager): Promise<Health> {
  const [database, lock] = await Promise.all([
    sql`select 1`
      .execute(db.kysely)
      .then(() => true)
      .catch(() => false),
    locks
      .ping()
      .then(() => true)
      .catch(() => false),
  ]);
  return { database, lock };
}
