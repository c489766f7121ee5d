import { isOrgshiftError, type OrgshiftError } from '../errors.js';
import { LockLostError, LockTimeoutError, LockUnavailableError } from '../lock/errors.js';
import type { Lease, LockManager } from '../lock/lock-manager.js';
import { VerificationFailedError } from './errors.js';
import type { DirectoryObserver, LookupOutcome } from './observer.js';
import { SingleFlight } from './single-flight.js';
import type { Violation } from './violations.js';

/**
 * The lock-load-verify sequence (docs/design.md#lock-load-verify), written once for any
 * entity whose dependent resources are created lazily. The user directory is
 * its first use.
 */
export type Snapshot<T> =
  | { readonly state: 'present'; readonly value: T }
  | { readonly state: 'unmigrated' }
  | { readonly state: 'absent' };

export interface LazyEntity<T> {
  lockKey(id: string): string;
  /** One eager load of the entity and everything verification needs. */
  load(id: string): Promise<Snapshot<T>>;
  /** Migrates under `lease`; must be safe if someone else already did (database fence). */
  migrate(id: string, lease: Lease): Promise<void>;
  /** Checks the loaded graph; no I/O. */
  verify(value: T): readonly Violation[];
  notFound(id: string): OrgshiftError;
}

export type LockMode = 'on-miss' | 'always';

export interface LockLoadVerifyOptions {
  readonly locks: LockManager;
  readonly ttlMs: number;
  readonly waitMs: number;
  /** 'on-miss' (default): lock only when a migration may be needed. 'always': lock before every read (for comparison). */
  readonly lockMode?: LockMode;
  readonly observer?: DirectoryObserver;
}

export class LockLoadVerify<T> {
  readonly #entity: LazyEntity<T>;
  readonly #options: LockLoadVerifyOptions;
  readonly #flights = new SingleFlight<T>();

  constructor(entity: LazyEntity<T>, options: LockLoadVerifyOptions) {
    this.#entity = entity;
    this.#options = options;
  }

  /** Resolves a verified entity or rejects with a typed error; `id` must already be validated. */
  get(id: string): Promise<T> {
    return this.#flights.run(id, () => this.#observe(this.#resolve(id)));
  }

  /** As `get`, but never joins a read that started earlier: for callers that just wrote the entity. */
  getFresh(id: string): Promise<T> {
    return this.#flights.runFresh(id, () => this.#observe(this.#resolve(id)));
  }

  async #resolve(id: string): Promise<{ value: T; outcome: LookupOutcome }> {
    if (this.#options.lockMode !== 'always') {
      const fast = await this.#entity.load(id);
      if (fast.state === 'present') return { value: this.#verified(id, fast.value), outcome: 'hit' };
      // Unknown ids never reach the lock backend: random ids cannot create lock traffic.
      if (fast.state === 'absent') throw this.#entity.notFound(id);
    }
    return this.#underLock(id);
  }

  async #underLock(id: string): Promise<{ value: T; outcome: LookupOutcome }> {
    const acquired = await this.#acquire(id);
    if (!('lease' in acquired)) return { value: acquired.value, outcome: 'hit' };
    const lease = acquired.lease;
    let snapshot: Snapshot<T>;
    let migrated = false;
    try {
      snapshot = await this.#entity.load(id);
      if (snapshot.state === 'unmigrated') {
        await this.#entity.migrate(id, lease);
        migrated = true;
      }
    } catch (error) {
      if (!(error instanceof LockLostError)) throw error;
      // Our migration was rolled back; whoever took the lock over may have finished.
      migrated = false;
    } finally {
      await lease.release().catch(() => false);
    }
    snapshot = await this.#entity.load(id);
    if (snapshot.state === 'absent') throw this.#entity.notFound(id);
    if (snapshot.state === 'unmigrated')
      throw new LockLostError(this.#entity.lockKey(id), 'migration did not complete');
    return { value: this.#verified(id, snapshot.value), outcome: migrated ? 'migrated' : 'hit' };
  }

  /**
   * Never proceeds without the lock. When the lock is busy or its backend is
   * down, one more load still serves a user that someone else migrated meanwhile.
   */
  async #acquire(id: string): Promise<{ readonly lease: Lease } | { readonly value: T }> {
    const started = performance.now();
    try {
      const lease = await this.#options.locks.acquire(this.#entity.lockKey(id), {
        ttlMs: this.#options.ttlMs,
        waitMs: this.#options.waitMs,
      });
      return { lease };
    } catch (error) {
      if (error instanceof LockTimeoutError || error instanceof LockUnavailableError) {
        const again = await this.#entity.load(id);
        if (again.state === 'present') return { value: this.#verified(id, again.value) };
      }
      throw error;
    } finally {
      this.#options.observer?.lockWait?.((performance.now() - started) / 1000);
    }
  }

  #verified(id: string, value: T): T {
    const violations = this.#entity.verify(value);
    if (violations.length === 0) return value;
    this.#options.observer?.verificationFailure?.(
      id,
      violations.map((v) => v.code),
    );
    throw new VerificationFailedError(id, violations);
  }

  async #observe(work: Promise<{ value: T; outcome: LookupOutcome }>): Promise<T> {
    try {
      const { value, outcome } = await work;
      this.#options.observer?.lookup?.(outcome);
      return value;
    } catch (error) {
      this.#options.observer?.lookup?.(outcomeOf(error));
      throw error;
    }
  }
}

function outcomeOf(error: unknown): LookupOutcome {
  if (!isOrgshiftError(error)) return 'error';
  switch (error.code) {
    case 'user_not_found':
      return 'not_found';
    case 'verification_failed':
      return 'verification_failed';
    case 'lock_timeout':
      return 'lock_timeout';
    case 'lock_unavailable':
      return 'lock_unavailable';
    default:
      return 'error';
  }
}
