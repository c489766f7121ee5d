import type { ClaimedEvent } from './claimed-event.js';
import { DeliveryFailure, type Destination } from './destination.js';
import type { OutboxObserver } from './outbox-observer.js';
import type { OutboxStore } from './outbox-store.js';
import { type RetryPolicy, retryDelayMs } from './retry-policy.js';
import { SettleBuffer } from './settle-buffer.js';

export interface DispatcherSettings {
  /** Events being delivered at once by this process. */
  readonly concurrency: number;
  /** Longest one attempt can take (all destinations are tried side by side). */
  readonly timeoutMs: number;
  readonly pollMs: number;
  readonly leaseMs: number;
  readonly maxAgeMs: number;
  readonly retry: RetryPolicy;
}

export interface DispatchStats {
  /** Events that reached every destination. */
  readonly delivered: number;
  /** Failed attempts that will be retried. */
  readonly retried: number;
  /** Events that died (failed past the maximum age). */
  readonly dead: number;
}

/** Largest claim: bounds one statement's work and one lease's size. */
const MAX_CLAIM = 500;
const DATABASE_RETRY_MS = 1_000;

/**
 * Delivers the outbox: claim, deliver outside any transaction, settle.
 *
 * A claim leases a batch of due events (the first pending event of each user
 * only, so a user's events go out in order) in one statement. Each event is
 * then delivered to every destination that does not have it yet, with no
 * transaction and no lock held, and its outcome is written in bulk by the
 * settle buffer. A process that dies between claim and settle leaves its
 * leases to expire; the events are then claimed again, by any process, under
 * the same ids.
 *
 * Up to `concurrency` events are delivered at once; more wait, claimed, in
 * a local queue, so the next claim overlaps the deliveries instead of
 * following them, and a claim (one statement, the dearest part of the
 * pipeline) takes hundreds of events at a time when receivers answer fast.
 * The queue is sized from the recent delivery time so that a queued event
 * is still delivered within half its lease: `concurrency` events when
 * attempts take the whole timeout, up to MAX_CLAIM when they take
 * milliseconds. (If receivers slow down suddenly, a queued event can outlive
 * its lease; another process may then deliver it too: a duplicate, which at
 * least once allows.) It claims again when the queue runs low while there
 * is a backlog, on a nudge after a local commit, after outcomes are written
 * (a user's next event may now be due), and every `pollMs` otherwise.
 */
export class Dispatcher {
  readonly #store: OutboxStore;
  readonly #destinations: () => readonly Destination[];
  readonly #settings: DispatcherSettings;
  readonly #observer: OutboxObserver;
  readonly #settle: SettleBuffer;
  readonly #inFlight = new Set<Promise<void>>();
  /** Claimed, waiting for a delivery slot. */
  readonly #queue: ClaimedEvent[] = [];
  /** Moving average of one event's delivery time; starts pessimistic (the whole timeout). */
  #deliveryMs: number;
  #queueDrained: (() => void) | undefined;
  #delivered = 0;
  #loop: Promise<void> | undefined;
  #stopping = false;
  /** The last claim filled every slot it asked for: more is due, claim again as slots free up. */
  #backlog = false;
  #wakeFlag = false;
  #wake: (() => void) | undefined;
  #idleWaiters: (() => void)[] = [];

  constructor(
    store: OutboxStore,
    destinations: () => readonly Destination[],
    settings: DispatcherSettings,
    observer: OutboxObserver = {},
  ) {
    this.#store = store;
    this.#destinations = destinations;
    this.#settings = settings;
    this.#deliveryMs = settings.timeoutMs;
    this.#observer = observer;
    this.#settle = new SettleBuffer(store, settings.maxAgeMs, observer, () => this.nudge());
  }

  get running(): boolean {
    return this.#loop !== undefined && !this.#stopping;
  }

