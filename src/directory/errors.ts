import { OrgshiftError } from '../errors.js';
import type { Violation } from './violations.js';

/** A loaded entity broke its invariants; the violations say which. */
export class VerificationFailedError extends OrgshiftError {
  constructor(
    readonly entityId: string,
    readonly violations: readonly Violation[],
  ) {
    super('verification_failed', `${entityId} failed verification: ${violations.map((v) => v.code).join(', ')}`);
  }
}

/** The migration transaction failed and was rolled back; recorded in migration_failures. */
export class MigrationFailedError extends OrgshiftError {
  constructor(
    readonly userId: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super('migration_failed', `migration of ${userId} failed: ${reason}`, options);
  }
}
