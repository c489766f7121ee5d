import type { ErrorCode } from '../errors.js';

/**
 * Codes only the HTTP layer produces. Together with the library's `ErrorCode`s
 * they are every `error.code` a client can see; both lists are part of the
 * contract (docs/design.md#interfaces).
 */
export type HttpOnlyErrorCode =
  | 'unauthorized'
  | 'admin_disabled'
  | 'not_found'
  | 'method_not_allowed'
  | 'invalid_request'
  | 'invalid_json'
  | 'body_too_large'
  | 'unsupported_media_type'
  | 'not_ready'
  | 'shutting_down'
  | 'internal_error';

export type HttpErrorCode = ErrorCode | HttpOnlyErrorCode;

/** An error the HTTP layer answers itself; its message is written for clients. */
export class HttpError extends Error {
  readonly code: HttpErrorCode;
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(statusCode: number, code: HttpErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
    this.statusCode = statusCode;
    this.code = code;
    this.headers = Object.freeze({ ...headers });
  }
}
