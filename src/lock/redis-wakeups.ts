import type { RedisConnection } from './redis-connection.js';

/**
 * Release notifications for waiters in this process. One subscriber connection
 * per manager; one channel per lock key, subscribed only while someone here
 * waits for that key, so a process hears about the keys it cares about and no
 * others. A lost message only costs latency: waiters also poll.
 */
export class RedisWakeups {
  readonly #channels = new Map<string, Set<Waker>>();
  /** Per channel, the tail of its SUBSCRIBE/UNSUBSCRIBE chain: issuing them in call order keeps the last one in force. */
  readonly #tails = new Map<string, Promise<void>>();
  #subscriber: RedisConnection | undefined;
  #closed = false;

  constructor(
    private readonly openSubscriber: () => RedisConnection,
    private readonly onBackgroundError: (error: unknown) => void,
  ) {}

  /** Starts listening on `channel`; resolves once subscribed (or once subscribing failed: polling still works). */
  async watch(channel: string): Promise<Waker> {
    const waker = new Waker(() => this.#leave(channel, waker));
    let wakers = this.#channels.get(channel);
    if (wakers === undefined) {
      wakers = new Set();
      this.#channels.set(channel, wakers);
      this.#enqueue(channel, async (connection) => {
        await connection.ready();
        await connection.client.subscribe(channel);
      });
    }
    wakers.add(waker);
    await this.#tails.get(channel);
    return waker;
  }

  /** Wakes this process's waiters for `channel`, as a published release would. */
  ring(channel: string): void {
    for (const waker of this.#channels.get(channel) ?? []) waker.wake();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#channels.clear();
    await this.#subscriber?.close();
  }

  #leave(channel: string, waker: Waker): void {
    const wakers = this.#channels.get(channel);
    if (wakers === undefined || !wakers.delete(waker) || wakers.size > 0) return;
    this.#channels.delete(channel);
    this.#enqueue(channel, async (connection) => {
      if (connection.client.status === 'ready') await connection.client.unsubscribe(channel);
    });
  }

  #enqueue(channel: string, step: (connection: RedisConnection) => Promise<void>): void {
    const previous = this.#tails.get(channel) ?? Promise.resolve();
    const tail = previous
      .then(() => step(this.#connection()))
      .catch(this.onBackgroundError)
      .finally(() => {
        if (this.#tails.get(channel) === tail) this.#tails.delete(channel);
      });
    this.#tails.set(channel, tail);
  }

  #connection(): RedisConnection {
    if (this.#closed) throw new Error('redis wake-ups closed');
    if (this.#subscriber === undefined) {
      const subscriber = this.openSubscriber();
      subscriber.client.on('message', (channel: string) => this.ring(channel));
      this.#subscriber = subscriber;
    }
    return this.#subscriber;
  }
}

/** One waiter's doorbell: `wake` rings it, `next` waits for a ring, a timeout or an abort. */
export class Waker {
  #rung = false;
  #resolve: (() => void) | undefined;

  constructor(readonly stop: () => void) {}

  wake(): void {
    if (this.#resolve === undefined) this.#rung = true;
    else this.#resolve();
  }

  /** Resolves on a ring (also one that came while the waiter was busy trying) or after `ms`. */
  next(ms: number, signal: AbortSignal): Promise<void> {
    if (this.#rung) {
      this.#rung = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.#resolve = undefined;
      };
      const onAbort = () => {
        finish();
        reject(signal.reason);
      };
      const timer = setTimeout(() => {
        finish();
        resolve();
      }, ms);
      this.#resolve = () => {
        finish();
        resolve();
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
