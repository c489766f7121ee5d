import type { FastifyInstance } from 'fastify';
import type { Orgshift } from '../orgshift.js';

export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

export interface ShutdownReport {
  /** Connections still busy at the end of the grace period, which were cut. */
  readonly forced: boolean;
  readonly seconds: number;
}

/**
 * Stops accepting connections, lets in-flight requests finish for at most
 * `graceMs`, cuts whatever is left, then closes orgshift (releases leases,
 * ends pools). Order matters: orgshift closes last, so no request still
 * running finds its database gone. A cut request cannot leave a half-migrated
 * user: its migration is one transaction, rolled back if it never commits.
 */
export async function shutdown(
  app: FastifyInstance,
  orgshift: Orgshift,
  graceMs = DEFAULT_SHUTDOWN_GRACE_MS,
): Promise<ShutdownReport> {
  const started = performance.now();
  let forced = false;
  const timer = setTimeout(() => {
    forced = true;
    app.server.closeAllConnections();
  }, graceMs);
  try {
    await app.close();
  } finally {
    clearTimeout(timer);
    await orgshift.close();
  }
  return { forced, seconds: (performance.now() - started) / 1000 };
}
