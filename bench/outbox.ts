/**
 * The outbox under a backfill (PostgreSQL): the events of a 100,000-user
 * backfill must all be delivered within 1.5× the time the backfill takes on
 * its own, to a webhook receiver on loopback. Also the dispatcher's own rate
 * (deliveries per second) when it has nothing else to do.
 *
 * ORGSHIFT_BENCH_OUTBOX_USERS (default 100,000) sizes the runs.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/config.js';
import { internalsOf, open } from '../src/orgshift.js';
import { type Copy, copyOf, seedTemplate } from './backfill.js';
import { machineLine, median, table, withSpread } from './support/stats.js';

const USERS = Number(process.env.ORGSHIFT_BENCH_OUTBOX_USERS ?? 100_000);
const DEPENDENTS = 3;
const ROUNDS = 2;
const TARGET = 1.5;
const SECRET = randomBytes(24).toString('hex');
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const RECEIVER = fileURLToPath(new URL('./fixtures/webhook-receiver.ts', import.meta.url));

/** The receiver child: `expect(n)` starts a round, `next(kind)` waits for its `first`/`done` line. */
class ReceiverProcess {
  readonly #child = spawn(process.execPath, ['--import', 'tsx', RECEIVER, SECRET], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  readonly #lines: string[] = [];
  readonly #waiters: (() => void)[] = [];

  constructor() {
    createInterface({ input: this.#child.stdout }).on('line', (line) => {
      this.#lines.push(line);
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  async next(kind: string): Promise<string[]> {
    for (;;) {
      const index = this.#lines.findIndex((line) => line.startsWith(`${kind} `));
      if (index >= 0) return (this.#lines.splice(index, 1)[0] as string).split(' ').slice(1);
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  expect(n: number): void {
    this.#lines.length = 0;
    this.#child.stdin.write(`expect ${n}\n`);
  }

  stop(): void {
    this.#child.stdin.end();
    this.#child.kill();
  }
}

interface CliRun {
  readonly stdout: string;
  /** Wall-clock time at which each stderr line arrived. */
  readonly stderr: readonly { readonly at: number; readonly line: string }[];
  /** Wall-clock time of the exit. */
  readonly exitedAt: number;
}

interface Started {
  readonly done: Promise<CliRun>;
  /** Resolves when a stderr line starts with `prefix`. */
  line(prefix: string): Promise<void>;
  stop(): void;
}

function start(args: readonly string[], env: Record<string, string>): Started {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  const stderr: { at: number; line: string }[] = [];
  const watchers: { readonly prefix: string; readonly resolve: () => void }[] = [];
  child.stdout.on('data', (chunk) => {
    stdout += String(chunk);
  });
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderr.push({ at: Date.now(), line });
    for (const watcher of watchers.filter((w) => line.startsWith(w.prefix))) watcher.resolve();
  });
  const done = new Promise<CliRun>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0 || signal === 'SIGTERM') resolve({ stdout, stderr, exitedAt: Date.now() });
      else reject(new Error(`orgshift ${args.join(' ')} exited ${code}: ${stderr.map((l) => l.line).join('\n')}`));
    });
  });
  return {
    done,
    line: (prefix) =>
      stderr.some((l) => l.line.startsWith(prefix))
        ? Promise.resolve()
        : new Promise((resolve) => watchers.push({ prefix, resolve })),
    stop: () => child.kill('SIGTERM'),
  };
}

function cli(args: readonly string[], env: Record<string, string>): Promise<CliRun> {
  return start(args, env).done;
}

/** Every user migrated and every event delivered, none dead. */
async function verify(copy: Copy): Promise<void> {
  const orgshift = await open(loadConfig(copy.env));
  try {
    const status = await orgshift.status();
    const outbox = await internalsOf(orgshift).outbox.status();
    if (status.migrated !== USERS || outbox.delivered !== USERS || outbox.pending !== 0 || outbox.dead !== 0) {
      throw new Error(`copy not cleanly done: ${JSON.stringify({ migrated: status.migrated, outbox })}`);
    }
  } finally {
    await orgshift.close();
  }
}

interface Alone {
  /** The backfill's own seconds, no dispatcher anywhere. */
  readonly backfillSeconds: number;
  /** `orgshift outbox run --drain` afterwards: first to last event at the receiver. */
  readonly drainSeconds: number;
}

interface Together {
  /** The backfill's own seconds, its dispatcher running beside it. */
  readonly backfillSeconds: number;
  /** From the backfill's start to the last event at the receiver. */
  readonly allDeliveredSeconds: number;
  /** From the backfill's end to the last event at the receiver. */
  readonly tailSeconds: number;
}

