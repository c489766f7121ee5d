import { type Child, spawnTs } from '../../support/child.js';

/**
 * A tsx child needs ~2 s of CPU to start; on a shared 2-core machine under a
 * load of 10 that became 20 s of wall time. Start-up is not what these tests
 * measure, so they wait generously for it and keep tight bounds only on what
 * happens after the signal.
 */
export const CHILD_START_MS = 90_000;
/** Per-test timeout for tests that start `orgshift serve` children. */
export const CHILD_TEST_TIMEOUT_MS = 180_000;

export interface ServeChild {
  readonly child: Child;
  /** http://127.0.0.1:PORT, as printed by `orgshift serve`. */
  readonly url: string;
  /** Further stdout lines (the demo's curl follows the listening line). */
  nextLine(timeoutMs?: number): Promise<string>;
}

/** Runs `orgshift serve` on a free loopback port and waits until it listens. */
export async function startServe(
  env: Readonly<Record<string, string>>,
  args: readonly string[] = [],
): Promise<ServeChild> {
  const child = spawnTs('src/cli/main.ts', ['serve', ...args], {
    ORGSHIFT_HOST: '127.0.0.1',
    ORGSHIFT_PORT: '0',
    ORGSHIFT_LOG_LEVEL: 'warn',
    ...env,
  });
  try {
    for (;;) {
      const line = await child.nextLine(CHILD_START_MS);
      const match = /^orgshift: listening on (http:\/\/\S+)$/.exec(line);
      if (match?.[1]) return { child, url: match[1], nextLine: (ms) => child.nextLine(ms) };
    }
  } catch (error) {
    child.kill();
    throw error;
  }
}

/** Resolves with the exit code, or kills the child and rejects after `ms`. */
export async function exitWithin(child: Child, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child.kill();
      reject(new Error(`child still running after ${ms} ms: ${child.stderr()}`));
    }, ms);
  });
  try {
    return await Promise.race([child.exited(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
