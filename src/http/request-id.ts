import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';

/** Printable and short: a client-chosen id ends up in every log line of its request. */
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Honours a caller's x-request-id so one id follows a request through a proxy
 * chain; anything that could forge or bloat log lines is replaced by a fresh id.
 */
export function requestIdOf(request: IncomingMessage): string {
  const header = request.headers[REQUEST_ID_HEADER];
  return typeof header === 'string' && SAFE_ID.test(header) ? header : randomUUID();
}
