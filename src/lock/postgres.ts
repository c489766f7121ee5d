import { abortable } from './abortable.js';
import { abortReason, checkAcquireOptions } from './acquire-options.js';
import { advisoryKey } from './advisory-key.js';
import { messageOf } from './error-message.js';
import { LockTimeoutError, LockUnavailableError } from './errors.js';
import { KeyGate } from './key-gate.js';
import type { AcquireOptions, Lease, LockManager } from './lock-manager.js';
import type { LockManagerOptions } from './options.js';
import { PgClientPool, type PooledClient } from './pg-client-pool.js';
import { PostgresLease } from './postgres-lease.js';
import { PostgresProbe } from './postgres-probe.js';
import { newLockToken } from './token.js';

export interface PostgresLockConfig {
  readonly url: string;
  /**
   * Most connections this manager opens. Each holder uses one, and so does one
   * waiter per key (further waiters for that key queue in the process). Default 10.
   */
  readonly poolSize?: number;
}

export interface PostgresLockManagerOptions extends LockManagerOptions {
  /** Default 2000 ms. */
  readonly connectTimeoutMs?: number;
  /** Idle lock connections close after this long. Default 10 s. */
  readonly idleTimeoutMs?: number;
  /** Shows in pg_stat_activity; default `orgshift-lock`. */
  readonly applicationName?: string;
}

/**
 * Fences come from one global sequence: strictly increasing for every key
 * across every process, as long as it keeps the default CACHE 1 (with a cache,
 * sessions would hand out values out of order).
 *
 * The statement that draws a fence commits asynchronously. nextval writes WAL
 * once every 32 values, and a synchronous commit would then wait for that WAL
 * to reach the disk: a full fsync (several milliseconds) inside one hand-off
 * in 32, which would set the hand-off's p99 by itself. What it costs: if
 * PostgreSQL crashes (a clean shutdown flushes everything) within about
 * 3 × wal_writer_delay (600 ms by default) of a fence, up to the last 32
 * fences drawn before the crash can be drawn again after it. The crash also
 * ends every advisory lock and every holder's session, so each of those
 * holders sees its lease `lost`.
 */
const CREATE_FENCE_SEQUENCE = 'create sequence if not exists orgshift_lock_fence';

/**
 * One round trip: bound the wait, queue on the server, then draw the fence.
 * Each `offset 0` keeps its subquery from being flattened, so the three steps
 * run in this order: the fence is drawn only once the lock is ours.
 */
const LOCK_WAITING = {
  name: 'orgshift_lock_wait',
  text: `select nextval('orgshift_lock_fence')::text as fence
           from (select pg_advisory_lock($1::bigint)
                   from (select set_config('lock_timeout', $2, false),
                                set_config('synchronous_commit', 'off', true) offset 0) as bounded_wait
                 offset 0) as locked`,
};
const LOCK_NOW = {
  name: 'orgshift_lock_try',
  text: `select case when pg_try_advisory_lock($1::bigint) then nextval('orgshift_lock_fence')::text end as fence
           from (select set_config('synchronous_commit', 'off', true) offset 0) as async_commit`,
};

/**
 * Busy, not broken: lock_timeout ran out, or the server broke a deadlock
 * between acquirers by cancelling this one. The session is intact either way.
 */
const BUSY_SQLSTATES = ['55P03', '40P01'];
/** Beyond the server-side lock_timeout, how long we let a silent server take before dropping the connection. */
const ANSWER_GRACE_MS = 2_000;
const DEFAULT_POOL_SIZE = 10;

/**
 * PostgreSQL session advisory locks. The server queues waiters and
 * `lock_timeout` bounds the wait, so there is no polling; a holder that crashes
 * takes its lock with its connection. Every lease owns a dedicated connection,
 * and one acquirer per key and process at a time waits at the server (the
 * others wait in the process), so a hot key costs at most two connections.
 */
export class PostgresLockManager implements LockManager {
  readonly kind = 'postgres' as const;
  readonly #pool: PgClientPool;
  readonly #probe: PostgresProbe;
  readonly #leases = new Set<PostgresLease>();
  readonly #gate = new KeyGate();
  readonly #onBackgroundError: (error: unknown) => void;
  #fenceSequence: Promise<void> | undefined;
  #closed = false;

