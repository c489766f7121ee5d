import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { CHILD_START_MS, CHILD_TEST_TIMEOUT_MS } from '../http/support/serve-child.js';

const dir = mkdtempSync(join(tmpdir(), 'orgshift-npm-start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** After the signal: the server's grace period is 10 s; this bounds the whole stop, on a loaded machine. */
const STOP_MS = 30_000;

/** Pids of every live process whose environment carries `marker`: the processes one `npm start` created. */
function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(marker)) found.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}

async function until(condition: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(100);
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}

interface Started {
  readonly npm: ChildProcess;
  readonly url: string;
  readonly marker: string;
  readonly exited: Promise<number | null>;
  stderr(): string;
}

/** `npm start` as a user runs it, in its own process group (as a terminal's foreground job is). */
async function npmStart(name: string): Promise<Started> {
  const marker = `ORGSHIFT_NPM_START_TEST=${randomBytes(8).toString('hex')}`;
  const [key, value] = marker.split('=') as [string, string];
  const npm = spawn('npm', ['start'], {
    env: {
      ...process.env,
      ORGSHIFT_DATABASE_URL: `sqlite:${join(dir, `${name}.db`)}`,
      ORGSHIFT_PORT: '0',
      ORGSHIFT_LOG_LEVEL: 'warn',
      [key]: value,
    },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  npm.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
  const lines = createInterface({ input: npm.stdout as NodeJS.ReadableStream });
  const listening = (async () => {
    for await (const line of lines) {
      const match = /orgshift: listening on (http:\/\/\S+)/.exec(line);
      if (match?.[1]) return match[1];
    }
    throw new Error(`npm start ended before listening: ${stderr}`);
  })();
  let timer: NodeJS.Timeout | undefined;
  const url = await Promise.race([
    listening,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`npm start did not listen: ${stderr}`)), CHILD_START_MS);
    }),
  ]).finally(() => clearTimeout(timer));
  lines.on('line', () => undefined);
  return { npm, url, marker, exited, stderr: () => stderr };
}

function killLeftovers(marker: string): void {
  for (const pid of processesWith(marker)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

describe('npm start', { timeout: CHILD_TEST_TIMEOUT_MS }, () => {
  it.each([
    ['SIGTERM to the npm process alone', (npm: ChildProcess) => npm.kill('SIGTERM')],
    // A terminal's Ctrl-C signals the whole foreground process group.
    ['Ctrl-C (SIGINT to the process group)', (npm: ChildProcess) => process.kill(-(npm.pid as number), 'SIGINT')],
  ])('stops the server on %s and leaves no process behind', async (name, signal) => {
    const started = await npmStart(name.replace(/\W+/g, '-'));
    try {
      expect(await answers(started.url)).toBe(true);
      expect(processesWith(started.marker).length).toBeGreaterThan(0);
      signal(started.npm);
      await until(async () => !(await answers(started.url)), STOP_MS, 'the port stops answering');
      await until(() => processesWith(started.marker).length === 0, STOP_MS, 'every process of npm start exits');
      // Gone from /proc is not yet reaped: wait for the child's exit event before reading its status.
      await until(() => (started.npm.exitCode ?? started.npm.signalCode) !== null, STOP_MS, 'npm is reaped');
      // One Ctrl-C reaches the server twice (from the terminal and from npm): still a graceful stop.
      expect(started.stderr()).not.toContain('exiting without waiting');
    } finally {
      killLeftovers(started.marker);
    }
  });
});