async function backfillAlone(copy: Copy, receiver: ReceiverProcess): Promise<Alone> {
  const backfill = await cli(['backfill', '--json'], { ...copy.env, ORGSHIFT_OUTBOX_DISPATCH: 'off' });
  const backfillSeconds = (JSON.parse(backfill.stdout) as { seconds: number }).seconds;
  receiver.expect(USERS);
  await cli(['outbox', 'run', '--drain', '--json'], copy.env);
  const [first] = await receiver.next('first');
  const [done, requests, bad] = await receiver.next('done');
  if (Number(bad) > 0 || Number(requests) !== USERS) throw new Error(`receiver: ${requests} requests, ${bad} bad`);
  return { backfillSeconds, drainSeconds: (Number(done) - Number(first)) / 1000 };
}

async function backfillWithDispatcher(copy: Copy, receiver: ReceiverProcess): Promise<Together> {
  receiver.expect(USERS);
  const backfill = await cli(['backfill', '--json'], copy.env);
  const report = JSON.parse(backfill.stdout) as { seconds: number; outbox?: { delivered: number } };
  const ended = backfill.stderr.find((l) => l.line.startsWith('backfill: done;'))?.at;
  if (ended === undefined) throw new Error('the backfill did not say when it ended');
  const started = ended - report.seconds * 1000;
  const [done, requests, bad] = await receiver.next('done');
  if (Number(bad) > 0) throw new Error(`receiver: ${bad} bad signatures`);
  if (Number(requests) !== USERS) process.stderr.write(`bench: outbox: ${requests} requests for ${USERS} events\n`);
  return {
    backfillSeconds: report.seconds,
    allDeliveredSeconds: (Number(done) - started) / 1000,
    tailSeconds: (Number(done) - ended) / 1000,
  };
}

/**
 * The backfill without a dispatcher of its own, and `orgshift outbox run` in
 * a second process all along, as when servers deliver during a backfill.
 */
async function backfillBesideDispatcher(copy: Copy, receiver: ReceiverProcess): Promise<Together> {
  receiver.expect(USERS);
  const dispatcher = start(['outbox', 'run'], copy.env);
  try {
    await dispatcher.line('outbox: delivering to');
    const backfill = await cli(['backfill', '--json'], { ...copy.env, ORGSHIFT_OUTBOX_DISPATCH: 'off' });
    const seconds = (JSON.parse(backfill.stdout) as { seconds: number }).seconds;
    // Closing the pool after the last batch takes milliseconds: the exit marks the end.
    const started = backfill.exitedAt - seconds * 1000;
    const [done, , bad] = await receiver.next('done');
    if (Number(bad) > 0) throw new Error(`receiver: ${bad} bad signatures`);
    return {
      backfillSeconds: seconds,
      allDeliveredSeconds: (Number(done) - started) / 1000,
      tailSeconds: (Number(done) - backfill.exitedAt) / 1000,
    };
  } finally {
    dispatcher.stop();
    await dispatcher.done;
  }
}

type Subject = 'alone' | 'together' | 'beside';

export async function run() {
  const load = os.loadavg().map((l) => l.toFixed(1));
  const template = await seedTemplate('outbox', USERS, DEPENDENTS);
  const receiver = new ReceiverProcess();
  const [port] = await receiver.next('port');
  const webhook = {
    ORGSHIFT_WEBHOOK_URL: `http://127.0.0.1:${port}/orgshift`,
    ORGSHIFT_WEBHOOK_SECRET: SECRET,
  };
  const alone: Alone[] = [];
  const together: Together[] = [];
  const beside: Together[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const subjects: Subject[] = ['alone', 'together', 'beside'];
      const order = round % 2 === 0 ? subjects : [...subjects].reverse();
      for (const subject of order) {
        const copy = await copyOf(template);
        const env = { ...copy.env, ...webhook };
        try {
          process.stderr.write(`bench: outbox round ${round + 1}: ${subject}\n`);
          if (subject === 'alone') alone.push(await backfillAlone({ ...copy, env }, receiver));
          else if (subject === 'together') together.push(await backfillWithDispatcher({ ...copy, env }, receiver));
          else beside.push(await backfillBesideDispatcher({ ...copy, env }, receiver));
          await verify({ ...copy, env });
        } finally {
          await copy.drop();
        }
      }
    }
  } finally {
    receiver.stop();
    await template.drop();
  }
  return { name: 'outbox', markdown: render(alone, together, beside, load) };
}

