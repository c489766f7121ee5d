import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { deadline } from './deadline.js';
import { type Attempt, DeliveryFailure, type Destination } from './destination.js';
import type { WebhookEndpoint } from './webhook-endpoint.js';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, signWebhook } from './webhook-signature.js';

export interface WebhookOptions {
  readonly secret: string;
  readonly timeoutMs: number;
  /** Sockets kept per destination: the dispatcher's concurrency. */
  readonly maxSockets: number;
}

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
  readonly #endpoint: WebhookEndpoint;
  readonly #options: WebhookOptions;
  readonly #agent: http.Agent;

  constructor(endpoint: WebhookEndpoint, options: WebhookOptions) {
    this.#endpoint = endpoint;
    this.#options = options;
    this.label = endpoint.label;
    // Keyed by a MAC of the URL under the webhook secret: stable across processes and
    // restarts, and useless for guessing a password in the URL without the secret.
    const mac = createHmac('sha256', options.secret).update(endpoint.url().href).digest('hex');
    this.key = `webhook:${mac.slice(0, 20)}`;
    const Agent = endpoint.url().protocol === 'https:' ? https.Agent : http.Agent;
    this.#agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets });
  }

  accepts(): boolean {
    return true;
  }

  async deliver({ event, body }: Attempt): Promise<void> {
    const timeout = deadline(this.#options.timeoutMs);
    let status: number;
    try {
      status = await this.#post(event.id, body, timeout.signal);
    } catch (error) {
      if (timeout.signal.aborted) throw new DeliveryFailure(`no answer within ${this.#options.timeoutMs} ms`);
      throw new DeliveryFailure(describeNetworkError(error));
    } finally {
      timeout.clear();
    }
    if (status < 200 || status > 299) throw new DeliveryFailure(`HTTP ${status}`);
  }

  close(): void {
    this.#agent.destroy();
  }

  #post(eventId: string, body: string, signal: AbortSignal): Promise<number> {
    const url = this.#endpoint.url();
    const transport = url.protocol === 'https:' ? https : http;
    const headers = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'user-agent': 'orgshift-webhook/1',
      [EVENT_ID_HEADER]: eventId,
      [SIGNATURE_HEADER]: signWebhook(body, this.#options.secret),
    };
    return new Promise((resolve, reject) => {
      const request = transport.request(url, { method: 'POST', headers, agent: this.#agent, signal }, (response) => {
        // The answer's body is read and dropped: only the status counts, and it may hold anything.
        response.resume();
        response.once('end', () => resolve(response.statusCode ?? 0));
        response.once('error', reject);
      });
      request.once('error', reject);
      request.end(body);
    });
  }
}

function describeNetworkError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return 'network error';
  if (code.startsWith('ERR_TLS') || code.includes('CERT') || code.startsWith('ERR_SSL')) return `TLS error (${code})`;
  return NETWORK_ERRORS[code] ?? `network error (${code})`;
}
