import { LockUnavailableError } from './errors.js';
import type { LockConfig, LockManager } from './lock-manager.js';
import { MemoryLockManager } from './memory.js';
import type { LockManagerOptions } from './options.js';

/** Picks the backend named by `config.kind` (DESIGN §4). Connections are opened lazily, so this never throws for a down backend. */
export function createLockManager(config: LockConfig, _options: LockManagerOptions = {}): LockManager {
  switch (config.kind) {
    case 'memory':
      return new MemoryLockManager();
    default:
      throw new LockUnavailableError(`lock backend ${config.kind} is being built (issue #3)`);
  }
}
