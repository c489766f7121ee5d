/**
 * Serializes SQLite write transactions of one process per database file.
 *
 * better-sqlite3 is synchronous: a connection that meets a locked database
 * busy-waits, blocking the event loop. If two connections in one process
 * share a file and one holds a transaction across an `await`, the other's
 * busy wait starves it and both fail. Queuing writers per file in-process
 * leaves SQLite's own locking to arbitrate only between processes, where the
 * holder keeps running while the waiter spins.
 */
const tails = new Map<string, Promise<void>>();

export async function inWriteQueue<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const previous = tails.get(file) ?? Promise.resolve();
  let done!: () => void;
  const current = new Promise<void>((resolve) => {
    done = resolve;
  });
  const tail = previous.then(() => current);
  tails.set(file, tail);
  await previous;
  try {
    return await fn();
  } finally {
    done();
    if (tails.get(file) === tail) tails.delete(file);
  }
}
