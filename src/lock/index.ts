export { createLockManager } from './create-lock-manager.js';
export { LockLostError, LockTimeoutError, LockUnavailableError } from './errors.js';
export type { AcquireOptions, Lease, LockConfig, LockKind, LockManager } from './lock-manager.js';
export { MemoryLockManager } from './memory.js';
export type { LockManagerOptions } from './options.js';
export { type PostgresLockConfig, PostgresLockManager, type PostgresLockManagerOptions } from './postgres.js';
export { PostgresLease } from './postgres-lease.js';
export { type RedisLockConfig, RedisLockManager, type RedisLockManagerOptions } from './redis.js';
