import { deadline } from './deadline.js';
import { type Attempt, DeliveryFailure, type Destination } from './destination.js';
import type { OrgshiftEvent, OutboxEventType } from './outbox-event.js';

export interface HandlerContext {
  /** Aborts when the attempt times out; pass it on to whatever the handler awaits. */
  readonly signal: AbortSignal;
  /** 1 for the first attempt. */
  readonly attempt: number;
}

/** A library handler: resolve when the side effect is done, throw to have the event retried. */
export type EventHandler = (event: OrgshiftEvent, context: HandlerContext) => Promise<void> | void;

/**
 * A handler registered with `orgshift.on(type, handler)`. Its key is its
 * registration number, so a process that registers the same handlers in the
 * same order recognizes which of them already have an event.
 */
export class HandlerDestination implements Destination {
  readonly key: string;
  readonly label: string;
  readonly #type: OutboxEventType;
  readonly #handler: EventHandler;
  readonly #timeoutMs: number;

  constructor(number: number, type: OutboxEventType, handler: EventHandler, timeoutMs: number) {
    this.key = `handler:${number}`;
    this.label = `handler #${number} (${type})`;
    this.#type = type;
    this.#handler = handler;
    this.#timeoutMs = timeoutMs;
  }

  accepts(type: string): boolean {
    return type === this.#type;
  }

  async deliver({ event, number }: Attempt): Promise<void> {
    const timeout = deadline(this.#timeoutMs);
    const { signal } = timeout;
    try {
      await Promise.race([
        Promise.resolve().then(() => this.#handler(event, { signal, attempt: number })),
        new Promise<never>((_, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
        ),
      ]);
    } catch (error) {
      if (signal.aborted) throw new DeliveryFailure(`did not finish within ${this.#timeoutMs} ms`);
      throw new DeliveryFailure(`threw ${describeThrown(error)}`);
    } finally {
      timeout.clear();
    }
  }

  close(): void {}
}

/**
 * The error's class and code only: a handler's message may quote a URL, a
 * token or a customer's data, and what is written here lands in the database.
 * Handlers log their own details.
 */
function describeThrown(error: unknown): string {
  if (!(error instanceof Error)) return typeof error;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^[\w.-]{1,40}$/.test(code) ? `${error.name} (${code})` : error.name;
}
