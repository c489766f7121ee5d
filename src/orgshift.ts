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
import { type RollbackReport, rollbackUser } from './ops/rollback.js';
import { type SeedOptions, type SeedReport, seed } from './ops/seed.js';
import { type StatusReport, status } from './ops/status.js';
import type { EventHandler } from './outbox/handler-destination.js';
import { Outbox } from './outbox/outbox.js';
import type { OutboxEventType } from './outbox/outbox-event.js';
import type { OutboxObserver } from './outbox/outbox-observer.js';

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
  /** Metrics and logs of the outbox dispatcher (see `createMetrics().outboxObserver`). */
  readonly outboxObserver?: OutboxObserver;
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
  /** After-commit events: the dispatcher, counts and redrive. */
  readonly outbox: Outbox;
  /**
   * Runs `handler` after every committed change of `type`, at least once,
   * with the event id as idempotency key; starts this process's dispatcher.
   */
  on(type: OutboxEventType, handler: EventHandler): void;
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
  const users = new UserDirectory(db, locks, migration, {
    ttlMs: config.lockTtlMs,
    waitMs: config.lockWaitMs,
    lockMode: options.lockMode,
    loadStrategy: options.loadStrategy,
    observer: options.observer,
  });
  const outbox = new Outbox(db, config.outbox, options.outboxObserver);
  return {
    config,
    db,
    locks: locks,
    users,
    migration,
    outbox,
    on: (type, handler) => outbox.on(type, handler),
    getUser: (id) => users.getUser(id),
    verifyUser: (id) => users.verifyUser(id),
    createUser: (input) => users.createUser(input),
    status: () => status(db),
    health: () => health(db, locks),
    migrateSchema: () => migrateSchema(db),
    seed: (seedOptions) => seed(db, config.keys.legacy, seedOptions),
    backfill: (backfillOptions) => backfill(db, migration, backfillOptions),
    audit: (auditOptions) => audit(db, auditOptions),
    rollbackUser: (id) =>
      rollbackUser(db, migration, { locks, ttlMs: config.lockTtlMs, waitMs: config.lockWaitMs }, id),
    async close() {
      // First: deliveries in flight finish and their outcomes are written while the database is still open.
      await outbox.close().catch(() => undefined);
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
