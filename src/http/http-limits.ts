import type { Server, ServerOptions } from 'node:http';
import type { FastifyServerOptions } from 'fastify';

/**
 * What one client may cost the server: how long it may take to send its
 * headers and its request, how long a connection may sit idle, and how many
 * connections the server holds at once. Without them a client that trickles
 * one byte every few seconds holds a socket (and a file descriptor) forever.
 */
export interface HttpLimits {
  /** The request line and headers must arrive within this; otherwise 408 and the socket is closed. */
  readonly headersTimeoutMs: number;
  /** The whole request, body included, must arrive within this (not counting the time orgshift takes to answer). */
  readonly requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  readonly keepAliveTimeoutMs: number;
  /** A socket with no traffic either way for this long is destroyed, whatever state it is in. */
  readonly connectionTimeoutMs: number;
  /** Connections beyond this are closed as soon as they are accepted. */
  readonly maxConnections: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = Object.freeze({
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  // Longer than the 60 s idle timeout of common load balancers, so the balancer closes first and never
  // sends a request on a connection the server is closing.
  keepAliveTimeoutMs: 72_000,
  // Longer than the slowest answer (an audit of a large database), since the socket is silent meanwhile.
  connectionTimeoutMs: 120_000,
  maxConnections: 1_024,
});

/**
 * Node checks header and request deadlines on a timer (every 30 s by
 * default), so a deadline of a few seconds would otherwise be enforced up to
 * 30 s late. A quarter of the shorter deadline keeps the overshoot small.
 */
function checkingIntervalMs(limits: HttpLimits): number {
  const shorter = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  return Math.max(25, Math.min(1_000, Math.floor(shorter / 4)));
}

/** The Fastify options that carry the limits; the connection cap is set on the server afterwards. */
export function fastifyLimitOptions(limits: HttpLimits): Pick<
  FastifyServerOptions,
  'requestTimeout' | 'connectionTimeout' | 'keepAliveTimeout'
> & {
  readonly http: ServerOptions;
} {
  return {
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.connectionTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: { headersTimeout: limits.headersTimeoutMs, connectionsCheckingInterval: checkingIntervalMs(limits) },
  };
}

export function capConnections(server: Server, limits: HttpLimits): void {
  server.maxConnections = limits.maxConnections;
}
