/**
 * The seam between lock-load-verify and the lock backends (docs/locks.md).
 * Backends live beside this file, one per file; `createLockManager` picks one.
 */
export interface AcquireOptions {
  /**
   * Lease time-to-live. `redis` renews at ttlMs / 3 while the process lives and
   * Redis answers, so the TTL bounds how long a crashed or cut-off holder blocks
   * others. `memory` and `postgres` treat it as a hard term that `extend` pushes
   * (a postgres lock also ends with its connection). Either way `lost` aborts
   * when the lease runs out.
   */
  readonly ttlMs: number;
  /** Longest time to wait for a busy key before `LockTimeoutError`. */
  readonly waitMs: number;
  readonly signal?: AbortSignal;
}

export interface Lease {
  readonly key: string;
  /** Random per-acquisition token; release and extend only work with it. */
  readonly token: string;
  /** Strictly increasing per key (per backend); lets a resource reject stale holders. */
  readonly fence: bigint;
  /** Aborted (with a `LockLostError` reason) when the lease can no longer be trusted. */
  readonly lost: AbortSignal;
  extend(ttlMs?: number): Promise<void>;
  /** Resolves false when the lock was no longer ours (expired, stolen). Never throws for that. */
  release(): Promise<boolean>;
}

export interface LockManager {
  readonly kind: LockKind;
  acquire(key: string, opts: AcquireOptions): Promise<Lease>;
  /** Cheap reachability probe for readiness checks; throws `LockUnavailableError`. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type LockKind = 'memory' | 'postgres' | 'redis';

export type LockConfig =
  | { readonly kind: 'memory' }
  | { readonly kind: 'postgres'; readonly url: string; readonly poolSize?: number }
  | {
      readonly kind: 'redis';
      readonly url: string;
      /** Prefix for every key this manager writes; lets tests and tenants share a server. */
      readonly prefix?: string;
      /** Per-command timeout, so a dead Redis fails fast. Default 1000 ms. */
      readonly commandTimeoutMs?: number;
    };
