export { createLockManager } from './create-lock-manager.js';
export { LockLostError, LockTimeoutError, LockUnavailableError } from './errors.js';
export type { AcquireOptions, Lease, LockConfig, LockKind, LockManager } from './lock-manager.js';
export { MemoryLockManager } from './memory.js';
export type { LockManagerOptions } from './options.js';
