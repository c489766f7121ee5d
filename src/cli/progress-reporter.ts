import cliProgress from 'cli-progress';
import type { BackfillProgress } from '../ops/backfill/options.js';

/** Shows backfill progress on stderr; stdout stays free for the --json summary. */
export interface ProgressReporter {
  update(progress: BackfillProgress): void;
  stop(): void;
}

/** A bar with rate and ETA on a terminal, a plain line every `intervalMs` otherwise (logs, CI). */
export function createProgressReporter(
  stream: NodeJS.WriteStream = process.stderr,
  intervalMs = 2_000,
): ProgressReporter {
  return stream.isTTY ? barReporter(stream) : lineReporter(stream, intervalMs);
}

function rate(progress: BackfillProgress): number {
  return progress.seconds > 0 ? progress.done / progress.seconds : 0;
}

function barReporter(stream: NodeJS.WriteStream): ProgressReporter {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format:
        'backfill [{bar}] {percentage}% | {value}/{total} users | {rate}/s | ETA {eta_formatted} | failed {failed}',
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(progress) {
      const payload = { rate: Math.round(rate(progress)), failed: progress.failed };
      if (!started) {
        bar.start(progress.total, 0, payload);
        started = true;
      }
      bar.setTotal(Math.max(progress.total, progress.done));
      bar.update(progress.done, payload);
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}

function lineReporter(stream: NodeJS.WriteStream, intervalMs: number): ProgressReporter {
  let last = 0;
  return {
    update(progress) {
      const now = performance.now();
      if (now - last < intervalMs) return;
      last = now;
      const perSecond = rate(progress);
      const left = Math.max(0, progress.total - progress.done);
      const eta = perSecond > 0 ? `${Math.ceil(left / perSecond)} s` : '?';
      stream.write(
        `backfill: ${progress.done}/${progress.total} users (${progress.migrated} migrated, ${progress.failed} failed), ${Math.round(perSecond)}/s, ETA ${eta}\n`,
      );
    },
    stop: () => undefined,
  };
}
