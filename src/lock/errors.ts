import { OrgshiftError } from '../errors.js';

/** The key is held by someone else and stayed so for the whole wait. */
export class LockTimeoutError extends OrgshiftError {
  constructor(
    readonly key: string,
    readonly waitedMs: number,
  ) {
    super('lock_timeout', `lock ${key} still busy after ${waitedMs} ms`);
  }
}

/** The lock backend could not be reached or answered with an error. */
export class LockUnavailableError extends OrgshiftError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('lock_unavailable', message, options);
  }
}

/** A lease we held can no longer be trusted (expired, connection lost, renewal failed). */
export class LockLostError extends OrgshiftError {
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super('lock_lost', `lease on ${key} lost: ${reason}`);
  }
}