  get stats(): DispatchStats {
    return { delivered: this.#delivered, ...this.#settle.counts };
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Claim now rather than at the next poll (a local commit wrote events). */
  nudge(): void {
    this.#wakeFlag = true;
    this.#wake?.();
  }

  /**
   * Resolves the next time nothing is due: a claim came back empty, no
   * delivery is in flight and every outcome is written. Events waiting for
   * a retry, or leased by another process, may still be pending.
   */
  whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      this.#idleWaiters.push(resolve);
      this.nudge();
    });
  }

  /**
   * Stops claiming, lets the deliveries in flight finish (each is bounded by
   * the delivery timeout) and writes their outcomes. Idempotent.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#loop;
    // Queued events are leased to this process: deliver them rather than make others wait out the lease.
    while (this.#queue.length > 0 || this.#inFlight.size > 0) {
      await new Promise<void>((resolve) => {
        this.#queueDrained = resolve;
      });
    }
    await this.#settle.flush().catch(() => undefined);
    this.#settle.dispose();
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  async #run(): Promise<void> {
    const { concurrency } = this.#settings;
    while (!this.#stopping) {
      const queueLimit = this.#queueLimit();
      const room = Math.min(concurrency + queueLimit - this.#inFlight.size - this.#queue.length, MAX_CLAIM);
      if (room > 0 && this.#queue.length * 2 < queueLimit) {
        this.#wakeFlag = false;
        const claimed = await this.#claim(room);
        if (claimed === undefined) {
          await this.#sleep(DATABASE_RETRY_MS);
          continue;
        }
        this.#queue.push(...claimed);
        this.#pump();
        this.#backlog = claimed.length === room;
        if (claimed.length > 0 && this.#backlog) continue;
        if (claimed.length === 0 && this.#inFlight.size === 0 && this.#queue.length === 0) {
          if (!this.#settle.empty) {
            await this.#settle.flush();
            continue;
          }
          for (const resolve of this.#idleWaiters.splice(0)) resolve();
        }
      }
      await this.#sleep(this.#settings.pollMs);
    }
  }

  async #claim(limit: number): Promise<ClaimedEvent[] | undefined> {
    try {
      return await this.#store.claim(limit, this.#settings.leaseMs);
    } catch (error) {
      this.#observer.databaseError?.(error);
      return undefined;
    }
  }

  /** How many claimed events may wait: as many as are delivered within half a lease at the recent pace. */
  #queueLimit(): number {
    const { concurrency, leaseMs } = this.#settings;
    const fits = Math.floor((concurrency * leaseMs) / 2 / Math.max(this.#deliveryMs, 1));
    return Math.max(concurrency, Math.min(fits, MAX_CLAIM));
  }

  /** Starts queued deliveries while slots are free. */
  #pump(): void {
    while (this.#inFlight.size < this.#settings.concurrency) {
      const next = this.#queue.shift();
      if (next === undefined) break;
      const started = performance.now();
      const delivery = this.#deliver(next);
      this.#inFlight.add(delivery);
      void delivery.finally(() => {
        this.#inFlight.delete(delivery);
        this.#deliveryMs += (performance.now() - started - this.#deliveryMs) / 10;
        this.#pump();
        if (this.#backlog && this.#queue.length * 2 < this.#queueLimit()) this.#wake?.();
        if (this.#queue.length === 0 && this.#inFlight.size === 0) this.#queueDrained?.();
      });
    }
  }

  /** Every destination that accepts the event and lacks it, side by side; then one outcome for the event. */
  async #deliver(claimed: ClaimedEvent): Promise<void> {
    const { event } = claimed;
    const destinations = this.#destinations().filter(
      (d) => d.accepts(event.type) && !claimed.deliveredTo.includes(d.key),
    );
    const body = JSON.stringify(event);
    const attempt = { event, body, number: claimed.attempt };
    const results = await Promise.allSettled(destinations.map((d) => d.deliver(attempt)));
    const have = [...claimed.deliveredTo];
    const failures: string[] = [];
    for (const [n, result] of results.entries()) {
      const destination = destinations[n] as Destination;
      if (result.status === 'fulfilled') have.push(destination.key);
      else failures.push(`${destination.label}: ${reasonOf(result.reason)}`);
    }
    if (failures.length === 0) {
      this.#delivered++;
      this.#observer.delivered?.((Date.now() - claimed.occurredAt.getTime()) / 1000);
      this.#settle.delivered(event.id);
      return;
    }
    this.#settle.failed({
      id: event.id,
      token: claimed.token,
      delayMs: retryDelayMs(this.#settings.retry, claimed.attempt),
      deliveredTo: have,
      error: failures.join('; '),
    });
  }

  /** Until woken (nudge, freed slot, settled outcomes, stop) or `ms` pass. */
  async #sleep(ms: number): Promise<void> {
    if (this.#wakeFlag || this.#stopping) {
      this.#wakeFlag = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
    this.#wake = undefined;
    this.#wakeFlag = false;
  }
}

/** A destination's own words for a failure; anything else (a bug) by its class only. */
function reasonOf(error: unknown): string {
  if (error instanceof DeliveryFailure) return error.reason;
  return error instanceof Error ? `unexpected ${error.name}` : 'unexpected failure';
}
