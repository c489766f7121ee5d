/**
 * orgshift's public API. Everything a library user scripts against is
 * exported here; deeper paths are internal.
 */
export { type DatabaseConfig, type KeyConfig, loadConfig, type OrgshiftConfig } from './config/config.js';
export { SecretCipher } from './crypto/secret-cipher.js';
export type { Database, Dialect } from './db/database.js';
export { DEFAULT_LEGACY_SCHEMA, type DependentTable, type LegacySchema } from './db/legacy-schema.js';
export type { MigrateReport } from './db/migrate.js';
export type { NewUser } from './directory/create-user.js';
export { MigrationFailedError, VerificationFailedError } from './directory/errors.js';
export type { LoadStrategy, UserLoader } from './directory/load-user.js';
export {
  type LazyEntity,
  LockLoadVerify,
  type LockLoadVerifyOptions,
  type LockMode,
  type Snapshot,
} from './directory/lock-load-verify.js';
export type { DirectoryObserver, LookupOutcome, MigrationResult } from './directory/observer.js';
export { UserDirectory, type VerifyReport } from './directory/user-directory.js';
export type {
  LoadedUser,
  MembershipRecord,
  OrgRecord,
  RoleRecord,
  UserRecord,
  UserView,
} from './directory/user-graph.js';
export { isUserId, parseUserId } from './directory/user-id.js';
export { VIOLATION_CODES, type Violation, type ViolationCode } from './directory/violations.js';
export {
  ConfigError,
  DatabaseUnavailableError,
  type ErrorCode,
  InvalidUserIdError,
  isOrgshiftError,
  OrgshiftError,
  RollbackRefusedError,
  SecretUndecryptableError,
  UserExistsError,
  UserNotFoundError,
} from './errors.js';
export { createServer, type ServerOptions } from './http/create-server.js';
export type { HttpErrorCode } from './http/http-error.js';
export { createLogger, type LoggerSettings } from './http/logger.js';
export { assertListenAllowed } from './http/loopback.js';
export { createMetrics, type MetricsOptions, type ServerMetrics } from './http/metrics.js';
export { type ShutdownReport, shutdown } from './http/shutdown.js';
export { createLockManager } from './lock/create-lock-manager.js';
export { LockLostError, LockTimeoutError, LockUnavailableError } from './lock/errors.js';
export type { AcquireOptions, Lease, LockConfig, LockKind, LockManager } from './lock/lock-manager.js';
export {
  type AuditCheckResult,
  type AuditCode,
  type AuditFinding,
  type AuditOptions,
  type AuditReport,
  audit,
} from './ops/audit.js';
export { type BackfillOptions, type BackfillProgress, type BackfillReport, backfill } from './ops/backfill.js';
export type { ReconnectAttempt } from './ops/backfill-reconnect.js';
export { type RollbackReport, rollbackUser } from './ops/rollback.js';
export type { SeedOptions, SeedReport } from './ops/seed.js';
export type { StatusReport } from './ops/status.js';
export { type Health, type OpenOptions, type Orgshift, open } from './orgshift.js';
export type { DispatchStats } from './outbox/dispatcher.js';
export type { EventHandler, HandlerContext } from './outbox/handler-destination.js';
export type { DrainUntil, Outbox, OutboxStatus, RetryOptions } from './outbox/outbox.js';
export type { OutboxConfig } from './outbox/outbox-config.js';
export {
  type OrgshiftEvent,
  OUTBOX_EVENT_TYPES,
  type OutboxEventType,
  type UserEventData,
} from './outbox/outbox-event.js';
export type { OutboxObserver } from './outbox/outbox-observer.js';
export type { OutboxCounts } from './outbox/outbox-store.js';
export { WebhookEndpoint } from './outbox/webhook-endpoint.js';
export {
  DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
  EVENT_ID_HEADER,
  SIGNATURE_HEADER,
  signWebhook,
  verifyWebhookSignature,
} from './outbox/webhook-signature.js';
