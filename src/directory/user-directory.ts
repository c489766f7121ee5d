import { translateDatabaseError } from '../db/database-errors.js';
import { isOrgshiftError, LegacyKeyDuplicateError, OrgshiftError, UserNotFoundError } from '../errors.js';
import type { Lease, LockManager } from '../lock/lock-manager.js';
import { describeFailure, recordFailure } from '../migration/failure-log.js';
import { hasRecordedMigration } from '../migration/in-place-record.js';
import { type AfterWrites, migrateUser } from '../migration/migrate.js';
import type { MigrationContext } from '../migration/migration-context.js';
import type { PlannedUser } from '../migration/plan.js';
import { parseUserKey } from '../schema-map/user-key.js';
import { insertNativeUser, type NewUser } from './create-user.js';
import { loadState } from './decode-user.js';
import { MigrationFailedError } from './errors.js';
import { createUserLoader, type LoadStrategy, type UserLoader } from './load-user.js';
import { type LazyEntity, LockLoadVerify, type LockMode, type Snapshot } from './lock-load-verify.js';
import type { DirectoryObserver } from './observer.js';
import { type LoadedUser, toUserView, type UserView } from './user-graph.js';
import { verifyDeep } from './verify-deep.js';
import { type StructureCheck, structureCheck } from './verify-structure.js';
import type { Violation } from './violations.js';

export interface UserDirectoryOptions {
  readonly ttlMs: number;
  readonly waitMs: number;
  readonly lockMode?: LockMode;
  readonly loadStrategy?: LoadStrategy;
  readonly observer?: DirectoryObserver;
  /** Runs inside every migration's transaction before it commits (the outbox). */
  readonly afterMigration?: AfterWrites;
  /** Runs inside a native sign-up's transaction. */
  readonly afterSignUp?: AfterWrites;
}

export interface VerifyReport {
  readonly ok: boolean;
  /**
   * migrated: a migration moved it from its legacy row; native: created in the new shape (a sign-up after
   * the move; in place also a row already in the new shape that orgshift did not migrate); pending: not
   * migrated yet.
   */
  readonly state: 'migrated' | 'native' | 'pending';
  readonly violations: readonly Violation[];
}

export const userLockKey = (key: string) => `user:${key}`;

/** Users, read through lock-load-verify and migrated just in time. */
export class UserDirectory {
  readonly loader: UserLoader;
  readonly #ctx: MigrationContext;
  readonly #locks: LockManager;
  readonly #options: UserDirectoryOptions;
  readonly #users: LockLoadVerify<LoadedUser>;
  readonly #structure: StructureCheck;

