import { type Child, spawnTs } from '../../support/child.js';

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
      const line = await child.nextLine(30_000);
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
