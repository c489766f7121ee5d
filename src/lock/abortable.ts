import { abortReason } from './acquire-options.js';

/**
 * Settles with `work`, or rejects with the signal's reason as soon as it
 * aborts. Work that still succeeds after the caller gave up is handed to
 * `orphaned`, so an acquisition nobody waits for any more is undone.
 */
export function abortable<T>(
  work: Promise<T>,
  signal: AbortSignal | undefined,
  orphaned: (value: T) => void,
): Promise<T> {
  if (signal === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    let gaveUp = false;
    const onAbort = () => {
      gaveUp = true;
      reject(abortReason(signal));
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        if (gaveUp) orphaned(value);
        else resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (!gaveUp) reject(error);
      },
    );
  });
}