function render(
  alone: readonly Alone[],
  together: readonly Together[],
  beside: readonly Together[],
  load: readonly string[],
): string {
  const baseline = median(alone.map((a) => a.backfillSeconds));
  const ratioOf = (runs: readonly Together[]) => median(runs.map((t) => t.allDeliveredSeconds)) / baseline;
  const verdict = (ratio: number) => `**${ratio <= TARGET ? 'met' : 'missed'} (${ratio.toFixed(2)}×)**`;
  const drainRatio = median(alone.map((a) => a.drainSeconds)) / baseline;
  const drainRates = alone.map((a) => USERS / a.drainSeconds);
  const s = (values: readonly number[]) => withSpread(values, 1);
  const slowdown = (runs: readonly Together[]) =>
    `${((median(runs.map((t) => t.backfillSeconds)) / baseline - 1) * 100).toFixed(0)} %`;
  return `## Outbox

${machineLine()}

\`npm run bench -- outbox\`: ${USERS.toLocaleString('en')} legacy users with ${DEPENDENTS} rows each in both dependent tables, seeded once and copied for every run (as in the backfill benchmark). Every migration writes one \`user.migrated\` event in its own transaction; a webhook receiver in another process on loopback verifies each signature and answers 204. ${ROUNDS} rounds, subjects interleaved. Each run is checked afterwards: every user migrated, every event delivered, none pending or dead, no bad signature.

- **backfill alone**: \`orgshift backfill --json\` with \`ORGSHIFT_OUTBOX_DISPATCH=off\` (the events are written, nothing delivers them), then \`orgshift outbox run --drain\` on its own.
- **backfill with its dispatcher**: \`orgshift backfill --json\` with the webhook configured: the same process delivers while it migrates, then delivers what is left. Its start is its end (the \`backfill: done;\` line) minus its own reported seconds; "all delivered" is when the receiver had the last distinct event.
- **backfill beside a dispatcher process**: \`orgshift outbox run\` running all along in a second process (as servers deliver during a backfill), the backfill with \`ORGSHIFT_OUTBOX_DISPATCH=off\`. Its start is its exit minus its own seconds.

Seconds, median (range; with two rounds the median is the lower value):

${table(
  ['', 'seconds'],
  [
    ['backfill alone (its own time): the baseline', s(alone.map((a) => a.backfillSeconds))],
    ['`outbox run --drain` afterwards, first to last event', s(alone.map((a) => a.drainSeconds))],
    ['backfill with its dispatcher (its own time)', s(together.map((t) => t.backfillSeconds))],
    ['… from its start to the last event delivered', s(together.map((t) => t.allDeliveredSeconds))],
    ['… from its end to the last event delivered', s(together.map((t) => t.tailSeconds))],
    ['backfill beside a dispatcher process (its own time)', s(beside.map((t) => t.backfillSeconds))],
    ['… from its start to the last event delivered', s(beside.map((t) => t.allDeliveredSeconds))],
    ['… from its end to the last event delivered', s(beside.map((t) => t.tailSeconds))],
  ],
)}

Target: every event delivered within ${TARGET}× the backfill's own time (${(baseline * TARGET).toFixed(1)} s), counted from the backfill's start:

- backfill with its own dispatcher: ${verdict(ratioOf(together))}; the dispatcher slows the backfill it shares a process (and a JavaScript thread) with by ${slowdown(together)};
- backfill beside a dispatcher process: ${verdict(ratioOf(beside))}; the backfill is ${slowdown(beside)} slower than alone;
- the drain on its own, after the backfill, takes ${drainRatio.toFixed(2)}× the backfill's time.

Deliveries per second, median (range): ${withSpread(drainRates)} for a dispatcher with nothing else to do (\`outbox run --drain\`, one process, default concurrency 32); ${withSpread(together.map((t) => USERS / t.allDeliveredSeconds))} and ${withSpread(beside.map((t) => USERS / t.allDeliveredSeconds))} counted over the whole of the two overlapped runs.

Where it goes: per event the dispatcher writes two row versions (the claim's lease, then "delivered"; the insert is the migration's own) and sends one HTTP request with an HMAC, which the receiver parses and verifies. Measured separately with \`outbox run --drain\` on 20,000 events (process CPU times on this machine, load about 4): about 180 µs of CPU per event in the dispatcher process (a fifth of it the kernel's loopback writes), 80 µs in the receiver, plus PostgreSQL's share for the two updates. Delivering an event costs about as much CPU as migrating its user: the drain alone takes ${drainRatio.toFixed(2)}× the backfill's time. On two cores that also run the receiver and PostgreSQL, migrating and delivering together take about the sum of the two, whichever process delivers: the target is missed for CPU, not for waiting. The database round trips are not the limit (a claim is one prepared statement of up to 500 events, outcomes one UPDATE every few milliseconds), and more concurrency changes nothing (32 and 96 in flight measured the same). What would close the gap: handing the events a process has just committed to its own dispatcher, leased by the INSERT itself (no claim, one row version less per event), and, in production, a receiver that is not on the same two cores.

Noise: load average ${load.join(' / ')} (1, 5, 15 min) when the runs started; other processes share the two cores, and the ranges are the spread between rounds.`;
}
