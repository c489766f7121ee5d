import type { Database } from '../db/database.js';
import { OrgshiftError } from '../errors.js';
import type { Destination } from './destination.js';
import { Dispatcher, type DispatchStats } from './dispatcher.js';
import { type EventHandler, HandlerDestination } from './handler-destination.js';
import { leaseMs, type OutboxConfig } from './outbox-config.js';
import { isOutboxEventType, type OutboxEventType } from './outbox-event.js';
import { onOutboxNudge } from './outbox-nudge.js';
import type { OutboxObserver } from './outbox-observer.js';
import { type OutboxCounts, OutboxStore } from './outbox-store.js';
import { WebhookDestination } from './webhook-destination.js';

export interface OutboxStatus extends OutboxCounts {
  /** Events delivered so far (a full count of the table). */
  readonly delivered: number;
  /** Where this process's dispatcher delivers, by label (position and origin only). */
  readonly destinations: readonly string[];
  /** Whether this process is running a dispatcher right now. */
  readonly dispatching: boolean;
}

export interface RetryOptions {
  /** Redrive dead events (fresh retry window) instead of hurrying pending ones. */
  readonly dead?: boolean;
}

/** `'due'`: until nothing is due now. `'delivered'`: until nothing is pending at all (delivered or dead). */
export type DrainUntil = 'due' | 'delivered';

const NO_STATS: DispatchStats = Object.freeze({ delivered: 0, retried: 0, dead: 0 });

/**
 * The outbox of one open orgshift: its handlers, its dispatcher, and the
 * operator's view (counts, redrive). Events are written by the migration,
 * sign-up and rollback transactions themselves (append-events.ts); this
 * delivers them.
 */
export class Outbox {
  readonly #db: Database;
  readonly #config: OutboxConfig;
  readonly #observer: OutboxObserver;
  readonly #store: OutboxStore;
  readonly #handlers: HandlerDestination[] = [];
  #webhooks: readonly WebhookDestination[] = [];
  #dispatcher: Dispatcher | undefined;
  #unsubscribe: (() => void) | undefined;
  #startScheduled = false;
  #closed = false;
  #stopped: DispatchStats = NO_STATS;

  constructor(db: Database, config: OutboxConfig, observer: OutboxObserver = {}) {
    this.#db = db;
    this.#config = config;
    this.#observer = observer;
    this.#store = new OutboxStore(db);
  }

  /**
   * Whether this process has anywhere to deliver: a webhook or a handler.
   * Without one, changes write no event: nothing would ever deliver it (a
   * process that leaves delivery to another still sets ORGSHIFT_WEBHOOK_URL,
   * with ORGSHIFT_OUTBOX_DISPATCH=off).
   */
  get hasDestinations(): boolean {
    return this.#config.webhooks.length > 0 || this.#handlers.length > 0;
  }

  get running(): boolean {
    return this.#dispatcher?.running ?? false;
  }

  /** What this process's dispatcher has done since it started (or the last one, once stopped). */
  get stats(): DispatchStats {
    return this.#dispatcher?.stats ?? this.#stopped;
  }

  /**
   * Runs `handler` for every event of `type`, at least once, after the
   * change commits. Starts this process's dispatcher after the current tick,
   * so register every handler right after `open()`. Every process that
   * dispatches must register the same handlers in the same order.
   */
  on(type: OutboxEventType, handler: EventHandler): void {
    if (!isOutboxEventType(type)) throw new OrgshiftError('invalid_input', 'unknown event type');
    if (typeof handler !== 'function') throw new OrgshiftError('invalid_input', 'handler must be a function');
    const number = this.#handlers.length + 1;
    this.#handlers.push(new HandlerDestination(number, type, handler, this.#config.timeoutMs));
    if (!this.#startScheduled && this.#dispatcher === undefined) {
      this.#startScheduled = true;
      setImmediate(() => {
        this.#startScheduled = false;
        this.start();
      });
    }
  }

