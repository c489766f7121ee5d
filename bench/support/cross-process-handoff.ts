/**
 * Lock hand-off between processes: N contender processes (bench/fixtures/
 * handoff-contender.ts) take turns on one key; a hand-off is the time from the
 * holder calling release() in one process to acquire() resolving in another
 * process that was already waiting. The two instants come from two processes,
 * so each child's clock is calibrated against this one first (NTP-style:
 * the reply with the shortest round trip bounds the offset error by half of it).
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { LockConfig } from '../../src/lock/lock-manager.js';
import type { FloorConfig } from '../fixtures/floor-locks.js';
import type { ContenderPlan, ContenderReport, Round } from '../fixtures/handoff-contender.js';

const CONTENDER = fileURLToPath(new URL('../fixtures/handoff-contender.ts', import.meta.url));
const CALIBRATION_PINGS = 200;

const wallClock = () => performance.timeOrigin + performance.now();

export interface CrossProcessPlan {
  readonly lock: LockConfig | FloorConfig;
  readonly key: string;
  readonly processes: number;
  readonly roundsPerProcess: number;
  readonly holdMs: number;
  readonly thinkMs: number;
}

/** One hand-off, every instant on this process's clock (ms since the epoch, fractional). */
export interface Handoff {
  /** The holder called release(). */
  readonly releasedAt: number;
  /** acquire() resolved in the next holder's process. */
  readonly gotAt: number;
  /** The next holder's fence. */
  readonly fence: bigint;
}

export interface CrossProcessResult {
  readonly handoffs: readonly Handoff[];
  /** Turns the releasing process took back itself (not hand-offs; counted to show how often it happens). */
  readonly kept: number;
  /** Turns whose next holder only asked after the release began (nobody was waiting: not a hand-off). */
  readonly unqueued: number;
  /** CPU time the contender processes spent, per turn (hand-off or not), ms. */
  readonly cpuPerTurnMs: number;
  /** Largest offset error over the children, ms (half the best calibration round trip). */
  readonly clockErrorMs: number;
  /** Largest absolute offset found between this process's clock and a child's, ms. */
  readonly clockOffsetMs: number;
}

interface Contender {
  readonly index: number;
  readonly child: ChildProcessByStdio<Writable, Readable, null>;
  next(): Promise<string>;
}

interface Calibration {
  readonly offsetMs: number;
  readonly errorMs: number;
}

interface Turn extends Round {
  readonly process: number;
}

export async function measureCrossProcess(plan: CrossProcessPlan): Promise<CrossProcessResult> {
  const contenders = Array.from({ length: plan.processes }, (_, index) => start(index, plan));
  try {
    for (const c of contenders) await expectLine(c, 'ready');
    const calibrations: Calibration[] = [];
    for (const c of contenders) calibrations.push(await calibrate(c));
    for (const c of contenders) c.child.stdin.write('go\n');
    const reports = await Promise.all(contenders.map(async (c) => JSON.parse(await c.next()) as ContenderReport));
    const turns = reports.flatMap((report, index) =>
      report.rounds.map((r) => onParentClock(r, index, calibrations[index]!)),
    );
    return {
      ...handoffsOf(turns),
      cpuPerTurnMs: reports.reduce((sum, r) => sum + r.cpuMs, 0) / turns.length,
      clockErrorMs: Math.max(...calibrations.map((c) => c.errorMs)),
      clockOffsetMs: Math.max(...calibrations.map((c) => Math.abs(c.offsetMs))),
    };
  } finally {
    for (const c of contenders) if (c.child.exitCode === null) c.child.kill();
  }
}

function start(index: number, plan: CrossProcessPlan): Contender {
  const contenderPlan: ContenderPlan = {
    lock: plan.lock,
    key: plan.key,
    rounds: plan.roundsPerProcess,
    holdMs: plan.holdMs,
    thinkMs: plan.thinkMs,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', CONTENDER, JSON.stringify(contenderPlan)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`contender ${index} ended early (exit code ${child.exitCode})`);
    return String(value);
  };
  return { index, child, next };
}

async function expectLine(contender: Contender, expected: string): Promise<void> {
  const line = await contender.next();
  if (line !== expected) throw new Error(`contender ${contender.index} said ${line} instead of ${expected}`);
}

/** The child's clock minus ours, from the ping whose round trip was shortest. */
async function calibrate(contender: Contender): Promise<Calibration> {
  let best: Calibration = { offsetMs: 0, errorMs: Number.POSITIVE_INFINITY };
  for (let i = 0; i < CALIBRATION_PINGS; i++) {
    const sent = wallClock();
    contender.child.stdin.write('clock\n');
    const theirs = Number(await contender.next());
    const received = wallClock();
    const errorMs = (received - sent) / 2;
    if (errorMs < best.errorMs) best = { offsetMs: theirs - (sent + received) / 2, errorMs };
  }
  return best;
}

function onParentClock(round: Round, process: number, calibration: Calibration): Turn {
  const shift = (t: number) => t - calibration.offsetMs;
  return {
    ...round,
    process,
    askedAt: shift(round.askedAt),
    gotAt: shift(round.gotAt),
    releasedAt: shift(round.releasedAt),
  };
}

/** Orders every turn by fence (the lock's own order of holders) and measures each release → next holder. */
function handoffsOf(turns: readonly Turn[]): Pick<CrossProcessResult, 'handoffs' | 'kept' | 'unqueued'> {
  const ordered = [...turns].sort((a, b) => compareFences(a.fence, b.fence));
  const handoffs: Handoff[] = [];
  let kept = 0;
  let unqueued = 0;
  for (let i = 1; i < ordered.length; i++) {
    const previous = ordered[i - 1]!;
    const next = ordered[i]!;
    if (next.process === previous.process) kept += 1;
    else if (next.askedAt >= previous.releasedAt) unqueued += 1;
    else handoffs.push({ releasedAt: previous.releasedAt, gotAt: next.gotAt, fence: BigInt(next.fence) });
  }
  return { handoffs, kept, unqueued };
}

function compareFences(a: string, b: string): number {
  const diff = BigInt(a) - BigInt(b);
  return diff < 0n ? -1 : diff > 0n ? 1 : 0;
}
