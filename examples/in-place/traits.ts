/**
 * Why a user is interesting to an end-to-end test. The manifest samples at
 * least one user of each trait the generated data has; the README explains
 * what each one tests.
 */
export type Trait =
  // the profile
  | 'null-name'
  | 'empty-name'
  | 'padded-name'
  | 'non-latin-name'
  | 'accented-name'
  | 'emoji-name'
  | 'long-name'
  | 'shouting-name'
  | 'name-collision'
  | 'mixed-case-email'
  | 'plus-email'
  | 'null-preferences'
  | 'json-null-preferences'
  | 'empty-preferences'
  | 'api-key'
  | 'test-api-key'
  | 'no-api-key'
  // the organizations the app created before the migration
  | 'team-creator'
  | 'team-member'
  | 'multi-team'
  | 'slug-taken-by-team';

export const TRAITS: readonly Trait[] = [
  'null-name',
  'empty-name',
  'padded-name',
  'non-latin-name',
  'accented-name',
  'emoji-name',
  'long-name',
  'shouting-name',
  'name-collision',
  'mixed-case-email',
  'plus-email',
  'null-preferences',
  'json-null-preferences',
  'empty-preferences',
  'api-key',
  'test-api-key',
  'no-api-key',
  'team-creator',
  'team-member',
  'multi-team',
  'slug-taken-by-team',
];
