import { Redis, type RedisOptions } from 'ioredis';
import { messageOf } from './error-message.js';
import { LockUnavailableError } from './errors.js';

/**
 * ioredis settings for a lock client that fails fast instead of hanging:
 * every command has a deadline, nothing is queued while disconnected (a queued
 * SET could run long after its caller gave up), and in-flight commands fail at
 * once when the connection drops instead of being replayed. Reconnection keeps
 * trying in the background, so the lock heals when Redis comes back.
 */
export function lockClientOptions(commandTimeoutMs: number): RedisOptions {
  return {
    commandTimeout: commandTimeoutMs,
    connectTimeout: commandTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
    lazyConnect: true,
  };
}

/** A Redis client plus what the lock needs to know about its health. */
export class RedisConnection {
  readonly client: Redis;
  #lastError: Error | undefined;
  #ready: Promise<void> | undefined;

  constructor(
    url: string,
    private readonly commandTimeoutMs: number,
    onBackgroundError: (error: unknown) => void,
  ) {
    this.client = new Redis(url, lockClientOptions(commandTimeoutMs));
    // ioredis emits 'error' for every failed (re)connect; without a listener it logs noise on stderr.
    this.client.on('error', (error: Error) => {
      this.#lastError = error;
      onBackgroundError(error);
    });
    this.client.on('ready', () => {
      this.#lastError = undefined;
    });
  }

  /** Resolves once connected; throws `LockUnavailableError` after the command timeout. */
  ready(): Promise<void> {
    const { client } = this;
    if (client.status === 'ready') return Promise.resolve();
    if (client.status === 'end') return Promise.reject(new LockUnavailableError('redis lock client is closed'));
    if (client.status === 'wait') client.connect().catch(() => undefined);
    // Concurrent callers share one wait: one pair of listeners, however many acquirers queue up.
    this.#ready ??= this.#awaitReady().finally(() => {
      this.#ready = undefined;
    });
    return this.#ready;
  }

  #awaitReady(): Promise<void> {
    const { client } = this;
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        client.off('ready', onReady);
        client.off('end', onEnd);
      };
      const onReady = () => {
        done();
        resolve();
      };
      const onEnd = () => {
        done();
        reject(new LockUnavailableError('redis lock client is closed'));
      };
      const timer = setTimeout(() => {
        done();
        reject(this.unavailable(new Error(`not connected within ${this.commandTimeoutMs} ms`)));
      }, this.commandTimeoutMs);
      client.on('ready', onReady);
      client.on('end', onEnd);
    });
  }

  unavailable(error: unknown): LockUnavailableError {
    const last = this.#lastError === undefined ? '' : ` (last connection error: ${this.#lastError.message})`;
    return new LockUnavailableError(`redis lock backend unavailable: ${messageOf(error)}${last}`, { cause: error });
  }

  async close(): Promise<void> {
    if (this.client.status === 'end') return;
    // QUIT lets in-flight commands finish; on a dead or paused server it fails within the command timeout.
    await this.client.quit().catch(() => undefined);
    this.client.disconnect();
  }
}
