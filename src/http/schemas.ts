/**
 * JSON schemas of the HTTP contract (DESIGN §6). They validate input before
 * any handler runs, make responses serialize through fast-json-stringify (so
 * a field not listed here, such as a secret, can never be sent), and feed
 * /openapi.json.
 */

/** Same shape as src/directory/user-id.ts; checked again there, for library callers. */
export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

export const userIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: UUID_PATTERN, description: 'user id (UUID)' } },
} as const;

const org = {
  type: 'object',
  required: ['id', 'kind', 'name'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    kind: { type: 'string', enum: ['personal', 'team'] },
    name: { type: 'string' },
  },
} as const;

export const userSchema = {
  type: 'object',
  description: 'a verified user with its organizations; never carries a secret',
  required: ['id', 'email', 'displayName', 'migratedAt', 'currentOrg', 'memberships'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    email: { type: 'string' },
    displayName: { type: ['string', 'null'] },
    migratedAt: { type: ['string', 'null'], format: 'date-time', description: 'null for native sign-ups' },
    currentOrg: org,
    memberships: {
      type: 'array',
      items: {
        type: 'object',
        required: ['org', 'role', 'status'],
        properties: {
          org,
          role: {
            type: 'object',
            required: ['name', 'rank'],
            properties: { name: { type: 'string' }, rank: { type: 'integer' } },
          },
          status: { type: 'string', enum: ['active', 'invited', 'disabled'] },
        },
      },
    },
  },
} as const;

const violation = {
  type: 'object',
  required: ['code', 'message'],
  properties: { code: { type: 'string' }, message: { type: 'string' } },
} as const;

export const verifyReportSchema = {
  type: 'object',
  description: 'deep verification of one user, as `orgshift verify --json`',
  required: ['ok', 'state', 'violations'],
  properties: {
    ok: { type: 'boolean' },
    state: { type: 'string', enum: ['migrated', 'native', 'pending'] },
    violations: { type: 'array', items: violation },
  },
} as const;

export const statusSchema = {
  type: 'object',
  description: 'as `orgshift status --json`',
  required: ['legacyTotal', 'migrated', 'pending', 'failed', 'outbox', 'lock'],
  properties: {
    legacyTotal: { type: 'integer' },
    migrated: { type: 'integer' },
    pending: { type: 'integer' },
    failed: { type: 'integer' },
    outbox: {
      type: 'object',
      description: 'after-commit events: not yet delivered, of which retrying; dead (redrive with outbox retry --dead)',
      required: ['pending', 'retrying', 'dead', 'oldestPendingSeconds'],
      properties: {
        pending: { type: 'integer' },
        retrying: { type: 'integer' },
        dead: { type: 'integer' },
        oldestPendingSeconds: { type: ['integer', 'null'] },
      },
    },
    lock: {
      type: 'object',
      required: ['kind', 'healthy'],
      properties: { kind: { type: 'string', enum: ['memory', 'postgres', 'redis'] }, healthy: { type: 'boolean' } },
    },
  },
} as const;

const auditFinding = {
  code: { type: 'string' },
  count: { type: 'integer', description: 'distinct users (foreign keys for fk_unindexed)' },
  sample: {
    type: 'array',
    items: { type: 'string' },
    description: 'up to 10 user ids (table(column) for fk_unindexed)',
  },
  table: { type: 'string', description: 'the dependent table, for dependent_unmigrated' },
} as const;

export const auditReportSchema = {
  type: 'object',
  description: 'as `orgshift audit --json`; 200 whether or not anything was found: gate on `ok`',
  required: ['ok', 'violations', 'checks', 'notChecked', 'seconds'],
  properties: {
    ok: { type: 'boolean' },
    violations: {
      type: 'array',
      description: 'only the checks that found something',
      items: { type: 'object', required: ['code', 'count', 'sample'], properties: auditFinding },
    },
    checks: {
      type: 'array',
      description: 'every check that ran',
      items: {
        type: 'object',
        required: ['code', 'count', 'sample', 'seconds'],
        properties: { ...auditFinding, seconds: { type: 'number' } },
      },
    },
    notChecked: {
      type: 'array',
      items: {
        type: 'object',
        required: ['code', 'reason'],
        properties: { code: { type: 'string' }, reason: { type: 'string' } },
      },
    },
    seconds: { type: 'number' },
  },
} as const;

export const rollbackReportSchema = {
  type: 'object',
  description: 'as `orgshift rollback --json`; the next read migrates the user again',
  required: ['id', 'dependentRows'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    dependentRows: { type: 'integer', description: 'dependent rows whose org_id was cleared' },
  },
} as const;

export const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'stable machine-readable code' },
        message: { type: 'string', description: 'for humans; may change' },
        violations: { type: 'array', items: violation, description: 'with verification_failed only' },
      },
    },
  },
} as const;

export const readinessSchema = {
  type: 'object',
  required: ['ready', 'database', 'lock'],
  properties: {
    ready: { type: 'boolean' },
    database: { type: 'boolean' },
    lock: { type: 'boolean' },
    error: errorSchema.properties.error,
  },
} as const;

/** Response entries for the error statuses a route can answer. */
export function errorResponses(...statuses: readonly number[]): Record<number, typeof errorSchema> {
  return Object.fromEntries(statuses.map((status) => [status, errorSchema]));
}