  constructor(locks: LockManager, ctx: MigrationContext, options: UserDirectoryOptions) {
    this.#ctx = ctx;
    this.#locks = locks;
    this.#options = options;
    this.#structure = structureCheck(ctx.sql.model);
    this.loader = createUserLoader(ctx.db, ctx.sql, options.loadStrategy);
    this.#users = new LockLoadVerify(this.#entity(), {
      locks,
      ttlMs: options.ttlMs,
      waitMs: options.waitMs,
      lockMode: options.lockMode,
      observer: this.#observerWithRepairQueue(options.observer),
    });
  }

  /** Validates a key the way the map says keys look (no I/O for bad input). */
  parseKey(id: unknown): string {
    return parseUserKey(id, this.#ctx.sql.model.legacy.key);
  }

  /** Lock-load-verify one user: the documented user JSON, or a typed error. */
  async getUser(id: unknown): Promise<UserView> {
    return toUserView(await this.#users.get(this.parseKey(id)));
  }

  /** Deep verification of one user, without migrating it. */
  async verifyUser(id: unknown): Promise<VerifyReport> {
    const key = this.parseKey(id);
    const loaded = await this.#load(key, true);
    const state = loadState(loaded, this.#inPlace);
    if (state === 'absent') throw new UserNotFoundError(key);
    if (state === 'unmigrated') return { ok: true, state: 'pending', violations: [] };
    const deep = async () => {
      const native = await this.#native(loaded);
      return { native, violations: await verifyDeep(this.#ctx, this.#structure, loaded, native) };
    };
    const { native, violations } = await deep().catch((error: unknown) => {
      throw translateDatabaseError(this.#ctx.db, error);
    });
    return { ok: violations.length === 0, state: native ? 'native' : 'migrated', violations };
  }

  /** A native sign-up under the same lock and invariants as a migration. */
  async createUser(input: NewUser): Promise<UserView> {
    const key = this.parseKey(input.id);
    if (typeof input.email !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(input.email) || input.email.length > 320) {
      throw new OrgshiftError('invalid_input', 'email must look like an address');
    }
    const lease = await this.#locks.acquire(userLockKey(key), {
      ttlMs: this.#options.ttlMs,
      waitMs: this.#options.waitMs,
    });
    try {
      await insertNativeUser(this.#ctx, { ...input, id: key }, this.#options.afterSignUp);
    } finally {
      await lease.release().catch(() => false);
    }
    // A read of this id that loaded before the commit may still be in flight; joining it would answer user_not_found.
    return toUserView(await this.#users.getFresh(key));
  }

  get #inPlace(): boolean {
    return this.#ctx.sql.model.shape === 'in-place';
  }

  /**
   * A user present in the new shape that no migration made. Moved: it has no
   * legacy row. In place the user row is the legacy row and looks the same
   * either way (a native sign-up is marked at once), so orgshift's record of
   * its in-place migrations decides. `loaded` is a full graph: its legacy status is known.
   */
  async #native(loaded: LoadedUser): Promise<boolean> {
    if (!this.#inPlace) return (loaded.legacy?.rows ?? 0) === 0;
    return !(await hasRecordedMigration(this.#ctx.db.kysely, loaded.id));
  }

  /** `full`: the whole graph, legacy status included, even where the fast read would do. */
  async #load(key: string, full = false): Promise<LoadedUser> {
    try {
      return await (full ? this.loader.loadFull(key) : this.loader.load(key));
    } catch (error) {
      throw translateDatabaseError(this.#ctx.db, error);
    }
  }

  #entity(): LazyEntity<LoadedUser> {
    return {
      lockKey: userLockKey,
      load: async (key) => this.#snapshot(await this.#load(key)),
      migrate: (key, lease) => this.#migrate(key, lease),
      verify: this.#structure,
      notFound: (key) => new UserNotFoundError(key),
    };
  }

  /** A duplicated key is refused before any lock is taken, and recorded for repair. */
  #snapshot(loaded: LoadedUser): Snapshot<LoadedUser> {
    const state = loadState(loaded, this.#inPlace);
    const rows = loaded.legacy?.rows ?? 0;
    if (state === 'unmigrated' && rows > 1) {
      const error = new LegacyKeyDuplicateError(loaded.id, rows);
      void recordFailure(this.#ctx.db, { subject: loaded.id, code: error.code, message: error.message }).catch(
        () => undefined,
      );
      throw error;
    }
    return state === 'present' ? { state, value: loaded } : { state };
  }

  async #migrate(key: string, lease: Lease): Promise<void> {
    const started = performance.now();
    const elapsed = () => (performance.now() - started) / 1000;
    try {
      const outcome = await migrateUser(this.#ctx, key, lease, this.#options.afterMigration);
      this.#options.observer?.migration?.(
        outcome === 'migrated' ? 'migrated' : outcome === 'conflict' ? 'conflict' : 'already_migrated',
        elapsed(),
      );
    } catch (error) {
      this.#options.observer?.migration?.('failed', elapsed());
      if (isOrgshiftError(error) && (error.code.startsWith('lock_') || error.code === 'database_unavailable'))
        throw error;
      const reason = isOrgshiftError(error) ? error.code : 'unexpected database error';
      // The same code and message a backfill records for the same fault (a column, never a value).
      await recordFailure(this.#ctx.db, { subject: key, ...describeFailure(this.#ctx, error) }).catch(() => undefined);
      if (isOrgshiftError(error) && error.code === 'legacy_key_duplicate') throw error;
      throw new MigrationFailedError(key, reason, { cause: error });
    }
  }

  /** Verification failures also land in the repair queue, so a repair job can find them. */
  #observerWithRepairQueue(observer: DirectoryObserver | undefined): DirectoryObserver {
    return {
      ...observer,
      verificationFailure: (key, codes) => {
        observer?.verificationFailure?.(key, codes);
        recordFailure(this.#ctx.db, { subject: key, code: 'verification_failed', message: codes.join(',') }).catch(
          () => undefined,
        );
      },
    };
  }
}

export type { PlannedUser };
