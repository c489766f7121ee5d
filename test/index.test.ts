import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as api from '../src/index.js';

/**
 * The public surface is a decision, not an accident: this list changes only
 * on purpose, together with the README. Everything else under src/ is
 * internal and may change without notice.
 */
const PUBLIC_VALUES = [
  'ConfigError',
  'DEFAULT_SIGNATURE_TOLERANCE_SECONDS',
  'DatabaseUnavailableError',
  'EVENT_ID_HEADER',
  'InvalidUserIdError',
  'LegacyKeyDuplicateError',
  'LegacyRowInvalidError',
  'LockLoadVerify',
  'LockLostError',
  'LockTimeoutError',
  'LockUnavailableError',
  'MigrationFailedError',
  'OUTBOX_EVENT_TYPES',
  'OrgshiftError',
  'RollbackRefusedError',
  'SIGNATURE_HEADER',
  'SchemaInvalidError',
  'SecretUndecryptableError',
  'UserExistsError',
  'UserNotFoundError',
  'VIOLATION_CODES',
  'VerificationFailedError',
  'checkMap',
  'createLockManager',
  'createMetrics',
  'createServer',
  'isOrgshiftError',
  'loadConfig',
  'loadMapFile',
  'open',
  'signWebhook',
  'verifyWebhookSignature',
];

const PUBLIC_TYPES = [
  'AcquireOptions',
  'AuditCheckResult',
  'AuditCode',
  'AuditFinding',
  'AuditOptions',
  'AuditReport',
  'BackfillOptions',
  'BackfillProgress',
  'BackfillReport',
  'CodecSpec',
  'DashboardDocument',
  'DashboardSettings',
  'DatabaseConfig',
  'DirectoryObserver',
  'Discarded',
  'ErrorCode',
  'EventHandler',
  'Field',
  'HandlerContext',
  'Health',
  'HttpLimits',
  'KeyConfig',
  'LazyEntity',
  'Lease',
  'LoadStrategy',
  'LoadedMap',
  'LockConfig',
  'LockKind',
  'LockLoadVerifyOptions',
  'LockManager',
  'LockManagerOptions',
  'LockMode',
  'LookupOutcome',
  'MetricsOptions',
  'MigrateReport',
  'MigrationResult',
  'NewUser',
  'NotChecked',
  'OpenOptions',
  'OrgKind',
  'OrgRecord',
  'Orgshift',
  'OrgshiftConfig',
  'OrgshiftEvent',
  'OutboxConfig',
  'OutboxCounts',
  'OutboxEventType',
  'OutboxObserver',
  'ReconnectAttempt',
  'RoleRecord',
  'RollbackReport',
  'RollbackRequest',
  'SchemaMap',
  'SchemaProblem',
  'SeedOptions',
  'SeedReport',
  'ServerMetrics',
  'ServerOptions',
  'Snapshot',
  'StatusReport',
  'UserEventData',
  'UserView',
  'VerifyReport',
  'Violation',
  'ViolationCode',
  'WebhookEndpoint',
];

/**
 * Error classes a library user never meets, each with the reason: the test
 * below makes every new `*Error` class under src/ either exported or listed
 * here.
 */
const INTERNAL_ERRORS: Readonly<Record<string, string>> = {
  FenceViolationError: 'caught by the migration: a lost race is a conflict, then a reload',
  NothingToDraftError: 'schema init only (CLI), a schema_invalid there',
  MapRuleError: 'checkMap and loadMapFile turn it into a ConfigError naming the map path',
  TemplateSyntaxError: 'checkMap and loadMapFile turn it into a ConfigError naming the map path',
  HttpError: "the HTTP layer's own answers; never thrown to a library caller",
};

/** Plumbing an Orgshift object must not carry: internals stay behind internalsOf(), which is not exported. */
const PLUMBING = [
  'db',
  'database',
  'pool',
  'kysely',
  'sql',
  'migration',
  'codecs',
  'ciphers',
  'cipher',
  'keys',
  'config',
  'locks',
  'users',
  'directory',
  'outbox',
  'counter',
  'internals',
];

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

