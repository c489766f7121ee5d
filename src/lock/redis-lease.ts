import { checkTtl } from './acquire-options.js';
import { messageOf } from './error-message.js';
import { LockLostError, LockUnavailableError } from './errors.js';
import type { Lease } from './lock-manager.js';
import type { Grant, RedisLockKeys, RedisLockScripts } from './redis-scripts.js';

export interface RedisLeaseContext {
  readonly scripts: RedisLockScripts;
  /** Renew at ttl/3 (default). Off, the lease simply expires after ttl unless extended. */
  readonly autoRenew: boolean;
  readonly onBackgroundError: (error: unknown) => void;
  readonly forget: (lease: RedisLease) => void;
  /**
   * The release handed the lock straight to a waiter. If that waiter is in this
   * process it is woken from the release's reply, before the published grant arrives.
   */
  readonly handedOver: (grant: Grant) => void;
}

/**
 * A Redis lock renewed at ttl/3. We only trust it until `validUntil`: the send
 * time of a command that ran no later than the server set its TTL, plus that
 * TTL (the server started counting no earlier). A watchdog aborts `lost` at
 * that instant if no renewal moved it, so a paused Redis or a stalled event
 * loop can never leave the holder believing in a lock that may already be
 * someone else's.
 */
export class RedisLease implements Lease {
  readonly lost: AbortSignal;
  readonly #lost = new AbortController();
  #held = true;
  #released = false;
  #ttlMs: number;
  #validUntil: number;
  #renewTimer: NodeJS.Timeout | undefined;
  #watchdog: NodeJS.Timeout | undefined;

  constructor(
    readonly key: string,
    readonly token: string,
    readonly fence: bigint,
    ttlMs: number,
    validUntil: number,
    private readonly keys: RedisLockKeys,
    private readonly context: RedisLeaseContext,
  ) {
    this.lost = this.#lost.signal;
    this.#ttlMs = checkTtl(ttlMs);
    this.#validUntil = validUntil;
    this.#schedule();
  }

  async extend(ttlMs?: number): Promise<void> {
    if (!this.#held) throw new LockLostError(this.key, 'no longer held');
    const ttl = ttlMs === undefined ? this.#ttlMs : checkTtl(ttlMs);
    if (!(await this.#pushExpiry(ttl))) throw this.lost.reason ?? new LockLostError(this.key, 'released meanwhile');
    this.#ttlMs = ttl;
    this.#schedule();
  }

  /** Never throws; false when the key was not ours any more or Redis could not confirm. */
  async release(): Promise<boolean> {
    if (this.#released) return false;
    this.#released = true;
    this.#stop();
    try {
      // Even a lease we consider lost may still be ours on the server: deleting it lets the next waiter in sooner.
      const { released, grant } = await this.context.scripts.release(this.keys, this.token);
      if (grant !== undefined) this.context.handedOver(grant);
      return released;
    } catch (error) {
      this.context.onBackgroundError(new LockUnavailableError(`release of ${this.key} failed: ${messageOf(error)}`));
      return false;
    }
  }

  /** Aborts `lost` and stops renewing; the manager's close() uses it before releasing. */
  abandon(reason: string): void {
    if (!this.#held) return;
    this.#stop();
    this.#lost.abort(new LockLostError(this.key, reason));
  }

  /** Compare-and-extend; on any doubt the lease is marked lost. Resolves whether it is still held. */
  async #pushExpiry(ttlMs: number): Promise<boolean> {
    const sentAt = Date.now();
    try {
      if (!(await this.context.scripts.extend(this.keys, this.token, ttlMs))) {
        this.abandon('the key expired or was taken by someone else');
        return false;
      }
    } catch (error) {
      this.abandon(`renewal failed: ${messageOf(error)}`);
      return false;
    }
    if (!this.#held) return false;
    // Replies come back in command order, so the latest one describes the server's expiry, even for a shorter ttl.
    this.#validUntil = sentAt + ttlMs;
    return true;
  }

  #schedule(): void {
    clearTimeout(this.#renewTimer);
    if (!this.#held) return;
    this.#armWatchdog();
    if (!this.context.autoRenew) return;
    // A third of the TTL after the instant validity counts from: at once for a lock granted a while ago.
    const renewIn = Math.max(0, this.#validUntil - Date.now() - (2 * this.#ttlMs) / 3);
    this.#renewTimer = setTimeout(() => {
      this.#renew().catch(this.context.onBackgroundError);
    }, renewIn);
    this.#renewTimer.unref();
  }

  async #renew(): Promise<void> {
    if (!this.#held) return;
    if (await this.#pushExpiry(this.#ttlMs)) this.#schedule();
  }

  #armWatchdog(): void {
    clearTimeout(this.#watchdog);
    this.#watchdog = setTimeout(() => this.#checkValidity(), Math.max(0, this.#validUntil - Date.now()));
    this.#watchdog.unref();
  }

  #checkValidity(): void {
    if (!this.#held) return;
    if (Date.now() >= this.#validUntil) this.abandon(`ttl of ${this.#ttlMs} ms elapsed without a successful renewal`);
    else this.#armWatchdog();
  }

  #stop(): void {
    if (this.#held) this.context.forget(this);
    this.#held = false;
    clearTimeout(this.#renewTimer);
    clearTimeout(this.#watchdog);
  }
}
