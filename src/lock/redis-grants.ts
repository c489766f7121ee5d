import type { RedisConnection } from './redis-connection.js';
import type { Grant } from './redis-scripts.js';

/**
 * How long a channel stays subscribed after the last waiter here left it, so
 * waiting again on a busy key does not cost a SUBSCRIBE round trip, and the
 * UNSUBSCRIBE never sits between a grant and the waiter it wakes.
 */
const LINGER_MS = 1_000;

interface ChannelState {
  /** Waiters of this process listening on the channel. */
  waiters: number;
  linger: NodeJS.Timeout | undefined;
  /** The SUBSCRIBE failed (Redis was away): the next waiter asks again. */
  failed: boolean;
}

/**
 * Grants for the waiters of this process: a release that hands the lock to
 * one of them publishes `<token> <fence>` on the key's channel for this
 * manager, and this routes it to that waiter by token. A channel is subscribed
 * while someone here waits on its key (and a little longer), so Redis only
 * tells a process about the keys it waits for, and only the waiter granted
 * wakes up. A lost message costs latency, never the lock: the waiter's
 * fallback poll finds the lock already granted to its token.
 */
export class RedisGrants {
  readonly #waiting = new Map<string, Waker>();
  readonly #channels = new Map<string, ChannelState>();
  /** Per channel, the tail of its SUBSCRIBE/UNSUBSCRIBE chain: issuing them in call order keeps the last one in force. */
  readonly #tails = new Map<string, Promise<void>>();
  #subscriber: RedisConnection | undefined;
  #closed = false;

  constructor(
    private readonly openSubscriber: () => RedisConnection,
    private readonly onBackgroundError: (error: unknown) => void,
  ) {}

  /** Listens for a grant to `token`; resolves once subscribed (or once subscribing failed: polling still works). */
  async watch(channel: string, token: string): Promise<Waker> {
    const waker = new Waker(() => this.#leave(channel, token, waker));
    this.#waiting.set(token, waker);
    let state = this.#channels.get(channel);
    if (state === undefined) {
      state = { waiters: 0, linger: undefined, failed: false };
      this.#channels.set(channel, state);
      this.#subscribe(channel, state);
    } else if (state.failed) {
      this.#subscribe(channel, state);
    }
    clearTimeout(state.linger);
    state.linger = undefined;
    state.waiters += 1;
    await this.#tails.get(channel);
    return waker;
  }

  /** Whether grants on `channel` already reach this process (another waiter here, or a lingering subscription). */
  listening(channel: string): boolean {
    const state = this.#channels.get(channel);
    return state !== undefined && !state.failed && !this.#tails.has(channel);
  }

  /** Wakes the waiter of this process that `grant` names; a grant for anyone else is not ours to act on. */
  deliver(grant: Grant): void {
    this.#waiting.get(grant.token)?.wake(grant);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const state of this.#channels.values()) clearTimeout(state.linger);
    this.#channels.clear();
    this.#waiting.clear();
    await this.#subscriber?.close();
  }

  #subscribe(channel: string, state: ChannelState): void {
    state.failed = false;
    this.#enqueue(channel, async (connection) => {
      try {
        await connection.ready();
        await connection.client.subscribe(channel);
      } catch (error) {
        state.failed = true;
        throw error;
      }
    });
  }

  #leave(channel: string, token: string, waker: Waker): void {
    if (this.#waiting.get(token) !== waker) return;
    this.#waiting.delete(token);
    const state = this.#channels.get(channel);
    if (state === undefined) return;
    state.waiters -= 1;
    if (state.waiters > 0) return;
    state.linger = setTimeout(() => {
      if (this.#channels.get(channel) !== state) return;
      this.#channels.delete(channel);
      this.#enqueue(channel, async (connection) => {
        if (connection.client.status === 'ready') await connection.client.unsubscribe(channel);
      });
    }, LINGER_MS);
    state.linger.unref();
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
    if (this.#closed) throw new Error('redis grants closed');
    if (this.#subscriber === undefined) {
      const subscriber = this.openSubscriber();
      subscriber.client.on('message', (_channel: string, message: string) => {
        const grant = parseGrant(message);
        if (grant !== undefined) this.deliver(grant);
      });
      this.#subscriber = subscriber;
    }
    return this.#subscriber;
  }
}

/** A grant as published: `<token> <fence>`; undefined for anything else. */
function parseGrant(message: string): Grant | undefined {
  const match = /^([0-9a-f]+) ([0-9]+)$/.exec(message);
  return match === null ? undefined : { token: match[1]!, fence: BigInt(match[2]!) };
}

/** One waiter's doorbell: `wake` hands it its grant, `next` waits for one, a timeout or an abort. */
export class Waker {
  #grant: Grant | undefined;
  #resolve: ((grant: Grant) => void) | undefined;

  constructor(readonly stop: () => void) {}

  wake(grant: Grant): void {
    this.#grant = grant;
    this.#resolve?.(grant);
  }

  /** The grant (also one that came while the waiter was busy trying), or undefined after `ms`. */
  next(ms: number, signal: AbortSignal): Promise<Grant | undefined> {
    if (this.#grant !== undefined) return Promise.resolve(this.#grant);
    return new Promise<Grant | undefined>((resolve, reject) => {
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
        resolve(undefined);
      }, ms);
      this.#resolve = (grant) => {
        finish();
        resolve(grant);
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
