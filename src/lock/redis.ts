import { abortable } from './abortable.js';
import { abortReason, checkAcquireOptions } from './acquire-options.js';
import { LockTimeoutError, LockUnavailableError } from './errors.js';
import type { AcquireOptions, Lease, LockManager } from './lock-manager.js';
import type { LockManagerOptions } from './options.js';
import { RedisConnection } from './redis-connection.js';
import { RedisLease } from './redis-lease.js';
import {
  type AcquireOutcome,
  defineLockScripts,
  type RedisLockKeys,
  type RedisLockScripts,
  redisLockKeys,
} from './redis-scripts.js';
import { RedisWakeups } from './redis-wakeups.js';
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
}

type Won = Extract<AcquireOutcome, { acquired: true }> & { readonly sentAt: number };
type Attempt = AcquireOutcome & { readonly sentAt: number };

/**
 * Redis locks (docs/design.md#locks): `SET NX PX` with a random token and a per-key fence,
 * both in one script; release and extend compare the token first. Waiters sleep
 * until a release is published on the key's channel, or until a jittered poll,
 * so a lost message costs latency, never correctness. Any doubt about Redis
 * surfaces as `LockUnavailableError`; nothing here ever proceeds without the lock.
 */
export class RedisLockManager implements LockManager {
  readonly kind = 'redis' as const;
  readonly #connection: RedisConnection;
  readonly #scripts: RedisLockScripts;
  readonly #wakeups: RedisWakeups;
  readonly #prefix: string;
  readonly #leases = new Set<RedisLease>();
  /** In-flight acquires, so close() can end them. */
  readonly #acquiring = new Set<AbortController>();
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
    this.#scripts = defineLockScripts(this.#connection.client);
    this.#wakeups = new RedisWakeups(
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
    const keys = redisLockKeys(this.#prefix, key);
    const token = newLockToken();
    // One signal ends every step of this acquire: the caller's abort, the wait deadline or close().
    const stop = new AbortController();
    const unfollow = follow(opts.signal, stop);
    this.#acquiring.add(stop);
    try {
      const won = await this.#contend(key, keys, token, opts, started, stop);
      if (stop.signal.aborted) {
        // Won in the same tick as close() or the caller's abort: nobody will use this lock.
        this.#releaseQuietly(keys, token);
        throw stop.signal.reason;
      }
      const lease = new RedisLease(key, token, won.fence, opts.ttlMs, won.sentAt, keys, {
        scripts: this.#scripts,
        autoRenew: this.#autoRenew,
        onBackgroundError: this.#onBackgroundError,
        forget: (l) => this.#leases.delete(l),
        releasing: (k) => this.#wakeups.ring(k.channel),
      });
      this.#leases.add(lease);
      return lease;
    } finally {
      unfollow();
      this.#acquiring.delete(stop);
    }
  }

  /** Compare-and-delete with an arbitrary token: what `Lease.release` does, for tests and tools. */
  async releaseToken(key: string, token: string): Promise<boolean> {
    await this.#connection.ready();
    try {
      return await this.#scripts.release(redisLockKeys(this.#prefix, key), token);
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
    for (const stop of this.#acquiring) stop.abort(new LockUnavailableError('redis lock manager closed'));
    const held = [...this.#leases];
    for (const lease of held) lease.abandon('lock manager closed');
    await Promise.all(held.map((lease) => lease.release()));
    await Promise.all([this.#wakeups.close(), this.#connection.close()]);
  }

  async #contend(
    key: string,
    keys: RedisLockKeys,
    token: string,
    opts: AcquireOptions,
    started: number,
    stop: AbortController,
  ): Promise<Won> {
    const first = await this.#attempt(keys, token, opts.ttlMs, stop.signal);
    if (first.acquired) return first;
    const remaining = started + opts.waitMs - Date.now();
    if (remaining <= 0) throw new LockTimeoutError(key, Date.now() - started);
    const deadline = setTimeout(() => stop.abort(new LockTimeoutError(key, Date.now() - started)), remaining);
    try {
      const waker = await abortable(this.#wakeups.watch(keys.channel), stop.signal, (w) => w.stop());
      try {
        for (;;) {
          // Tried again at once after subscribing: the holder may have released in between.
          const attempt = await this.#attempt(keys, token, opts.ttlMs, stop.signal);
          if (attempt.acquired) return attempt;
          await waker.next(this.#pollDelay(attempt.holderPttlMs), stop.signal);
        }
      } finally {
        waker.stop();
      }
    } finally {
      clearTimeout(deadline);
    }
  }

  /** One acquire script run. If the caller gave up meanwhile, a late win is released at once. */
  #attempt(keys: RedisLockKeys, token: string, ttlMs: number, signal: AbortSignal): Promise<Attempt> {
    const sentAt = Date.now();
    const work = this.#tryOnce(keys, token, ttlMs).then((outcome): Attempt => ({ ...outcome, sentAt }));
    return abortable(work, signal, (outcome) => {
      if (outcome.acquired) this.#releaseQuietly(keys, token);
    });
  }

  async #tryOnce(keys: RedisLockKeys, token: string, ttlMs: number): Promise<AcquireOutcome> {
    await this.#connection.ready();
    try {
      return await this.#scripts.acquire(keys, token, Math.ceil(ttlMs));
    } catch (error) {
      // A timed-out SET may still have run: delete it if it is ours, or it blocks others until its TTL.
      this.#releaseQuietly(keys, token);
      throw this.#connection.unavailable(error);
    }
  }

  #releaseQuietly(keys: RedisLockKeys, token: string): void {
    this.#scripts.release(keys, token).catch(this.#onBackgroundError);
  }

  /** Jittered so waiters in many processes do not poll in lockstep; never later than the holder's expiry. */
  #pollDelay(holderPttlMs: number): number {
    const jittered = this.#pollMinMs + Math.random() * this.#pollSpreadMs;
    return holderPttlMs >= 0 ? Math.min(jittered, holderPttlMs + 1) : jittered;
  }
}

function follow(signal: AbortSignal | undefined, stop: AbortController): () => void {
  if (signal === undefined) return () => undefined;
  const onAbort = () => stop.abort(abortReason(signal));
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}
