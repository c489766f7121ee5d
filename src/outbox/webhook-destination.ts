import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { urlToHttpOptions } from 'node:url';
import { type Attempt, DeliveryFailure, type Destination } from './destination.js';
import type { WebhookEndpoint } from './webhook-endpoint.js';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, signWebhook } from './webhook-signature.js';

export interface WebhookOptions {
  readonly secret: string;
  readonly timeoutMs: number;
  /** Sockets kept per destination: the dispatcher's concurrency. */
  readonly maxSockets: number;
}

const IDLE_SOCKET_MS = 4_000;

/** Network errors worth naming; anything else is reported by its code alone. */
const NETWORK_ERRORS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed while sending',
  ETIMEDOUT: 'connect timed out',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

/**
 * POSTs each event as JSON, signed, over a keep-alive connection pool.
 * A 2xx answer is delivery; redirects are not followed (a moved receiver is a
 * configuration change). Credentials in the URL become Basic authentication,
 * as Node does for any URL with a user. Failures are described by status or
 * error code, never with the URL or the receiver's answer.
 */
export class WebhookDestination implements Destination {
  readonly key: string;
  readonly label: string;
  readonly #options: WebhookOptions;
  readonly #transport: typeof http | typeof https;
  /** The request's target, parsed once: thousands of requests a second share it. */
  readonly #target: http.RequestOptions;

  constructor(endpoint: WebhookEndpoint, options: WebhookOptions) {
    this.#options = options;
    this.label = endpoint.label;
    const url = endpoint.url();
    // Keyed by a MAC of the URL under the webhook secret: stable across processes and
    // restarts, and useless for guessing a password in the URL without the secret.
    const mac = createHmac('sha256', options.secret).update(url.href).digest('hex');
    this.key = `webhook:${mac.slice(0, 20)}`;
    const secure = url.protocol === 'https:';
    this.#transport = secure ? https : http;
    // Idle connections are dropped after 4 s, before a receiver's own keep-alive timeout (5 s in Node,
    // similar elsewhere) can close one under a request that was about to use it.
    const agent = new (secure ? https.Agent : http.Agent)({
      keepAlive: true,
      maxSockets: options.maxSockets,
      timeout: IDLE_SOCKET_MS,
    });
    this.#target = Object.freeze({ ...urlToHttpOptions(url), method: 'POST', agent });
  }

  accepts(): boolean {
    return true;
  }

  async deliver({ event, body }: Attempt): Promise<void> {
    const status = await this.#post(event.id, body).catch((error: unknown) => {
      throw new DeliveryFailure(
        error instanceof TimedOut ? `no answer within ${this.#options.timeoutMs} ms` : describeNetworkError(error),
      );
    });
    if (status < 200 || status > 299) throw new DeliveryFailure(`HTTP ${status}`);
  }

  close(): void {
    (this.#target.agent as http.Agent).destroy();
  }

  /** Resolves with the status once the whole answer is in; the timeout covers connecting, sending and reading. */
  #post(eventId: string, body: string): Promise<number> {
    const headers = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'user-agent': 'orgshift-webhook/1',
      [EVENT_ID_HEADER]: eventId,
      [SIGNATURE_HEADER]: signWebhook(body, this.#options.secret),
    };
    return new Promise((resolve, reject) => {
      const request = this.#transport.request({ ...this.#target, headers }, (response) => {
        // The answer's body is read and dropped: only the status counts, and it may hold anything.
        response.resume();
        response.once('end', () => {
          clearTimeout(timer);
          resolve(response.statusCode ?? 0);
        });
        response.once('error', fail);
      });
      const timer = setTimeout(() => request.destroy(new TimedOut()), this.#options.timeoutMs);
      function fail(error: unknown) {
        clearTimeout(timer);
        reject(error);
      }
      request.once('error', fail);
      request.end(body);
    });
  }
}

class TimedOut extends Error {}

function describeNetworkError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return 'network error';
  if (code.startsWith('ERR_TLS') || code.includes('CERT') || code.startsWith('ERR_SSL')) return `TLS error (${code})`;
  return NETWORK_ERRORS[code] ?? `network error (${code})`;
}
