/**
 * A repeat of a stop signal this soon after the first is the same request
 * delivered twice, not an impatient operator: Ctrl-C signals the terminal's
 * whole process group, so under `npm start` or `npm run` the process gets
 * SIGINT from the terminal and again from npm, which forwards what it got.
 */
export const REPEAT_WINDOW_MS = 1_000;

export interface StopHandlers {
  /** The first SIGTERM or SIGINT: stop gracefully. */
  readonly first: (signal: NodeJS.Signals) => void;
  /** Another one, later than REPEAT_WINDOW_MS after the first: stop now. */
  readonly again: (signal: NodeJS.Signals) => void;
}

/** Listens for SIGTERM and SIGINT; returns the function that stops listening. */
export function onStopSignals(handlers: StopHandlers): () => void {
  let firstAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    const now = performance.now();
    if (firstAt === undefined) {
      firstAt = now;
      handlers.first(signal);
    } else if (now - firstAt > REPEAT_WINDOW_MS) {
      handlers.again(signal);
    }
  };
  process.on('SIGTERM', onSignal).on('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal).off('SIGINT', onSignal);
  };
}
