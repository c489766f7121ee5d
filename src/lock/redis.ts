import { abortable } from './abortable.js';
import { abortReason, checkAcquireOptions } from './acquire-options.js';
import { LockTimeoutError, LockUnavailableError } from './errors.js';
import type { AcquireOptions, Lease, LockManager } from './lock-manager.js';
import type { LockManagerOptions } from './options.js';
import { RedisConnection } from './redis-connection.js';
import { RedisGrants } from './redis-grants.js';
import { RedisLease } from './redis-lease.js';
import {
  type AcquireOutcome,
  defineLockScripts,
  type Grant,
  type RedisLockKeys,
  type RedisLockScripts,
  redisLockKeys,
} from './redis-scripts.js';
import { newLockToken } from './token.js';

export interface RedisLockConfig {
  readonly url: string;
  /** Default `orgshift:`. */
  readonly prefix?: string;
  /** Default 1000 ms. */
  readonly commandTimeoutMs?: number;
}

export interface RedisLockManagerOptions extends LockManagerOptions {
  /** Renew held leases at ttl/3. Default true; tests turn it off to watch a lease expire. */
  readonly autoRenew?: boolean;
  /** Fallback poll interval bounds while waiting (jittered uniformly between them). Default 50–150 ms. */
  readonly pollMinMs?: number;
  readonly pollMaxMs?: number;
  /**
   * How long a key's last fence outlives its lock. Fences come from the Redis
   * clock; while the last one is kept, a later fence beats it even if that clock
   * was stepped back meanwhile. Memory: one small key per lock released within
   * this time. Default 60 s.
   */
  readonly fenceRetentionMs?: number;
}

interface Won {
  readonly fence: bigint;
  /** Until when the lock is surely ours without a renewal (see RedisLease). */
  readonly validUntil: number;
}
type Attempt = AcquireOutcome & { readonly sentAt: number };

const DEFAULT_FENCE_RETENTION_MS = 60_000;

/**
 * Redis locks: a token with a TTL, set by a script that also draws the fence;
 * release and extend compare the token first. A busy key queues its waiters
 * FIFO in Redis, and a release hands the lock straight to the first live one
 * and publishes the grant to its process, so the hand-off costs one trip
 * through Redis instead of a wake-up plus a race of every waiter to re-take
 * it. Waiters also poll (jittered), so a lost message costs latency, never the
 * lock. Any doubt about Redis surfaces as `LockUnavailableError`; nothing here
 * ever proceeds without the lock. The scripts and the keys: redis-scripts.ts.
 */
export class RedisLockManager implements LockManager {
  readonly kind = 'redis' as const;
  readonly #connection: RedisConnection;
  readonly #scripts: RedisLockScripts;
  readonly #grants: RedisGrants;
  readonly #prefix: string;
  /** Names this manager in the grant channels, so it hears the grants for its own waiters only. */
  readonly #owner = newLockToken().slice(0, 16);
  readonly #leases = new Set<RedisLease>();
  /** In-flight acquires, so close() can end them and wait until they have. */
  readonly #acquiring = new Map<AbortController, Promise<void>>();
  /** Best-effort releases still on their way; close() lets them finish. */
  readonly #cleanups = new Set<Promise<void>>();
  readonly #onBackgroundError: (error: unknown) => void;
  readonly #autoRenew: boolean;
  readonly #pollMinMs: number;
  readonly #pollSpreadMs: number;
  #closed = false;

