import { randomUUID } from 'node:crypto';
import type { FaultLog } from './faults.js';

/** Tallies of the load: responses by status, and every response that breaks the rules. */
export interface LoadStats {
  readonly byStatus: Map<string, number>;
  readonly problems: string[];
  requests: number;
}

export interface LoadOptions {
  readonly servers: () => readonly string[];
  readonly legacyIds: readonly string[];
  readonly concurrency: number;
  readonly faults: FaultLog;
  readonly stop: AbortSignal;
}

const ALLOWED = new Set([200, 400, 404, 503]);

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)] as T;
}

/** Mostly real users (legacy or already migrated), some unknown and some malformed ids. */
function randomPath(legacyIds: readonly string[]): string {
  const roll = Math.random();
  if (roll < 0.85) return `/v1/users/${pick(legacyIds)}`;
  if (roll < 0.95) return `/v1/users/${randomUUID()}`;
  return `/v1/users/${encodeURIComponent(pick(["' or 1=1 --", 'x'.repeat(300), 'not-a-uuid', '../../etc/passwd']))}`;
}

function count(stats: LoadStats, key: string) {
  stats.byStatus.set(key, (stats.byStatus.get(key) ?? 0) + 1);
}

async function oneRequest(options: LoadOptions, stats: LoadStats) {
  const servers = options.servers();
  const url = `${pick(servers)}${randomPath(options.legacyIds)}`;
  const sentAt = Date.now();
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(15_000) });
    await response.arrayBuffer();
    stats.requests++;
    count(stats, String(response.status));
    if (!ALLOWED.has(response.status)) stats.problems.push(`${response.status} for ${url}`);
    if (response.status === 503) {
      if (!response.headers.get('retry-after')) stats.problems.push(`503 without Retry-After for ${url}`);
      if (!options.faults.activeAround(sentAt, Date.now()))
        stats.problems.push(`503 outside any fault window for ${url}`);
    }
  } catch {
    // A killed server refuses or drops connections: not a response, counted apart.
    // A real client backs off instead of spinning on a dead address.
    count(stats, 'connection error');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function driveLoad(options: LoadOptions): Promise<LoadStats> {
  const stats: LoadStats = { byStatus: new Map(), problems: [], requests: 0 };
  const worker = async () => {
    while (!options.stop.aborted) await oneRequest(options, stats);
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return stats;
}
