import { abortReason, checkAcquireOptions, checkTtl } from './acquire-options.js';
import { LockLostError, LockTimeoutError, LockUnavailableError } from './errors.js';
import type { AcquireOptions, Lease, LockManager } from './lock-manager.js';
import { newLockToken } from './token.js';

/**
 * One-process locks (the default beside SQLite). A busy key queues
 * its waiters FIFO and hands the lock straight to the head, so newcomers never
 * barge. `ttlMs` is a hard term: a holder that neither releases nor extends in
 * time loses the lease (`lost` aborts) and the next waiter gets the key.
 */
export class MemoryLockManager implements LockManager {
  readonly kind = 'memory' as const;
  readonly #keys = new Map<string, KeyState>();
  /** One counter for all keys: strictly increasing per key, and nothing to forget when a key goes idle. */
  #lastFence = 0n;
  #closed = false;

  acquire(key: string, opts: AcquireOptions): Promise<Lease> {
    checkAcquireOptions(key, opts);
    if (this.#closed) return Promise.reject(new LockUnavailableError('memory lock manager is closed'));
    if (opts.signal?.aborted) return Promise.reject(abortReason(opts.signal));
    const state = this.#stateOf(key);
    if (state.holder === undefined && state.queue.length === 0) {
      return Promise.resolve(this.#grant(key, state, opts.ttlMs));
    }
    if (opts.waitMs === 0) return Promise.reject(new LockTimeoutError(key, 0));
    return this.#enqueue(key, state, opts);
  }

  /** Releases `key` only if `token` holds it; what `Lease.release` does, exposed for tests and tools. */
  releaseToken(key: string, token: string): Promise<boolean> {
    return Promise.resolve(this.#free(key, token));
  }

  async ping(): Promise<void> {
    if (this.#closed) throw new LockUnavailableError('memory lock manager is closed');
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const [key, state] of this.#keys) {
      for (const waiter of state.queue.splice(0)) waiter.fail(new LockUnavailableError('memory lock manager closed'));
      state.holder?.expire(new LockLostError(key, 'lock manager closed'));
    }
    this.#keys.clear();
  }

  #stateOf(key: string): KeyState {
    let state = this.#keys.get(key);
    if (state === undefined) {
      state = { holder: undefined, queue: [] };
      this.#keys.set(key, state);
    }
    return state;
  }

  #grant(key: string, state: KeyState, ttlMs: number): MemoryLease {
    this.#lastFence += 1n;
    const lease = new MemoryLease(key, newLockToken(), this.#lastFence, ttlMs, {
      free: (token) => this.#free(key, token),
      held: (token) => this.#keys.get(key)?.holder?.token === token,
    });
    state.holder = lease;
    return lease;
  }

  #enqueue(key: string, state: KeyState, opts: AcquireOptions): Promise<Lease> {
    return new Promise<Lease>((resolve, reject) => {
      const started = Date.now();
      const leave = () => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        const index = state.queue.indexOf(waiter);
        if (index >= 0) state.queue.splice(index, 1);
        this.#forgetIfIdle(key, state);
      };
      const onAbort = () => {
        leave();
        reject(abortReason(opts.signal!));
      };
      const timer = setTimeout(() => {
        leave();
        reject(new LockTimeoutError(key, Date.now() - started));
      }, opts.waitMs);
      const waiter: Waiter = {
        ttlMs: opts.ttlMs,
        grant: (lease) => {
          leave();
          resolve(lease);
        },
        fail: (error) => {
          leave();
          reject(error);
        },
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      state.queue.push(waiter);
    });
  }

  /** Frees the key if `token` holds it, then hands it to the oldest waiter. */
  #free(key: string, token: string): boolean {
    const state = this.#keys.get(key);
    if (state?.holder?.token !== token) return false;
    state.holder = undefined;
    const next = state.queue[0];
    if (next === undefined) this.#forgetIfIdle(key, state);
    else next.grant(this.#grant(key, state, next.ttlMs));
    return true;
  }

  #forgetIfIdle(key: string, state: KeyState): void {
    if (state.holder === undefined && state.queue.length === 0 && this.#keys.get(key) === state) this.#keys.delete(key);
  }
}

interface KeyState {
  holder: MemoryLease | undefined;
  readonly queue: Waiter[];
}

interface Waiter {
  readonly ttlMs: number;
  grant(lease: MemoryLease): void;
  fail(error: Error): void;
}

interface MemoryLeaseOwner {
  free(token: string): boolean;
  held(token: string): boolean;
}

class MemoryLease implements Lease {
  readonly lost: AbortSignal;
  readonly #lost = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #ttlMs: number;

  constructor(
    readonly key: string,
    readonly token: string,
    readonly fence: bigint,
    ttlMs: number,
    private readonly owner: MemoryLeaseOwner,
  ) {
    this.lost = this.#lost.signal;
    this.#ttlMs = checkTtl(ttlMs);
    this.#arm();
  }

  async extend(ttlMs?: number): Promise<void> {
    if (!this.owner.held(this.token)) throw new LockLostError(this.key, 'no longer held');
    if (ttlMs !== undefined) this.#ttlMs = checkTtl(ttlMs);
    this.#arm();
  }

  async release(): Promise<boolean> {
    clearTimeout(this.#timer);
    return this.owner.free(this.token);
  }

  /** Called by the manager on close; the TTL timer calls it on expiry. */
  expire(reason: LockLostError): void {
    clearTimeout(this.#timer);
    if (!this.#lost.signal.aborted) this.#lost.abort(reason);
    this.owner.free(this.token);
  }

  #arm(): void {
    clearTimeout(this.#timer);
    // A forgotten lease must not keep the process alive; expiry only matters while something else runs.
    this.#timer = setTimeout(
      () => this.expire(new LockLostError(this.key, `ttl of ${this.#ttlMs} ms elapsed`)),
      this.#ttlMs,
    );
    this.#timer.unref();
  }
}
