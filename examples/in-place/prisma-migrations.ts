import { createHash } from 'node:crypto';
import type { Row } from './tables.js';
import { APP_LAUNCHED, DAY, ORGANIZATIONS_SHIPPED } from './timeline.js';

interface AppliedMigration {
  readonly id: string;
  readonly name: string;
  readonly at: number;
  readonly failed?: string;
}

/**
 * What Prisma Migrate recorded while building the schema, including the
 * first attempt at the organizations migration, which failed and was
 * marked rolled back before the fixed one ran: a table a schema
 * introspection should recognize and leave out.
 */
const HISTORY: readonly AppliedMigration[] = [
  { id: '8f3c2a4e-5b71-4d0a-9c1e-2f6d7b8a9c01', name: '20210301120000_init', at: APP_LAUNCHED },
  {
    id: '1d9e7f20-3a4b-4c5d-8e6f-7a8b9c0d1e22',
    name: '20230912093000_api_tokens_and_invoices',
    at: Date.UTC(2023, 8, 12, 9, 30),
  },
  {
    id: '6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c43',
    name: '20250228170000_organizations',
    at: ORGANIZATIONS_SHIPPED - 7 * 3_600_000,
    failed: 'Database error code: 23505\nERROR: could not create unique index "Organization_slug_key"',
  },
  { id: '0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d64', name: '20250301060000_organizations', at: ORGANIZATIONS_SHIPPED },
];

export function prismaMigrationRows(): Row[] {
  return HISTORY.map((m) => ({
    id: m.id,
    checksum: createHash('sha256').update(m.name).digest('hex'),
    finished_at: m.failed ? null : m.at + 1_250,
    migration_name: m.name,
    logs: m.failed ?? null,
    rolled_back_at: m.failed ? m.at + DAY / 24 : null,
    started_at: m.at,
    applied_steps_count: m.failed ? 0 : 1,
  }));
}
