import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TEST_LEGACY_KEY, TEST_SECRET_KEY } from '../../support/open-test.js';

const MAIN = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));

/** A running `orgshift …` child process. */
export interface CliRun {
  readonly child: ChildProcess;
  /** Resolves when the process exits (also after a kill). */
  readonly done: Promise<CliResult>;
  kill(signal?: NodeJS.Signals): void;
  /** Standard error so far, while the process runs. */
  stderr(): string;
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

const running = new Set<ChildProcess>();

/** Starts the real CLI in a child process, with the test keys and `env` on top of this process's environment. */
export function startCli(args: readonly string[], env: Record<string, string>): CliRun {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    env: { ...process.env, ORGSHIFT_LEGACY_KEY: TEST_LEGACY_KEY, ORGSHIFT_SECRET_KEY: TEST_SECRET_KEY, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += String(chunk);
  });
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const done = new Promise<CliResult>((resolve) => {
    child.once('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    done,
    kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    stderr: () => stderr,
  };
}

export function runCli(args: readonly string[], env: Record<string, string>): Promise<CliResult> {
  return startCli(args, env).done;
}

/** For afterAll: no child outlives its test file. */
export function killAllCli(): void {
  for (const child of running) child.kill('SIGKILL');
}
