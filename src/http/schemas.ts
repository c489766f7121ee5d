/**
 * JSON schemas of the HTTP contract (docs/design.md#interfaces). They validate input before
 * any handler runs, make responses serialize through fast-json-stringify (so
 * a field not listed here, such as a secret, can never be sent), and feed
 * /openapi.json.
 */

/**
 * The user id parameter, shaped by the schema map's key type (checked again
 * by the directory, for library callers).
 */
export function userIdParams(pattern: string, description: string) {
  return {
    type: 'object',
    required: ['id'],
    properties: { id: { type: 'string', pattern, maxLength: 255, description: `user id: ${description}` } },
  } as const;
}

const org = {
  type: 'object',
  required: ['id', 'kind', 'name'],
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', enum: ['personal', 'team'] },
    name: { type: 'string' },
  },
} as const;

export const userSchema = {
  type: 'object',
  description: 'a verified user with its organizations; never carries a secret',
  required: ['id', 'email', 'displayName', 'migratedAt', 'currentOrg', 'memberships'],
  properties: {
    id: { type: 'string', description: 'the user key' },
    email: { type: ['string', 'null'], description: 'null where the legacy row had none: NULL stays NULL' },
    displayName: { type: ['string', 'null'] },
    migratedAt: {
      type: ['string', 'null'],
      format: 'date-time',
      description: 'null for native sign-ups, and where the map records no migration time',
    },
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
            properties: { name: { type: 'string' }, rank: { type: ['integer', 'null'] } },
          },
          status: { type: 'string' },
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
    state: {
      type: 'string',
      enum: ['migrated', 'native', 'pending'],
      description:
        'migrated: a migration made it (fields compared); native: created in the new shape (no legacy source); pending: not migrated yet',
    },
    violations: { type: 'array', items: violation },
  },
} as const;

