import { abortReason } from './acquire-options.js';
import { LockTimeoutError } from './errors.js';

/** Lets the next local acquirer through; calling it more than once is harmless. */
export type GateExit = () => void;

/**
 * A per-key FIFO turnstile inside one process. The postgres backend lets only
 * one acquirer per key at a time wait at the server: a hot key then costs its
 * holder's connection plus one waiting connection per process, instead of one
 * per waiter, and cannot drain the pool other keys need. The one waiting at the
 * server is next in line when the holder lets go, so a hand-off still needs no
 * extra round trip. An economy, not the lock: exclusion comes from the server.
 */
export class KeyGate {
  /** A key is present while someone is through its gate; the array holds those waiting behind. */
  readonly #queues = new Map<string, Array<() => void>>();

  enter(key: string, deadline: number, signal: AbortSignal | undefined): Promise<GateExit> {
    const queue = this.#queues.get(key);
    if (queue === undefined) {
      this.#queues.set(key, []);
      return Promise.resolve(this.#exitFor(key));
    }
    if (deadline <= Date.now()) return Promise.reject(new LockTimeoutError(key, 0));
    return this.#wait(key, queue, deadline, signal);
  }

  #wait(key: string, queue: Array<() => void>, deadline: number, signal: AbortSignal | undefined): Promise<GateExit> {
    return new Promise<GateExit>((resolve, reject) => {
      const started = Date.now();
      const leave = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const index = queue.indexOf(admit);
        if (index >= 0) queue.splice(index, 1);
      };
      const admit = () => {
        leave();
        resolve(this.#exitFor(key));
      };
      const onAbort = () => {
        leave();
        reject(abortReason(signal!));
      };
      const timer = setTimeout(() => {
        leave();
        reject(new LockTimeoutError(key, Date.now() - started));
      }, deadline - started);
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(admit);
    });
  }

  #exitFor(key: string): GateExit {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const queue = this.#queues.get(key);
      const next = queue?.[0];
      if (next === undefined) this.#queues.delete(key);
      else next();
    };
  }
}
