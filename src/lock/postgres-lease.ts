import { checkTtl } from './acquire-options.js';
import { messageOf } from './error-message.js';
import { LockLostError } from './errors.js';
import type { Lease } from './lock-manager.js';
import type { PgClientPool, PooledClient } from './pg-client-pool.js';

/** How long an unlock may take before we drop the connection instead (which frees the lock too). */
const UNLOCK_TIMEOUT_MS = 2_000;
/** Prepared once per connection: a hand-off starts with this statement, so it should not be parsed and planned each time. */
const UNLOCK = { name: 'orgshift_lock_unlock', text: 'select pg_advisory_unlock($1::bigint) as ok' };

export interface PostgresLeaseContext {
  readonly pool: PgClientPool;
  readonly onBackgroundError: (error: unknown) => void;
  /** The lease no longer counts as held (released, expired, lost). */
  readonly ended: (lease: PostgresLease) => void;
}

/**
 * A session advisory lock held on a dedicated connection. The server frees it
 * when that connection dies, so a crashed holder never blocks others; the
 * lease notices the death and aborts `lost`. `ttlMs` is a hard term, as on the
 * memory backend: unless `extend`ed in time, the lease aborts `lost` and unlocks.
 */
export class PostgresLease implements Lease {
  readonly lost: AbortSignal;
  readonly #lost = new AbortController();
  #held = true;
  #ttlMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly key: string,
    readonly token: string,
    readonly fence: bigint,
    ttlMs: number,
    private readonly lockKey: bigint,
    private readonly pooled: PooledClient,
    private readonly context: PostgresLeaseContext,
  ) {
    this.lost = this.#lost.signal;
    this.#ttlMs = checkTtl(ttlMs);
    pooled.onDeath = (error) => this.#connectionDied(error);
    this.#arm();
  }

  /** The holding connection's backend pid (for `pg_terminate_backend` in drills and tests). */
  get backendPid(): number {
    return this.pooled.pid;
  }

  async extend(ttlMs?: number): Promise<void> {
    if (!this.#held || this.pooled.dead) throw new LockLostError(this.key, 'no longer held');
    if (ttlMs !== undefined) this.#ttlMs = checkTtl(ttlMs);
    this.#arm();
  }

  async release(): Promise<boolean> {
    if (!this.#held) return false;
    this.#let();
    return this.#unlock();
  }

  /** Marks the lease lost without unlocking: the caller is about to close the connection. */
  abandon(reason: string): void {
    if (!this.#held) return;
    this.#let();
    this.#lost.abort(new LockLostError(this.key, reason));
  }

  #let(): void {
    this.#held = false;
    clearTimeout(this.#timer);
    this.context.ended(this);
  }

  #expire(): void {
    if (!this.#held) return;
    this.#let();
    this.#lost.abort(new LockLostError(this.key, `ttl of ${this.#ttlMs} ms elapsed without extend`));
    this.#unlock().catch(this.context.onBackgroundError);
  }

  #connectionDied(error: Error): void {
    if (!this.#held) return;
    this.#let();
    this.#lost.abort(new LockLostError(this.key, `connection lost: ${error.message}`));
  }

  /** Never throws: any doubt ends the connection, and the server drops the lock with it. */
  async #unlock(): Promise<boolean> {
    const { pool } = this.context;
    let timer: NodeJS.Timeout | undefined;
    try {
      const unlocked = this.pooled.client.query<{ ok: boolean }>({ ...UNLOCK, values: [this.lockKey.toString()] });
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`unlock took over ${UNLOCK_TIMEOUT_MS} ms`)), UNLOCK_TIMEOUT_MS);
      });
      const { rows } = await Promise.race([unlocked, timeout]);
      if (rows[0]?.ok === true) {
        pool.give(this.pooled);
        return true;
      }
      pool.discard(this.pooled);
      return false;
    } catch (error) {
      // A dead connection already took the lock with it; anything else is worth a log line.
      if (!this.pooled.dead) this.context.onBackgroundError(new Error(`unlock failed: ${messageOf(error)}`));
      pool.discard(this.pooled);
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#expire(), this.#ttlMs);
    this.#timer.unref();
  }
}
