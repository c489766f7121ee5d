import type { Database } from '../db/database.js';

const listeners = new WeakMap<Database, Set<() => void>>();

/**
 * Tells this process's dispatchers on `db` that a transaction holding events
 * has just committed, so they claim now instead of at their next poll. Call it
 * after the commit, never before: a claim racing the commit would find
 * nothing and wait for the poll. Cheap and safe to call when nobody listens.
 */
export function nudgeOutbox(db: Database): void {
  const set = listeners.get(db);
  if (set === undefined) return;
  for (const listener of set) listener();
}

/** Registers a dispatcher's wake-up; returns the function that unregisters it. */
export function onOutboxNudge(db: Database, listener: () => void): () => void {
  let set = listeners.get(db);
  if (set === undefined) {
    set = new Set();
    listeners.set(db, set);
  }
  set.add(listener);
  return () => set.delete(listener);
}
