import type { ViolationCode } from './violations.js';

export type LookupOutcome =
  | 'hit'
  | 'migrated'
  | 'not_found'
  | 'verification_failed'
  | 'lock_timeout'
  | 'lock_unavailable'
  | 'error';

export type MigrationResult = 'migrated' | 'already_migrated' | 'conflict' | 'failed';

/**
 * Hooks for metrics and logs, so the directory stays free of prom-client and
 * pino. Every method is optional and must not throw.
 */
export interface DirectoryObserver {
  lookup?(outcome: LookupOutcome): void;
  migration?(result: MigrationResult, seconds: number): void;
  lockWait?(seconds: number): void;
  verificationFailure?(entityId: string, codes: readonly ViolationCode[]): void;
}
