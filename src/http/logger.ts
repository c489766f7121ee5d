import type { IncomingMessage } from 'node:http';
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * Paths pino replaces with "[redacted]". Headers are logged (user agent and
 * forwarding headers help when debugging), so the credentials in them are
 * removed here, as are fields whose names say they hold a secret.
 */
export const REDACTED_PATHS: readonly string[] = Object.freeze([
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'req.headers["x-api-key"]',
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

function requestSerializer(request: IncomingMessage & { id?: string; ip?: string }) {
  return {
    method: request.method,
    url: request.url,
    remoteAddress: request.socket?.remoteAddress,
    headers: { ...request.headers },
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