  constructor(config: PostgresLockConfig, options: PostgresLockManagerOptions = {}) {
    this.#onBackgroundError = options.onBackgroundError ?? (() => undefined);
    const connectTimeoutMs = options.connectTimeoutMs ?? 2_000;
    const applicationName = options.applicationName ?? 'orgshift-lock';
    this.#pool = new PgClientPool({
      url: config.url,
      max: config.poolSize ?? DEFAULT_POOL_SIZE,
      connectTimeoutMs,
      idleTimeoutMs: options.idleTimeoutMs ?? 10_000,
      applicationName,
      onBackgroundError: this.#onBackgroundError,
    });
    this.#probe = new PostgresProbe(config.url, connectTimeoutMs, `${applicationName}-probe`);
  }

  async acquire(key: string, opts: AcquireOptions): Promise<Lease> {
    checkAcquireOptions(key, opts);
    if (this.#closed) throw new LockUnavailableError('postgres lock manager is closed');
    if (opts.signal?.aborted) throw abortReason(opts.signal);
    const started = Date.now();
    const deadline = started + opts.waitMs;
    const exitGate = await this.#gate.enter(key, deadline, opts.signal);
    try {
      return await this.#acquireThroughGate(key, opts, started, deadline);
    } finally {
      // Granted or given up: either way this acquirer no longer waits at the server, the next one may.
      exitGate();
    }
  }

  async #acquireThroughGate(
    key: string,
    opts: AcquireOptions,
    started: number,
    deadline: number,
  ): Promise<PostgresLease> {
    const lockKey = advisoryKey(key);
    // Drawn now, not once the lock is ours: nothing but the lock itself should sit between a release and this acquire.
    const token = newLockToken();
    const pooled = await abortable(this.#pool.take(key, deadline), opts.signal, (p) => this.#pool.give(p));
    const fence = await abortable(this.#lock(pooled, key, lockKey, started, deadline), opts.signal, () =>
      // Nobody waits for this lock any more: dropping the connection is the surest unlock.
      this.#pool.discard(pooled),
    );
    const lease = new PostgresLease(key, token, fence, opts.ttlMs, lockKey, pooled, {
      pool: this.#pool,
      onBackgroundError: this.#onBackgroundError,
      ended: (l) => this.#leases.delete(l),
    });
    this.#leases.add(lease);
    return lease;
  }

  /** Unlocks `key` only if `token` is the token of a lease this manager holds on it. */
  async releaseToken(key: string, token: string): Promise<boolean> {
    for (const lease of this.#leases) if (lease.key === key && lease.token === token) return lease.release();
    return false;
  }

  async ping(): Promise<void> {
    if (this.#closed) throw new LockUnavailableError('postgres lock manager is closed');
    await this.#probe.ping();
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const lease of [...this.#leases]) lease.abandon('lock manager closed');
    await Promise.all([this.#pool.close(), this.#probe.close()]);
  }

  /** Takes the lock on `pooled`; on failure the connection goes back to the pool or, if in doubt, is closed. */
  async #lock(pooled: PooledClient, key: string, lockKey: bigint, started: number, deadline: number): Promise<bigint> {
    // A connection dying mid-acquire fails the query itself; that is the report.
    pooled.onDeath = () => undefined;
    try {
      await this.#ensureFenceSequence(pooled);
      const remaining = deadline - Date.now();
      const query =
        remaining >= 1
          ? { ...LOCK_WAITING, values: [lockKey.toString(), `${Math.ceil(remaining)}ms`] }
          : { ...LOCK_NOW, values: [lockKey.toString()] };
      const fence = await answerWithin(
        pooled.client.query<{ fence: string | null }>(query).then(({ rows }) => rows[0]?.fence ?? null),
        Math.max(0, remaining) + ANSWER_GRACE_MS,
      );
      if (fence !== null) return BigInt(fence);
      this.#pool.give(pooled);
      throw new LockTimeoutError(key, Date.now() - started);
    } catch (error) {
      if (error instanceof LockTimeoutError) throw error;
      if (BUSY_SQLSTATES.some((state) => isPgError(error, state))) {
        await this.#recycle(pooled);
        throw new LockTimeoutError(key, Date.now() - started);
      }
      // Possibly half-done (the lock may be ours): closing the session is the only sure cleanup.
      this.#pool.discard(pooled);
      throw new LockUnavailableError(`postgres lock on ${key} failed: ${messageOf(error)}`, { cause: error });
    }
  }

  /**
   * Back to the pool after a busy error. Almost always the lock was never
   * granted, but a busy nextval (someone altering the sequence) would leave it
   * held: clear the session's advisory locks so the connection is clean.
   */
  async #recycle(pooled: PooledClient): Promise<void> {
    try {
      await pooled.client.query('select pg_advisory_unlock_all()');
      this.#pool.give(pooled);
    } catch {
      this.#pool.discard(pooled);
    }
  }

  #ensureFenceSequence(pooled: PooledClient): Promise<void> {
    this.#fenceSequence ??= createFenceSequence(pooled).catch((error: unknown) => {
      this.#fenceSequence = undefined;
      throw error;
    });
    return this.#fenceSequence;
  }
}

async function createFenceSequence(pooled: PooledClient): Promise<void> {
  try {
    await pooled.client.query(CREATE_FENCE_SEQUENCE);
  } catch (error) {
    // Two processes creating it at once: the loser sees a duplicate, which is as good as success.
    if (!isPgError(error, '23505') && !isPgError(error, '42P07')) throw error;
  }
}

function isPgError(error: unknown, sqlstate: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === sqlstate;
}

/** Rejects if the server stays silent for `ms`; the caller then closes the connection. */
function answerWithin<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const silence = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, silence]).finally(() => clearTimeout(timer));
}
