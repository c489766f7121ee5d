import { Redis } from 'ioredis';
import pg from 'pg';

export type FaultKind = 'server SIGKILL' | 'Redis restart' | 'pg_terminate_backend' | 'Redis CLIENT PAUSE > TTL';

export const FAULT_KINDS: readonly FaultKind[] = [
  'server SIGKILL',
  'Redis restart',
  'pg_terminate_backend',
  'Redis CLIENT PAUSE > TTL',
];

interface Window {
  readonly kind: FaultKind;
  readonly start: number;
  end: number;
}

/**
 * When each fault was active. A 503 is legitimate only while a fault is
 * active or within `graceMs` of its end (leases time out, pools reconnect).
 */
export class FaultLog {
  readonly #windows: Window[] = [];
  readonly #graceMs: number;

  constructor(graceMs: number) {
    this.#graceMs = graceMs;
  }

  async run(kind: FaultKind, inject: () => Promise<void>): Promise<void> {
    const window: Window = { kind, start: Date.now(), end: Number.POSITIVE_INFINITY };
    this.#windows.push(window);
    try {
      await inject();
    } finally {
      window.end = Date.now();
    }
  }

  activeAround(sentAt: number, answeredAt: number): boolean {
    return this.#windows.some((w) => w.start <= answeredAt && sentAt <= w.end + this.#graceMs);
  }

  /** Each fault's window as seconds since `origin`, for a failure report. */
  timeline(origin: number): string[] {
    return this.#windows.map(
      (w) => `${w.kind}: ${((w.start - origin) / 1000).toFixed(1)}–${((w.end - origin) / 1000).toFixed(1)} s`,
    );
  }

  counts(): Map<FaultKind, number> {
    const counts = new Map<FaultKind, number>(FAULT_KINDS.map((k) => [k, 0]));
    for (const w of this.#windows) counts.set(w.kind, (counts.get(w.kind) ?? 0) + 1);
    return counts;
  }
}

export async function terminateServiceConnections(databaseUrl: string, database: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const result = await client.query(
      `select pg_terminate_backend(pid) from pg_stat_activity
       where datname = $1 and application_name like 'orgshift%' and pid <> pg_backend_pid()`,
      [database],
    );
    return result.rowCount ?? 0;
  } finally {
    await client.end();
  }
}

/** Pauses every client of the chaos Redis for longer than the lock TTL: leases must report lost. */
export async function pauseRedis(redisUrl: string, ms: number): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    await redis.call('CLIENT', 'PAUSE', String(ms), 'ALL');
    await new Promise((resolve) => setTimeout(resolve, ms));
  } finally {
    redis.disconnect();
  }
}
