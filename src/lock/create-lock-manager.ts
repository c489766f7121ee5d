import type { LockConfig, LockManager } from './lock-manager.js';
import { MemoryLockManager } from './memory.js';
import type { LockManagerOptions } from './options.js';
import { PostgresLockManager } from './postgres.js';
import { RedisLockManager } from './redis.js';

/**
 * Picks the backend named by `config.kind` (see docs/locks.md). Never throws for a
 * down backend: connections open in the background and failures surface as
 * `LockUnavailableError` from `acquire` and `ping`.
 */
export function createLockManager(config: LockConfig, options: LockManagerOptions = {}): LockManager {
  switch (config.kind) {
    case 'memory':
      return new MemoryLockManager();
    case 'postgres':
      return new PostgresLockManager(config, options);
    case 'redis':
      return new RedisLockManager(config, options);
  }
}
