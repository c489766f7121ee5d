/**
 * orgshift's public API: the facade (`open`), the configuration, the lock
 * managers, the error classes, the HTTP service, and the types they take and
 * return. Everything else is internal.
 */
export { type KeyConfig, loadConfig, type OrgshiftConfig } from './config/config.js';
export type { MigrateReport } from './db/migrate.js';
export type { DatabaseConfig } from './db/open-database.js';
export type { ReconnectAttempt } from './db/reconnect.js';
export type { NewUser } from './directory/create-user.js';
export { MigrationFailedError, VerificationFailedError } from './directory/errors.js';
export type { LoadStrategy } from './directory/load-user.js';
export {
  type LazyEntity,
  LockLoadVerify,
  type LockLoadVerifyOptions,
  type LockMode,
  type Snapshot,
} from './directory/lock-load-verify.js';
export type { DirectoryObserver, LookupOutcome, MigrationResult } from './directory/observer.js';
export type { VerifyReport } from './directory/user-directory.js';
export type { OrgKind, OrgRecord, RoleRecord, UserView } from './directory/user-graph.js';
export { VIOLATION_CODES, type Violation, type ViolationCode } from './directory/violations.js';
export {
  ConfigError,
  DatabaseUnavailableError,
  type ErrorCode,
  InvalidUserIdError,
  isOrgshiftError,
  LegacyKeyDuplicateError,
  LegacyRowInvalidError,
  OrgshiftError,
  RollbackRefusedError,
  SchemaInvalidError,
  SecretUndecryptableError,
  UserExistsError,
  UserNotFoundError,
} from './errors.js';
export { createServer, type ServerOptions } from './http/create-server.js';
export type { DashboardDocument, DashboardSettings } from './http/dashboard/dashboard-document.js';
export type { HttpLimits } from './http/http-limits.js';
export { createMetrics, type MetricsOptions, type ServerMetrics } from './http/metrics.js';
export { createLockManager } from './lock/create-lock-manager.js';
export { LockLostError, LockTimeoutError, LockUnavailableError } from './lock/errors.js';
export type { AcquireOptions, Lease, LockConfig, LockKind, LockManager } from './lock/lock-manager.js';
export type { LockManagerOptions } from './lock/options.js';
export type { AuditCheckResult, AuditCode, AuditFinding, AuditOptions, AuditReport } from './ops/audit.js';
export type { NotChecked } from './ops/audit-checks.js';
export type { BackfillOptions, BackfillProgress, BackfillReport } from './ops/backfill/options.js';
export type { Discarded } from './ops/rollback/restore-plan.js';
export type { RollbackReport } from './ops/rollback/rollback.js';
export type { SeedOptions, SeedReport } from './ops/seed/seed.js';
export type { StatusReport } from './ops/status.js';
export { type Health, type OpenOptions, type Orgshift, open, type RollbackRequest } from './orgshift.js';
export type { EventHandler, HandlerContext } from './outbox/handler-destination.js';
export type { OutboxConfig } from './outbox/outbox-config.js';
export {
  type OrgshiftEvent,
  OUTBOX_EVENT_TYPES,
  type OutboxEventType,
  type UserEventData,
} from './outbox/outbox-event.js';
export type { OutboxObserver } from './outbox/outbox-observer.js';
export type { OutboxCounts } from './outbox/outbox-store.js';
export type { WebhookEndpoint } from './outbox/webhook-endpoint.js';
export {
  DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
  EVENT_ID_HEADER,
  SIGNATURE_HEADER,
  signWebhook,
  verifyWebhookSignature,
} from './outbox/webhook-signature.js';
export { checkMap, type LoadedMap, loadMapFile } from './schema-map/load-map.js';
export type { SchemaProblem } from './schema-map/schema-check.js';
export type { CodecSpec, Field, SchemaMap } from './schema-map/schema-map.js';
