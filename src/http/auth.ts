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

/**
 * An onRequest hook for one scope, so a request without the right token is
 * refused before its body is read or its route schema is checked. Each scope
 * accepts only its own token: the API token never opens admin routes.
 *
 * Without a configured token the scope is served to loopback peers only:
 * anyone on this machine can already run the CLI against the same database.
 */
export function requireToken(scope: TokenScope, token: string | undefined): onRequestAsyncHookHandler {
  if (token === undefined) {
    return async (request) => {
      if (!isLoopbackAddress(request.socket.remoteAddress)) {
        throw unauthorized(`${ENV_NAME[scope]} is not set, so this route only answers loopback clients`);
      }
    };
  }
  const expected = digest(token);
  return async (request) => {
    const presented = bearerOf(request);
    if (presented === undefined || !timingSafeEqual(digest(presented), expected)) {
      throw unauthorized(`a valid bearer token (${ENV_NAME[scope]}) is required`);
    }
  };
}
