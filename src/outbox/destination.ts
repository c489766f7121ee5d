import type { OrgshiftEvent } from './outbox-event.js';

/**
 * Somewhere an event goes: a webhook URL or a library handler. The dispatcher
 * delivers each event to every destination that accepts its type and does
 * not have it yet, and records per event which destinations do, so a retry
 * goes only where the last attempt failed.
 */
export interface Destination {
  /** Stable across restarts and processes; stored in `delivered_to`. Never derived reversibly from a secret. */
  readonly key: string;
  /** For logs and `last_error`: says which destination, never carries a credential. */
  readonly label: string;
  accepts(type: string): boolean;
  /** Resolves once the destination has the event; rejects with a DeliveryFailure otherwise. */
  deliver(attempt: Attempt): Promise<void>;
  /** Frees sockets and timers. */
  close(): void;
}

export interface Attempt {
  readonly event: OrgshiftEvent;
  /** The event as JSON: the same bytes for every destination and every attempt. */
  readonly body: string;
  /** 1 for the first attempt. */
  readonly number: number;
}

/** Why one attempt at one destination failed, in words safe to store and log. */
export class DeliveryFailure extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'DeliveryFailure';
  }
}