  constructor(config: RedisLockConfig, options: RedisLockManagerOptions = {}) {
    const commandTimeoutMs = config.commandTimeoutMs ?? 1_000;
    const onBackgroundError = options.onBackgroundError ?? (() => undefined);
    this.#onBackgroundError = onBackgroundError;
    this.#prefix = config.prefix ?? 'orgshift:';
    this.#autoRenew = options.autoRenew ?? true;
    this.#pollMinMs = options.pollMinMs ?? 50;
    this.#pollSpreadMs = Math.max(0, (options.pollMaxMs ?? 150) - this.#pollMinMs);
    this.#connection = new RedisConnection(config.url, commandTimeoutMs, onBackgroundError);
    this.#scripts = defineLockScripts(
      this.#connection.client,
      Math.ceil(options.fenceRetentionMs ?? DEFAULT_FENCE_RETENTION_MS),
    );
    this.#grants = new RedisGrants(
      () => new RedisConnection(config.url, commandTimeoutMs, onBackgroundError),
      onBackgroundError,
    );
    // Connect now so the first acquire does not pay for it; failures surface on use.
    this.#connection.ready().catch(() => undefined);
  }

  async acquire(key: string, opts: AcquireOptions): Promise<Lease> {
    checkAcquireOptions(key, opts);
    if (this.#closed) throw new LockUnavailableError('redis lock manager is closed');
    if (opts.signal?.aborted) throw abortReason(opts.signal);
    const started = Date.now();
    const keys = this.#keys(key);
    const token = newLockToken();
    // One signal ends every step of this acquire: the caller's abort, the wait deadline or close().
    const stop = new AbortController();
    const unfollow = follow(opts.signal, stop);
    const winning = this.#win(key, keys, token, opts, started, stop);
    this.#acquiring.set(stop, winning.then(noop, noop));
    try {
      return await winning;
    } finally {
      unfollow();
      this.#acquiring.delete(stop);
    }
  }

  async #win(
    key: string,
    keys: RedisLockKeys,
    token: string,
    opts: AcquireOptions,
    started: number,
    stop: AbortController,
  ): Promise<RedisLease> {
    const won = await this.#contend(key, keys, token, opts, started, stop);
    if (stop.signal.aborted) {
      // Won in the same tick as close() or the caller's abort: nobody will use this lock.
      this.#releaseQuietly(keys, token);
      throw stop.signal.reason;
    }
    const lease = new RedisLease(key, token, won.fence, opts.ttlMs, won.validUntil, keys, {
      scripts: this.#scripts,
      autoRenew: this.#autoRenew,
      onBackgroundError: this.#onBackgroundError,
      forget: (l) => this.#leases.delete(l),
      handedOver: (grant) => this.#grants.deliver(grant),
    });
    this.#leases.add(lease);
    return lease;
  }

  /** Compare-and-delete with an arbitrary token: what `Lease.release` does, for tests and tools. */
  async releaseToken(key: string, token: string): Promise<boolean> {
    await this.#connection.ready();
    try {
      const { released, grant } = await this.#scripts.release(this.#keys(key), token);
      if (grant !== undefined) this.#grants.deliver(grant);
      return released;
    } catch (error) {
      throw this.#connection.unavailable(error);
    }
  }

  async ping(): Promise<void> {
    if (this.#closed) throw new LockUnavailableError('redis lock manager is closed');
    await this.#connection.ready();
    try {
      await this.#connection.client.ping();
    } catch (error) {
      throw this.#connection.unavailable(error);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const ending = [...this.#acquiring.values()];
    for (const stop of this.#acquiring.keys()) stop.abort(new LockUnavailableError('redis lock manager closed'));
    // Ended waiters leave the queue before the connection goes.
    await Promise.all(ending);
    const held = [...this.#leases];
    for (const lease of held) lease.abandon('lock manager closed');
    await Promise.all([...held.map((lease) => lease.release()), ...this.#cleanups]);
    await Promise.all([this.#grants.close(), this.#connection.close()]);
  }

  async #contend(
    key: string,
    keys: RedisLockKeys,
    token: string,
    opts: AcquireOptions,
    started: number,
    stop: AbortController,
  ): Promise<Won> {
    // A try without queueing first, unless grants for this key already reach us: then the queueing try is the first.
    if (opts.waitMs === 0 || !this.#grants.listening(keys.channel)) {
      const first = await this.#attempt(keys, token, opts.ttlMs, 0, stop.signal);
      if (first.acquired) return won(first);
    }
    const deadline = started + opts.waitMs;
    if (deadline <= Date.now()) throw new LockTimeoutError(key, Date.now() - started);
    const timer = setTimeout(() => stop.abort(new LockTimeoutError(key, Date.now() - started)), deadline - Date.now());
    try {
      // Subscribed before queueing: a grant can only be published once we are in the queue.
      const waker = await abortable(this.#grants.watch(keys.channel, token), stop.signal, (w) => w.stop());
      try {
        for (;;) {
          // Queues us, or takes the lock if the holder let go meanwhile; later rounds are the fallback poll.
          const attempt = await this.#attempt(keys, token, opts.ttlMs, deadline - Date.now(), stop.signal);
          if (attempt.acquired) return won(attempt);
          const grant = await waker.next(this.#pollDelay(attempt.holderPttlMs, opts.ttlMs), stop.signal);
          // Granted after that attempt ran, so no earlier than it was sent.
          if (grant !== undefined) return grantedAfter(grant, attempt.sentAt, opts.ttlMs);
        }
      } finally {
        waker.stop();
      }
    } catch (error) {
      // Out of the queue; a lock granted to us in the meantime goes on to the next waiter.
      this.#releaseQuietly(keys, token);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** One acquire script run. If the caller gave up meanwhile, a late win is released at once. */
  #attempt(keys: RedisLockKeys, token: string, ttlMs: number, waitMs: number, signal: AbortSignal): Promise<Attempt> {
    const sentAt = Date.now();
    const work = this.#tryOnce(keys, token, ttlMs, waitMs).then((outcome): Attempt => ({ ...outcome, sentAt }));
    return abortable(work, signal, (outcome) => {
      if (outcome.acquired) this.#releaseQuietly(keys, token);
    });
  }

  async #tryOnce(keys: RedisLockKeys, token: string, ttlMs: number, waitMs: number): Promise<AcquireOutcome> {
    await this.#connection.ready();
    try {
      return await this.#scripts.acquire(keys, token, Math.ceil(ttlMs), waitMs);
    } catch (error) {
      // A timed-out script may still have run: undo it if it took the lock, or it blocks others until its TTL.
      this.#releaseQuietly(keys, token);
      throw this.#connection.unavailable(error);
    }
  }

  #releaseQuietly(keys: RedisLockKeys, token: string): void {
    const cleanup = this.#scripts
      .release(keys, token)
      .then(({ grant }) => {
        if (grant !== undefined) this.#grants.deliver(grant);
      }, this.#onBackgroundError)
      .finally(() => this.#cleanups.delete(cleanup));
    this.#cleanups.add(cleanup);
  }

  #keys(key: string): RedisLockKeys {
    return redisLockKeys(this.#prefix, key, this.#owner);
  }

  /**
   * Jittered so waiters in many processes do not poll in lockstep; never later
   * than the holder's expiry, nor than a third of our own TTL: a grant counts
   * from our last poll (see `grantedAfter`), so polls must be frequent enough
   * to leave most of the TTL to the lease.
   */
  #pollDelay(holderPttlMs: number, ttlMs: number): number {
    const jittered = Math.min(this.#pollMinMs + Math.random() * this.#pollSpreadMs, ttlMs / 3);
    return holderPttlMs >= 0 ? Math.min(jittered, holderPttlMs + 1) : jittered;
  }
}

function won(attempt: Extract<Attempt, { acquired: true }>): Won {
  return { fence: attempt.fence, validUntil: attempt.sentAt + attempt.pttlMs };
}

function grantedAfter(grant: Grant, notBefore: number, ttlMs: number): Won {
  return { fence: grant.fence, validUntil: notBefore + ttlMs };
}

function noop(): void {}

function follow(signal: AbortSignal | undefined, stop: AbortController): () => void {
  if (signal === undefined) return () => undefined;
  const onAbort = () => stop.abort(abortReason(signal));
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}
