import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lineRenderer, terminalRenderer, type WatchSample, watchStatus } from '../../src/cli/status-watch.js';
import { killAllCli, runCli, startCli } from '../ops/support/cli.js';
import { openTest } from '../support/open-test.js';

/** Control Sequence Introducer: the prefix of the cursor and erase sequences. */
const CSI = '\x1b[';

function sampleOf(migrated: number): WatchSample {
  return {
    at: new Date('2030-01-02T03:04:05Z'),
    totals: {
      legacyTotal: 200,
      migrated,
      pending: 200 - migrated,
      failed: 1,
      invalid: { nullKeys: 0, duplicateKeys: 0 },
      outbox: { pending: 0, retrying: 0, dead: 0, oldestPendingSeconds: null },
      percentMigrated: migrated / 2,
    },
    ratePerMinute: 60,
    etaSeconds: (200 - migrated) * 1,
    lock: { kind: 'memory', healthy: true },
  };
}

function sink() {
  const chunks: string[] = [];
  return { stream: { write: (chunk: string) => chunks.push(chunk) > 0 } as unknown as NodeJS.WritableStream, chunks };
}

describe('status --watch rendering', () => {
  it('redraws one block in place on a terminal', () => {
    const { stream, chunks } = sink();
    const renderer = terminalRenderer(stream, 2);
    renderer.show(sampleOf(50));
    renderer.show(sampleOf(100));
    renderer.problem('database_unavailable: the database is unreachable');
    expect(chunks).toHaveLength(3);
    // The first draw starts at once with a cleared line: there is nothing to move back over.
    expect(chunks[0]?.startsWith(`${CSI}2K`)).toBe(true);
    const lines = (chunks[0] as string).split('\n').length - 1;
    // Each redraw first moves up over the whole previous block, then clears and rewrites every line.
    expect(chunks[1]?.startsWith(`${CSI}${lines}F`)).toBe(true);
    expect((chunks[1] as string).split(`${CSI}2K`)).toHaveLength(lines + 1);
    expect(chunks[1]).toContain('migrated      100  50.0 %  [###############---------------]');
    expect(chunks[1]).toContain('ETA           2 min');
    expect(chunks[2]).toContain('error         database_unavailable');
    expect(chunks[2]).toContain('migrated      100');
  });

  it('writes one line per refresh elsewhere', () => {
    const { stream, chunks } = sink();
    const renderer = lineRenderer(stream);
    renderer.show(sampleOf(50));
    renderer.problem('boom');
    expect(chunks).toEqual([
      '2030-01-02T03:04:05.000Z migrated 50/200 (25.0%) pending 150 failed 1 rate 60/min eta 3 min lock memory healthy\n',
      expect.stringMatching(/^\S+Z error boom\n$/),
    ]);
  });

  it('keeps watching through a failed refresh and stops when aborted', async () => {
    const stop = new AbortController();
    const shown: number[] = [];
    const problems: string[] = [];
    let calls = 0;
    await watchStatus(
      async () => {
        calls++;
        if (calls === 2) throw Object.assign(new Error('unreachable'), { code: 'database_unavailable' });
        if (calls === 4) stop.abort();
        return sampleOf(calls);
      },
      { show: (s) => shown.push(s.totals.migrated), problem: (m) => problems.push(m) },
      1,
      stop.signal,
    );
    expect(shown).toEqual([1, 3, 4]);
    expect(problems).toEqual(['database_unavailable: unreachable']);
  });
});

// Each spawn starts tsx from scratch (seconds on a loaded 2-core machine).
describe('orgshift status --watch', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'orgshift-watch-'));
  const env = { ORGSHIFT_DATABASE_URL: `sqlite:${join(dir, 'watch.db')}` };

  beforeAll(async () => {
    const orgshift = await openTest(env);
    await orgshift.seed({ users: 10, dependents: 0 });
    await orgshift.backfill({ limit: 4 });
    await orgshift.close();
  });
  afterAll(() => {
    killAllCli();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints a line per refresh without a terminal, and Ctrl-C exits 0', async () => {
    const run = startCli(['status', '--watch', '--interval', '0.2'], env);
    let out = '';
    await new Promise<void>((resolve, reject) => {
      run.child.stdout?.on('data', (chunk) => {
        out += String(chunk);
        if (out.split('\n').length > 2) resolve();
      });
      run.child.once('exit', () => reject(new Error(`exited early: ${out}`)));
    });
    run.kill('SIGINT');
    const result = await run.done;
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) {
      expect(line).toMatch(
        /^\S+Z migrated 4\/10 \(40\.0%\) pending 6 failed 0 rate \d+\/min eta \S+.* lock memory healthy$/,
      );
    }
  });

  it('refuses --json with --watch, and --interval without --watch or out of range, with exit 2', async () => {
    for (const args of [
      ['status', '--watch', '--json'],
      ['status', '--interval', '1'],
      ['status', '--watch', '--interval', '0'],
    ]) {
      const result = await runCli(args, env);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stdout).toBe('');
    }
  });
});
