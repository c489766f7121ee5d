import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * Paths pino replaces with "[redacted]": fields whose names say they hold a
 * secret, wherever a log call puts them. Request headers do not need it: only
 * the allow-listed ones below are logged at all.
 */
export const REDACTED_PATHS: readonly string[] = Object.freeze([
  'res.headers["set-cookie"]',
  '*.authorization',
  '*.password',
  '*.secret',
  '*.token',
  '*.apiToken',
  '*.adminToken',
  '*.apiKey',
  '*.api_key',
  '*.apiKeyEnc',
  '*.api_key_enc',
  '*.legacyKey',
  '*.secretKey',
]);

/**
 * The only request headers written to the log: enough to tell clients and
 * proxies apart, none meant to carry a credential. Anything else (X-Auth-Token,
 * cookies, a 15 KB custom header) never reaches the log, whatever its name.
 */
export const LOGGED_HEADERS: readonly string[] = Object.freeze([
  'host',
  'user-agent',
  'content-type',
  'content-length',
  'accept',
  'x-request-id',
  'x-forwarded-for',
]);

/** Longest header value or URL kept in a log line; the rest is cut and its length noted. */
export const MAX_LOGGED_VALUE = 200;

const REDACTED = '[redacted]';
/** A query parameter name worth keeping: short and plain. Anything else may be a token sent as a name. */
const PLAIN_NAME = /^[A-Za-z0-9_.[\]-]{1,64}$/;

function truncated(value: string, max = MAX_LOGGED_VALUE): string {
  return value.length <= max ? value : `${value.slice(0, max)}…(${value.length} chars)`;
}

/** `/v1/users/x?access_token=abc&flag` → `/v1/users/x?access_token=[redacted]&[redacted]`: names stay, values go. */
export function redactedUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const mark = url.indexOf('?');
  if (mark === -1) return truncated(url);
  const query = url
    .slice(mark + 1)
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=');
      const name = eq === -1 ? '' : part.slice(0, eq);
      return PLAIN_NAME.test(name) ? `${name}=${REDACTED}` : REDACTED;
    })
    .join('&');
  return truncated(`${url.slice(0, mark)}?${query}`, 2 * MAX_LOGGED_VALUE);
}

function loggedHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const logged: Record<string, string> = {};
  for (const name of LOGGED_HEADERS) {
    const value = headers[name];
    if (value !== undefined) logged[name] = truncated(Array.isArray(value) ? value.join(', ') : value);
  }
  // Whether a credential was sent helps explain a 401; what it was must never be written.
  if (headers.authorization !== undefined) logged.authorization = REDACTED;
  return logged;
}

function requestSerializer(request: IncomingMessage) {
  return {
    method: request.method,
    url: redactedUrl(request.url),
    remoteAddress: request.socket?.remoteAddress,
    headers: loggedHeaders(request.headers),
  };
}

export interface LoggerSettings {
  readonly level?: LogLevel;
  /** Where lines go; stdout when omitted. Tests pass a stream to read them. */
  readonly stream?: DestinationStream;
}

export function createLogger(settings: LoggerSettings = {}): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? 'info',
    redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
    serializers: { req: requestSerializer, err: pino.stdSerializers.err },
  };
  return settings.stream ? pino(options, settings.stream) : pino(options);
}