/** Every name src/index.ts exports, read from its syntax (types included), as [name, type-only]. */
function exportedNames(): Map<string, boolean> {
  const text = readFileSync(join(SRC, 'index.ts'), 'utf8');
  const file = ts.createSourceFile('index.ts', text, ts.ScriptTarget.ES2022, false);
  const names = new Map<string, boolean>();
  for (const statement of file.statements) {
    if (!ts.isExportDeclaration(statement)) {
      // Only re-exports: a declaration here would be code in the index.
      expect(ts.SyntaxKind[statement.kind]).toBe('ExportDeclaration');
      continue;
    }
    const clause = statement.exportClause;
    if (clause === undefined || !ts.isNamedExports(clause)) throw new Error('export * hides what is public');
    for (const element of clause.elements) names.set(element.name.text, statement.isTypeOnly || element.isTypeOnly);
  }
  return names;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** `export class XError extends …` anywhere under src/, with where it is. */
function errorClasses(): Map<string, string> {
  const found = new Map<string, string>();
  for (const path of sourceFiles(SRC)) {
    for (const match of readFileSync(path, 'utf8').matchAll(/^export class (\w+Error)\b/gm)) {
      found.set(match[1] as string, relative(SRC, path));
    }
  }
  return found;
}

describe('the public API (src/index.ts)', () => {
  it('exports exactly the pinned names, values and types', () => {
    const names = exportedNames();
    const values = [...names].filter(([, typeOnly]) => !typeOnly).map(([name]) => name);
    const types = [...names].filter(([, typeOnly]) => typeOnly).map(([name]) => name);
    expect(values.sort()).toEqual([...PUBLIC_VALUES].sort());
    expect(types.sort()).toEqual([...PUBLIC_TYPES].sort());
    // What a JavaScript caller actually gets at run time is the value list, nothing more.
    expect(Object.keys(api).sort()).toEqual([...PUBLIC_VALUES].sort());
  });

  it('exports every error class a caller can meet, each an OrgshiftError with a stable code', () => {
    const classes = errorClasses();
    const exported = new Set(Object.keys(api));
    const unexplained = [...classes].filter(([name]) => !exported.has(name) && INTERNAL_ERRORS[name] === undefined);
    expect(unexplained).toEqual([]);
    // Every class of src/errors.ts, the lock errors and the directory errors, by file.
    for (const [name, file] of classes) {
      if (['errors.ts', 'lock/errors.ts', 'directory/errors.ts'].includes(file)) expect(exported).toContain(name);
    }
    for (const name of Object.keys(INTERNAL_ERRORS)) expect(classes.has(name)).toBe(true);
    const errorValues = Object.entries(api).filter(([name]) => /^[A-Z]\w*Error$/.test(name));
    expect(errorValues.length).toBeGreaterThan(10);
    for (const [name, value] of errorValues) {
      if (value === api.OrgshiftError) continue;
      expect({ name, orgshiftError: (value as { prototype: unknown }).prototype instanceof api.OrgshiftError }).toEqual(
        {
          name,
          orgshiftError: true,
        },
      );
    }
  });

  it('turns map rule and template errors into ConfigError naming the map path', () => {
    const demo = api.loadConfig({ ORGSHIFT_DATABASE_URL: 'sqlite::memory:' }).map.map;
    const badTemplate = structuredClone(demo) as { target: { org: { fields: Record<string, unknown> } } };
    badTemplate.target.org.fields.name = { template: '{display_name' };
    const badRule = structuredClone(demo) as { target: { org: { fields: Record<string, unknown> } } };
    badRule.target.org.fields.settings = { json: 'settings', pick: ['a'], omit: ['b'] };
    for (const [raw, path] of [
      [badTemplate, 'target.org.fields.name'],
      [badRule, 'target.org.fields.settings'],
    ] as const) {
      let caught: unknown;
      try {
        api.checkMap(raw, 'test map');
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(api.ConfigError);
      expect((caught as Error).message).toContain(path);
    }
  });

  describe('an opened Orgshift', () => {
    let orgshift: api.Orgshift;
    beforeAll(async () => {
      orgshift = await api.open(api.loadConfig({ ORGSHIFT_DATABASE_URL: 'sqlite::memory:' }), { migrate: true });
    });
    afterAll(async () => {
      await orgshift?.close();
    });

    it('has its documented members and no plumbing', () => {
      expect(Object.keys(orgshift).sort()).toEqual(
        [
          'audit',
          'backfill',
          'checkSchema',
          'close',
          'createUser',
          'flushCounts',
          'getUser',
          'health',
          'lockKind',
          'map',
          'migrateSchema',
          'on',
          'rollbackUser',
          'seed',
          'status',
          'verifyUser',
        ].sort(),
      );
      for (const name of PLUMBING) expect({ name, present: name in orgshift }).toEqual({ name, present: false });
      expect(Object.getOwnPropertyNames(orgshift).sort()).toEqual(Object.keys(orgshift).sort());
      expect(Object.getOwnPropertySymbols(orgshift)).toEqual([]);
      expect(Object.getPrototypeOf(orgshift)).toBe(Object.prototype);
      expect(Object.isFrozen(orgshift)).toBe(true);
    });
  });
});
