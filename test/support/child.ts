import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A tsx child process whose stdout is read line by line. */
export interface Child {
  readonly process: ChildProcessWithoutNullStreams;
  nextLine(timeoutMs?: number): Promise<string>;
  exited(): Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
  stderr(): string;
}

export function spawnTs(script: string, args: readonly string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += String(chunk);
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    const waiter = waiters.shift();
    if (waiter) waiter(line);
    else lines.push(line);
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    process: child,
    nextLine(timeoutMs = 30_000) {
      const line = lines.shift();
      if (line !== undefined) return Promise.resolve(line);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no output from ${script} in ${timeoutMs} ms: ${stderr}`)),
          timeoutMs,
        );
        waiters.push((l) => {
          clearTimeout(timer);
          resolve(l);
        });
      });
    },
    exited: () => exit,
    kill(signal = 'SIGKILL') {
      if (child.exitCode === null) child.kill(signal);
    },
    stderr: () => stderr,
  };
}
