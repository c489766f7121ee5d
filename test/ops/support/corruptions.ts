import type { AuditCode } from '../../../src/ops/audit.js';

/** Ids the corruptions work on: distinct migrated users of a clean database. */
export interface Victims {
  readonly user: string;
  readonly other: string;
  /** A fresh UUID that is no row's id. */
  readonly stranger: string;
}

export interface Corruption {
  readonly name: string;
  /** Statements run with foreign-key enforcement off (session_replication_role = replica / foreign_keys = off). */
  statements(dialect: 'postgres' | 'sqlite', v: Victims): string[];
  /** Codes the audit must report, each with the victim among the samples (`table` for dependent_unmigrated). */
  readonly expected: readonly { readonly code: AuditCode; readonly table?: string }[];
}

const teamOrg = (id: string) => `insert into orgs (id, kind, name, settings) values ('${id}', 'team', 'Team', '{}')`;

/** One corruption per invariant of docs/design.md#invariants (secret_mismatch excepted: deep verification only), plus the schema check. */
export const CORRUPTIONS: readonly Corruption[] = [
  {
    name: 'users row deleted under a migrated legacy row',
    statements: (_, v) => [
      `delete from org_members where user_id = '${v.user}'`,
      `delete from users where id = '${v.user}'`,
    ],
    expected: [{ code: 'user_missing' }],
  },
  {
    name: 'current org points nowhere',
    statements: (_, v) => [`update users set current_org_id = '${v.stranger}' where id = '${v.user}'`],
    // No org, so no membership in it either.
    expected: [{ code: 'current_org_missing' }, { code: 'current_org_not_member' }],
  },
  {
    name: 'current org is a team the user is not a member of',
    statements: (_, v) => [
      teamOrg(v.stranger),
      `update users set current_org_id = '${v.stranger}' where id = '${v.user}'`,
    ],
    expected: [{ code: 'current_org_not_member' }],
  },
  {
    name: 'membership in an org that does not exist',
    statements: (_, v) => [
      `insert into org_members (org_id, user_id, role_id, status) values ('${v.stranger}', '${v.user}', 3, 'active')`,
    ],
    expected: [{ code: 'membership_dangling' }],
  },
  {
    name: 'membership with a role that does not exist',
    statements: (_, v) => [
      teamOrg(v.stranger),
      `insert into org_members (org_id, user_id, role_id, status) values ('${v.stranger}', '${v.user}', 99, 'active')`,
    ],
    expected: [{ code: 'membership_dangling' }],
  },
  {
    name: 'personal org turned into a team',
    statements: (_, v) => [`update orgs set kind = 'team' where id = '${v.user}'`],
    expected: [{ code: 'personal_org_missing' }],
  },
  {
    name: 'another member in the personal org',
    statements: (_, v) => [
      `insert into org_members (org_id, user_id, role_id, status) values ('${v.user}', '${v.other}', 3, 'active')`,
    ],
    expected: [{ code: 'personal_org_membership' }],
  },
  {
    name: 'the user is no longer the owner of its personal org',
    statements: (_, v) => [`update org_members set role_id = 3 where org_id = '${v.user}' and user_id = '${v.user}'`],
    expected: [{ code: 'personal_org_membership' }],
  },
  {
    name: 'legacy row unmarked (split brain)',
    statements: (_, v) => [`update legacy_users set migrated_at = null where id = '${v.user}'`],
    expected: [{ code: 'legacy_not_marked' }],
  },
  {
    name: 'a conversation left outside the org',
    statements: (_, v) => [`update conversations set org_id = null where user_id = '${v.user}'`],
    expected: [{ code: 'dependent_unmigrated', table: 'conversations' }],
  },
  {
    name: 'an API key in someone else’s org',
    statements: (_, v) => [`update api_keys set org_id = '${v.other}' where user_id = '${v.user}'`],
    expected: [{ code: 'dependent_unmigrated', table: 'api_keys' }],
  },
  {
    name: 'email changed on one side only',
    statements: (_, v) => [`update users set email = 'someone.else@example.com' where id = '${v.user}'`],
    expected: [{ code: 'email_mismatch' }],
  },
  {
    name: 'a preference changed on one side only',
    statements: (dialect, v) => [
      dialect === 'postgres'
        ? `update users set preferences = preferences || '{"theme":"neon"}'::jsonb where id = '${v.user}'`
        : `update users set preferences = json_set(preferences, '$.theme', 'neon') where id = '${v.user}'`,
    ],
    expected: [{ code: 'settings_mismatch' }],
  },
  {
    name: 'an org setting lost',
    statements: (dialect, v) => [
      dialect === 'postgres'
        ? `update orgs set settings = settings - 'llm_model' where id = '${v.user}'`
        : `update orgs set settings = json_remove(settings, '$.llm_model') where id = '${v.user}'`,
    ],
    expected: [{ code: 'settings_mismatch' }],
  },
  {
    name: 'foreign-key index dropped',
    statements: () => ['drop index org_members_role_id_idx'],
    expected: [{ code: 'fk_unindexed' }],
  },
];