  /** Starts delivering; false when there is nowhere to deliver to (no webhook, no handler) or after close. */
  start(): boolean {
    if (this.#dispatcher !== undefined) return true;
    if (this.#closed) return false;
    if (this.#config.webhooks.length === 0 && this.#handlers.length === 0) return false;
    const secret = this.#config.webhookSecret ?? '';
    this.#webhooks = this.#config.webhooks.map(
      (endpoint) =>
        new WebhookDestination(endpoint, {
          secret,
          timeoutMs: this.#config.timeoutMs,
          maxSockets: this.#config.concurrency,
        }),
    );
    this.#dispatcher = new Dispatcher(this.#store, () => this.#destinations(), this.#settings(), this.#observer);
    this.#unsubscribe = onOutboxNudge(this.#db, () => this.#dispatcher?.nudge());
    this.#dispatcher.start();
    return true;
  }

  /** Claim now instead of at the next poll. */
  nudge(): void {
    this.#dispatcher?.nudge();
  }

  /**
   * Delivers until nothing is due (`'due'`) or nothing is pending
   * (`'delivered'`: waits out retries too; pending events leased by other
   * processes count). Starts the dispatcher if needed; returns at once when
   * there is nowhere to deliver to, or when `signal` aborts.
   */
  async drain(until: DrainUntil, signal?: AbortSignal): Promise<DispatchStats> {
    if (!this.start()) return this.stats;
    const dispatcher = this.#dispatcher;
    if (dispatcher === undefined) return this.stats;
    while (!signal?.aborted && dispatcher.running) {
      await abortable(dispatcher.whenIdle(), signal);
      if (until === 'due' || signal?.aborted) break;
      if ((await this.#store.counts()).pending === 0) break;
      await abortable(sleep(this.#config.pollMs), signal);
    }
    return this.stats;
  }

  /** Pending and dead counts from the partial indexes: cheap enough for probes and scrapes. */
  counts(): Promise<OutboxCounts> {
    return this.#store.counts();
  }

  async status(): Promise<OutboxStatus> {
    const [counts, delivered] = await Promise.all([this.#store.counts(), this.#store.deliveredCount()]);
    return { ...counts, delivered, destinations: this.destinationLabels(), dispatching: this.running };
  }

  /** Labels of the configured webhooks and registered handlers. */
  destinationLabels(): readonly string[] {
    return [...this.#config.webhooks.map((w) => w.label), ...this.#handlers.map((h) => h.label)];
  }

  /**
   * Without `dead`: pending events waiting out a retry delay become due now.
   * With `dead`: dead events become pending again, with a fresh retry window.
   * Returns how many events changed.
   */
  async retry(options: RetryOptions = {}): Promise<number> {
    const changed = options.dead ? await this.#store.retryDead() : await this.#store.retryPending();
    this.nudge();
    return changed;
  }

  /**
   * Stops this process's dispatcher after the deliveries in flight (each
   * bounded by the timeout) and writes their outcomes; `start()` may start a
   * new one. `stats` keeps the stopped dispatcher's figures until then.
   */
  async stop(): Promise<void> {
    const dispatcher = this.#dispatcher;
    if (dispatcher === undefined) return;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    await dispatcher.stop();
    for (const webhook of this.#webhooks) webhook.close();
    this.#webhooks = [];
    this.#stopped = dispatcher.stats;
    if (this.#dispatcher === dispatcher) this.#dispatcher = undefined;
  }

  /** Stops for good (orgshift.close() calls it before closing the database). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.stop();
  }

  #destinations(): readonly Destination[] {
    return [...this.#webhooks, ...this.#handlers];
  }

  #settings() {
    return {
      concurrency: this.#config.concurrency,
      timeoutMs: this.#config.timeoutMs,
      pollMs: this.#config.pollMs,
      leaseMs: leaseMs(this.#config),
      maxAgeMs: this.#config.maxAgeMs,
      retry: { baseMs: this.#config.retryBaseMs, maxMs: this.#config.retryMaxMs },
    };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves when `promise` does or `signal` aborts, whichever is first. */
function abortable(promise: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    void promise.then(done, done);
  });
}
