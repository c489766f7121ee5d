/**
 * The fixture's tables as the writers see them: names exactly as the DDL
 * spells them and a storage type per column, so one row shape serves both
 * databases and each writer converts cells its own way.
 */
export type ColumnType = 'text' | 'integer' | 'boolean' | 'json' | 'timestamp' | 'timestamptz';

export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
}

export interface TableSpec {
  readonly name: string;
  readonly columns: readonly ColumnSpec[];
}

/** A cell as generated: timestamps are epoch milliseconds, json is JSON text. */
export type Cell = string | number | boolean | null;
export type Row = Readonly<Record<string, Cell>>;

function table(name: string, columns: Readonly<Record<string, ColumnType>>): TableSpec {
  return { name, columns: Object.entries(columns).map(([column, type]) => ({ name: column, type })) };
}

export const PRISMA_MIGRATIONS = table('_prisma_migrations', {
  id: 'text',
  checksum: 'text',
  finished_at: 'timestamptz',
  migration_name: 'text',
  logs: 'text',
  rolled_back_at: 'timestamptz',
  started_at: 'timestamptz',
  applied_steps_count: 'integer',
});

export const USER = table('User', {
  id: 'text',
  email: 'text',
  name: 'text',
  image: 'text',
  emailVerified: 'timestamp',
  locale: 'text',
  timezone: 'text',
  marketingOptIn: 'boolean',
  preferences: 'json',
  apiKey: 'text',
  organizationId: 'text',
  createdAt: 'timestamp',
  updatedAt: 'timestamp',
});

export const ORGANIZATION = table('Organization', {
  id: 'text',
  name: 'text',
  slug: 'text',
  personal: 'boolean',
  ownerId: 'text',
  billingEmail: 'text',
  createdAt: 'timestamp',
  updatedAt: 'timestamp',
});

export const MEMBERSHIP = table('Membership', {
  id: 'text',
  userId: 'text',
  organizationId: 'text',
  role: 'text',
  apiKeyEnc: 'text',
  createdAt: 'timestamp',
});

export const PROJECT = table('Project', {
  id: 'text',
  userId: 'text',
  organizationId: 'text',
  name: 'text',
  createdAt: 'timestamp',
});

export const API_TOKEN = table('ApiToken', {
  id: 'text',
  userId: 'text',
  organizationId: 'text',
  label: 'text',
  lastUsedAt: 'timestamp',
  createdAt: 'timestamp',
});

export const INVOICE = table('Invoice', {
  id: 'text',
  userId: 'text',
  organizationId: 'text',
  amountCents: 'integer',
  currency: 'text',
  issuedAt: 'timestamp',
});

/** Double-quotes an identifier; every name here is mixed case or starts with `_`. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
