import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { HttpError } from './http-error.js';
import { isLoopbackAddress } from './loopback.js';

export type TokenScope = 'api' | 'admin';

const ENV_NAME: Readonly<Record<TokenScope, string>> = Object.freeze({
  api: 'ORGSHIFT_API_TOKEN',
  admin: 'ORGSHIFT_ADMIN_TOKEN',
});

/** Hashing first gives both sides the same length, so timingSafeEqual never leaks the token's length. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function bearerOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

function unauthorized(message: string): HttpError {
  return new HttpError(401, 'unauthorized', message, { 'www-authenticate': 'Bearer realm="orgshift"' });
}

export interface ScopeTokens {
  readonly apiToken: string | undefined;
  readonly adminToken: string | undefined;
}

/**
 * Headers a reverse proxy adds. A request that carries one came through a
 * proxy, whatever the socket's peer says, so it is never treated as local.
 * (A proxy that adds none of them is indistinguishable from a local client:
 * behind a proxy, configure the tokens.)
 */
const FORWARDING_HEADERS: readonly string[] = Object.freeze(['forwarded', 'x-forwarded-for', 'x-real-ip']);

/** A loopback peer that did not come through a proxy. */
export function isLocalRequest(request: FastifyRequest): boolean {
  if (FORWARDING_HEADERS.some((name) => request.headers[name] !== undefined)) return false;
  return isLoopbackAddress(request.socket.remoteAddress);
}

/**
 * An onRequest hook for one scope, so a request without the right token is
 * refused before its body is read or its route schema is checked. Each scope
 * accepts only its own token: the API token never opens admin routes.
 *
 * Without any token the server is a local tool: both scopes answer local
 * clients only (anyone on this machine can already run the CLI against the
 * same database). Once an API token is set the server is meant to be reached
 * from elsewhere, so the admin routes need their own token and are disabled
 * (403 admin_disabled) without it, rather than left to a loopback check that
 * a proxy on the same host would pass.
 */
export function requireToken(scope: TokenScope, tokens: ScopeTokens): onRequestAsyncHookHandler {
  const token = scope === 'api' ? tokens.apiToken : tokens.adminToken;
  if (token !== undefined) return requireBearer(scope, token);
  if (scope === 'admin' && tokens.apiToken !== undefined) {
    return async () => {
      throw new HttpError(
        403,
        'admin_disabled',
        'admin routes are disabled: ORGSHIFT_API_TOKEN is set and ORGSHIFT_ADMIN_TOKEN is not',
      );
    };
  }
  return async (request) => {
    if (!isLocalRequest(request)) {
      throw unauthorized(`${ENV_NAME[scope]} is not set, so this route only answers local clients (no proxy)`);
    }
  };
}

function requireBearer(scope: TokenScope, token: string): onRequestAsyncHookHandler {
  const expected = digest(token);
  return async (request) => {
    const presented = bearerOf(request);
    if (presented === undefined || !timingSafeEqual(digest(presented), expected)) {
      throw unauthorized(`a valid bearer token (${ENV_NAME[scope]}) is required`);
    }
  };
}
