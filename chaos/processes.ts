import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** A child process whose output goes to a log file the run scans for secrets afterwards. */
export interface Managed {
  readonly name: string;
  child: ChildProcess;
  readonly exited: Promise<number | null>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export class ProcessSet {
  readonly #logDir: string;
  readonly #logs = new Map<string, WriteStream>();
  readonly logFiles: string[] = [];
  readonly #running = new Set<ChildProcess>();

  constructor(logDir: string) {
    this.#logDir = logDir;
  }

  start(name: string, command: string, args: readonly string[], env: Record<string, string>): Managed {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const log = this.#log(name);
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    this.#running.add(child);
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => {
        this.#running.delete(child);
        resolve(code);
      }),
    );
    return { name, child, exited };
  }

  /** Starts `orgshift <args>` from this checkout. */
  orgshift(name: string, args: readonly string[], env: Record<string, string>): Managed {
    return this.start(name, process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], env);
  }

  async stopAll(): Promise<void> {
    for (const child of this.#running) child.kill('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const log of this.#logs.values()) log.end();
  }

  #log(name: string): WriteStream {
    let log = this.#logs.get(name);
    if (log === undefined) {
      const file = join(this.#logDir, `${name}.log`);
      log = createWriteStream(file, { flags: 'a' });
      this.#logs.set(name, log);
      this.logFiles.push(file);
    }
    return log;
  }
}

/** Polls until `url` answers 200, or fails after `timeoutMs` (tsx start-up alone can take 30 s on a loaded 2-core machine). */
export async function waitForHttp(url: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not come up in ${timeoutMs} ms`);
}
