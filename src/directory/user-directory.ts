import type { Database } from '../db/database.js';
import { isOrgshiftError, OrgshiftError, UserNotFoundError } from '../errors.js';
import type { Lease, LockManager } from '../lock/lock-manager.js';
import { insertNativeUser, type NewUser } from './create-user.js';
import { MigrationFailedError } from './errors.js';
import { recordFailure } from './failure-log.js';
import { createUserLoader, type LoadStrategy, type UserLoader } from './load-user.js';
import { type LazyEntity, LockLoadVerify, type LockMode, type Snapshot } from './lock-load-verify.js';
import { migrateUser } from './migrate-user.js';
import type { MigrationContext } from './migration-context.js';
import type { DirectoryObserver } from './observer.js';
import { type LoadedUser, loadState, toUserView, type UserView } from './user-graph.js';
import { parseUserId } from './user-id.js';
import { verifyDeep } from './verify-deep.js';
import { verifyStructure } from './verify-structure.js';
import type { Violation } from './violations.js';

export interface UserDirectoryOptions {
  readonly ttlMs: number;
  readonly waitMs: number;
  readonly lockMode?: LockMode;
  readonly loadStrategy?: LoadStrategy;
  readonly observer?: DirectoryObserver;
}

export interface VerifyReport {
  readonly ok: boolean;
  /** migrated: came from a legacy row; native: signed up after the move; pending: not migrated yet. */
  readonly state: 'migrated' | 'native' | 'pending';
  readonly violations: readonly Violation[];
}

export const userLockKey = (id: string) => `user:${id}`;

/** Users, read through lock-load-verify and migrated just in time. */
export class UserDirectory {
  readonly loader: UserLoader;
  readonly #db: Database;
  readonly #ctx: MigrationContext;
  readonly #locks: LockManager;
  readonly #options: UserDirectoryOptions;
  readonly #users: LockLoadVerify<LoadedUser>;

  constructor(db: Database, locks: LockManager, ctx: MigrationContext, options: UserDirectoryOptions) {
    this.#db = db;
    this.#ctx = ctx;
    this.#locks = locks;
    this.#options = options;
    this.loader = createUserLoader(db, options.loadStrategy);
    this.#users = new LockLoadVerify(this.#entity(), {
      locks,
      ttlMs: options.ttlMs,
      waitMs: options.waitMs,
      lockMode: options.lockMode,
      observer: this.#observerWithRepairQueue(options.observer),
    });
  }

  /** Lock-load-verify one user: the documented user JSON, or a typed error. */
  async getUser(id: unknown): Promise<UserView> {
    return toUserView(await this.#users.get(parseUserId(id)));
  }

  /** Deep verification of one user, without migrating it. */
  async verifyUser(id: unknown): Promise<VerifyReport> {
    const userId = parseUserId(id);
    const loaded = await this.loader.load(userId);
    const state = loadState(loaded);
    if (state === 'absent') throw new UserNotFoundError(userId);
    if (state === 'unmigrated') return { ok: true, state: 'pending', violations: [] };
    const violations = await verifyDeep(this.#db, this.#ctx, loaded);
    const migrated = loaded.user?.migratedAt != null || loaded.legacy.migratedAt !== null;
    return { ok: violations.length === 0, state: migrated ? 'migrated' : 'native', violations };
  }

  /** A native sign-up under the same lock and invariants as a migration. */
  async createUser(input: NewUser): Promise<UserView> {
    const id = parseUserId(input.id);
    if (typeof input.email !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(input.email) || input.email.length > 320) {
      throw new OrgshiftError('invalid_input', 'email must look like an address');
    }
    const lease = await this.#locks.acquire(userLockKey(id), {
      ttlMs: this.#options.ttlMs,
      waitMs: this.#options.waitMs,
    });
    try {
      await insertNativeUser(this.#db, this.#ctx, { ...input, id });
    } finally {
      await lease.release().catch(() => false);
    }
    // A read of this id that loaded before the commit may still be in flight; joining it would answer user_not_found.
    return toUserView(await this.#users.getFresh(id));
  }

  #entity(): LazyEntity<LoadedUser> {
    return {
      lockKey: userLockKey,
      load: async (id) => snapshotOf(await this.loader.load(id)),
      migrate: (id, lease) => this.#migrate(id, lease),
      verify: verifyStructure,
      notFound: (id) => new UserNotFoundError(id),
    };
  }

  async #migrate(id: string, lease: Lease): Promise<void> {
    const started = performance.now();
    const elapsed = () => (performance.now() - started) / 1000;
    try {
      const outcome = await migrateUser(this.#db, this.#ctx, id, lease);
      this.#options.observer?.migration?.(
        outcome === 'migrated' ? 'migrated' : outcome === 'conflict' ? 'conflict' : 'already_migrated',
        elapsed(),
      );
    } catch (error) {
      this.#options.observer?.migration?.('failed', elapsed());
      if (isOrgshiftError(error) && error.code.startsWith('lock_')) throw error;
      if (isOrgshiftError(error) && error.code === 'database_unavailable') throw error;
      const reason = isOrgshiftError(error) ? error.code : 'unexpected database error';
      await recordFailure(this.#db, id, 'migration_failed', reason).catch(() => undefined);
      throw new MigrationFailedError(id, reason, { cause: error });
    }
  }

  /** Verification failures also land in migration_failures, so a repair job can find them. */
  #observerWithRepairQueue(observer: DirectoryObserver | undefined): DirectoryObserver {
    return {
      ...observer,
      verificationFailure: (id, codes) => {
        observer?.verificationFailure?.(id, codes);
        recordFailure(this.#db, id, 'verification_failed', codes.join(',')).catch(() => undefined);
      },
    };
  }
}

function snapshotOf(loaded: LoadedUser): Snapshot<LoadedUser> {
  const state = loadState(loaded);
  return state === 'present' ? { state, value: loaded } : { state };
}