export const statusSchema = {
  type: 'object',
  description: 'as `orgshift status --json`',
  required: ['legacyTotal', 'migrated', 'pending', 'failed', 'invalid', 'outbox', 'lock'],
  properties: {
    legacyTotal: { type: 'integer' },
    migrated: { type: 'integer' },
    pending: { type: 'integer', description: 'never counting the invalid rows' },
    failed: { type: 'integer', description: 'open entries in the repair queue' },
    invalid: {
      type: 'object',
      description: 'unmigrated rows no migration can take until repaired',
      required: ['nullKeys', 'duplicateKeys'],
      properties: { nullKeys: { type: 'integer' }, duplicateKeys: { type: 'integer' } },
    },
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
  required: ['id', 'dryRun', 'restored', 'discarded', 'dependentRows', 'copiesDeleted'],
  properties: {
    id: { type: 'string' },
    dryRun: { type: 'boolean', description: 'true: nothing was written, this is what a rollback would do' },
    restored: { type: 'array', items: { type: 'string' }, description: 'legacy columns given back their value' },
    discarded: {
      type: 'array',
      description: 'changes made after the migration that the legacy row cannot hold, lost by the rollback',
      items: {
        type: 'object',
        required: ['field', 'column'],
        properties: { field: { type: 'string' }, column: { type: 'string' } },
      },
    },
    dependentRows: { type: 'integer', description: 'dependent rows taken out of the personal org' },
    copiesDeleted: { type: 'integer', description: 'copies of dependent rows deleted' },
  },
} as const;

/**
 * A misspelt flag (`?dry_run=true`) must be refused, not dropped: dropped, an
 * intended dry run becomes a real rollback. Fastify's validator removes
 * properties that `additionalProperties: false` forbids instead of failing,
 * so the names allowed are stated with `propertyNames`, which it does not
 * strip.
 */
export const rollbackQuery = {
  type: 'object',
  properties: { dryRun: { type: 'boolean', default: false, description: 'report, change nothing' } },
  propertyNames: { enum: ['dryRun'] },
} as const;

/** Optional; `{ "dryRun": true }` means what `?dryRun=true` means, and anything else is refused likewise. */
export const rollbackBody = {
  type: 'object',
  properties: { dryRun: { type: 'boolean', description: 'as ?dryRun=true' } },
  propertyNames: { enum: ['dryRun'] },
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

const nullableNumber = { type: ['number', 'null'] } as const;
const sourceCounts = {
  type: 'object',
  required: ['migrated', 'failed'],
  properties: { migrated: { type: 'integer' }, failed: { type: 'integer' } },
} as const;

export const dashboardSchema = {
  type: 'object',
  description: 'everything the /dashboard page shows; the page asks again every `refreshSeconds`',
  required: [
    'generatedAt',
    'refreshSeconds',
    'totals',
    'history',
    'share',
    'failures',
    'lastAudit',
    'lock',
    'lockWait',
  ],
  properties: {
    generatedAt: { type: 'string', format: 'date-time' },
    refreshSeconds: { type: 'number' },
    totals: {
      type: 'object',
      description: 'the counts of GET /v1/admin/status, plus the percentage migrated',
      required: ['legacyTotal', 'migrated', 'pending', 'failed', 'percentMigrated'],
      properties: {
        ...statusSchema.properties,
        percentMigrated: { type: 'number', description: 'rounded down to one decimal' },
      },
    },
    history: {
      type: 'object',
      description:
        'per-minute migrations over the window, read from the database (survives restarts, includes every process)',
      required: ['source', 'windowMinutes', 'minutes', 'perMinute', 'cumulative', 'ratePerMinute', 'etaSeconds'],
      properties: {
        source: {
          type: 'string',
          enum: ['marker_timestamp', 'sampled_counts'],
          description: "the legacy rows' migrated-at timestamps, or the counters every process samples",
        },
        windowMinutes: { type: 'integer' },
        minutes: { type: 'array', items: { type: 'integer' }, description: 'epoch second of each minute' },
        perMinute: { type: 'array', items: { type: 'integer' } },
        cumulative: { type: 'array', items: { type: 'integer' }, description: 'migrated by the end of each minute' },
        ratePerMinute: { type: 'number', description: 'users per minute over the last 5 minutes' },
        etaSeconds: { ...nullableNumber, description: 'until the pending users are migrated; null without progress' },
      },
    },
    share: {
      type: 'object',
      description: 'migrations counted by every orgshift process, by who made them',
      required: ['just_in_time', 'backfill'],
      properties: { just_in_time: sourceCounts, backfill: sourceCounts },
    },
    failures: {
      type: 'object',
      required: ['total', 'byCode'],
      properties: {
        total: { type: 'integer' },
        byCode: {
          type: 'array',
          items: {
            type: 'object',
            required: ['code', 'count', 'sample'],
            properties: {
              code: { type: 'string' },
              count: { type: 'integer' },
              sample: { type: 'array', items: { type: 'string' }, description: 'latest user ids first' },
            },
          },
        },
      },
    },
    lastAudit: {
      type: ['object', 'null'],
      description: 'the last finished audit from any process (CLI or HTTP); null before the first',
      required: ['finishedAt', 'ok', 'seconds', 'violations'],
      properties: {
        finishedAt: { type: 'string', format: 'date-time' },
        ok: { type: 'boolean' },
        seconds: { type: 'number' },
        violations: {
          type: 'array',
          items: {
            type: 'object',
            required: ['code', 'count'],
            properties: { code: { type: 'string' }, count: { type: 'integer' } },
          },
        },
      },
    },
    lock: statusSchema.properties.lock,
    lockWait: {
      type: 'object',
      description: "estimated from this server's lock-wait histogram since it started (seconds)",
      required: ['count', 'p50', 'p90', 'p99'],
      properties: { count: { type: 'integer' }, p50: nullableNumber, p90: nullableNumber, p99: nullableNumber },
    },
  },
} as const;
