/** The invariant codes (docs/design.md#invariants). */
export type ViolationCode =
  | 'user_missing'
  | 'current_org_missing'
  | 'current_org_not_member'
  | 'membership_dangling'
  | 'personal_org_missing'
  | 'personal_org_membership'
  | 'legacy_not_marked'
  | 'dependent_unmigrated'
  | 'email_mismatch'
  | 'settings_mismatch'
  | 'field_mismatch'
  | 'secret_mismatch';

export const VIOLATION_CODES: readonly ViolationCode[] = Object.freeze([
  'user_missing',
  'current_org_missing',
  'current_org_not_member',
  'membership_dangling',
  'personal_org_missing',
  'personal_org_membership',
  'legacy_not_marked',
  'dependent_unmigrated',
  'email_mismatch',
  'settings_mismatch',
  'field_mismatch',
  'secret_mismatch',
]);

export interface Violation {
  readonly code: ViolationCode;
  /** Human explanation; never contains a secret or a field's value. */
  readonly message: string;
}

export function violation(code: ViolationCode, message: string): Violation {
  return Object.freeze({ code, message });
}
