import { inspect } from 'node:util';

/**
 * One webhook URL from ORGSHIFT_WEBHOOK_URL. The URL may carry credentials
 * (`https://user:pass@…`, a token in the path or query), so it is kept
 * private: everything that prints, logs or stores an endpoint sees only its
 * position in the list and its origin (scheme, host and port).
 */
export class WebhookEndpoint {
  /** 1-based position in ORGSHIFT_WEBHOOK_URL. */
  readonly position: number;
  /** Scheme, host and port: no user, password, path or query. */
  readonly origin: string;
  readonly #url: URL;

  constructor(position: number, url: URL) {
    this.position = position;
    this.origin = url.origin;
    this.#url = new URL(url.href);
  }

  /** `webhook #2 (https://hooks.example.com)`: what logs, errors and `last_error` say. */
  get label(): string {
    return `webhook #${this.position} (${this.origin})`;
  }

  /** The full URL, credentials included: for the request and nothing else. */
  url(): URL {
    return new URL(this.#url.href);
  }

  toJSON(): { readonly position: number; readonly origin: string } {
    return { position: this.position, origin: this.origin };
  }

  [inspect.custom](): string {
    return `WebhookEndpoint { ${this.label} }`;
  }
}

/**
 * Parses ORGSHIFT_WEBHOOK_URL: one URL or several separated by commas.
 * Errors name the entry's position, never its text.
 */
export function parseWebhookUrls(value: string | undefined): readonly WebhookEndpoint[] | string {
  if (value === undefined || value.trim() === '') return [];
  const entries = value.split(',').map((entry) => entry.trim());
  const endpoints: WebhookEndpoint[] = [];
  const seen = new Set<string>();
  for (const [n, entry] of entries.entries()) {
    const position = n + 1;
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      return `entry ${position} is not a URL`;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return `entry ${position} is not an http(s) URL`;
    if (seen.has(url.href)) return `entry ${position} repeats an earlier entry`;
    seen.add(url.href);
    endpoints.push(new WebhookEndpoint(position, url));
  }
  return endpoints;
}
