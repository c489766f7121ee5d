import { setTimeout as sleep } from 'node:timers/promises';
import type { ProgressTotals } from '../ops/progress/progress-report.js';

/** One refresh of `orgshift status --watch`. */
export interface WatchSample {
  readonly at: Date;
  readonly totals: ProgressTotals;
  readonly ratePerMinute: number;
  readonly etaSeconds: number | null;
  readonly lock: { readonly kind: string; readonly healthy: boolean };
}

export interface WatchRenderer {
  show(sample: WatchSample): void;
  /** A refresh that failed (database down, say); the watch goes on. */
  problem(message: string): void;
}

/**
 * Samples and renders every `intervalMs` until `signal` aborts. A failed
 * sample is shown and the watch goes on: watching a migration through a
 * database restart is when it is wanted most.
 */
export async function watchStatus(
  sample: () => Promise<WatchSample>,
  renderer: WatchRenderer,
  intervalMs: number,
  signal: AbortSignal,
): Promise<void> {
  while (!signal.aborted) {
    try {
      renderer.show(await sample());
    } catch (error) {
      if (signal.aborted) break;
      renderer.problem(messageOf(error));
    }
    await sleep(intervalMs, undefined, { signal }).catch(() => undefined);
  }
}

function messageOf(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' ? `${code}: ${message}` : message;
}

const numbers = new Intl.NumberFormat('en-US');

export function formatDuration(seconds: number | null): string {
  if (seconds === null) return 'no progress';
  if (seconds === 0) return 'done';
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours} h ${minutes % 60} min` : `${Math.round(hours / 24)} days`;
}

/** One line per refresh, for logs and pipes. */
export function lineRenderer(stream: NodeJS.WritableStream): WatchRenderer {
  return {
    show(s) {
      const t = s.totals;
      stream.write(
        `${s.at.toISOString()} migrated ${t.migrated}/${t.legacyTotal} (${t.percentMigrated.toFixed(1)}%) ` +
          `pending ${t.pending} failed ${t.failed} rate ${Math.round(s.ratePerMinute)}/min ` +
          `eta ${formatDuration(s.etaSeconds)} lock ${s.lock.kind} ${s.lock.healthy ? 'healthy' : 'UNREACHABLE'}\n`,
      );
    },
    problem(message) {
      stream.write(`${new Date().toISOString()} error ${message}\n`);
    },
  };
}

const BAR_WIDTH = 30;

/** A block of lines redrawn in place on a terminal. */
export function terminalRenderer(stream: NodeJS.WritableStream, intervalSeconds: number): WatchRenderer {
  let drawn = 0;
  let last: readonly string[] = [];
  const draw = (lines: readonly string[]) => {
    // Back to the block's first line, then overwrite each line, clearing what was longer.
    const up = drawn > 0 ? `\x1b[${drawn}F` : '';
    stream.write(`${up}${lines.map((line) => `\x1b[2K${line}\n`).join('')}`);
    drawn = lines.length;
  };
  return {
    show(s) {
      const t = s.totals;
      const filled = Math.round((Math.min(100, t.percentMigrated) / 100) * BAR_WIDTH);
      last = [
        `orgshift status, every ${intervalSeconds} s (Ctrl-C to stop)   ${s.at.toLocaleTimeString()}`,
        `legacy users  ${numbers.format(t.legacyTotal)}`,
        `migrated      ${numbers.format(t.migrated)}  ${t.percentMigrated.toFixed(1)} %  [${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`,
        `pending       ${numbers.format(t.pending)}`,
        `failed        ${numbers.format(t.failed)}`,
        `rate          ${numbers.format(Math.round(s.ratePerMinute))} users/min (last 5 min)`,
        `ETA           ${formatDuration(s.etaSeconds)}`,
        `lock backend  ${s.lock.kind} (${s.lock.healthy ? 'healthy' : 'UNREACHABLE'})`,
        '',
      ];
      draw(last);
    },
    problem(message) {
      draw([...last.slice(0, -1), `error         ${message}`]);
    },
  };
}
