import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/http/metrics.js';
import type { Orgshift } from '../../src/orgshift.js';
import { call } from '../http/support/http-client.js';
import { listenLocal } from '../http/support/local-server.js';
import { type CliResult, killAllCli, runCli } from '../ops/support/cli.js';
import { openTest } from '../support/open-test.js';
import { Receiver } from './support/receiver.js';

const SECRET = 'outbox-cli-test-secret-000001';
const PASSWORD = 'cli-pa55word-in-url';
const TOKEN = 'cli-t0ken-in-query';

// Each CLI run starts tsx from scratch: seconds apiece on a loaded 2-core machine.
describe('orgshift outbox on the command line', { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'orgshift-outbox-cli-'));
  const receiver = new Receiver(SECRET);
  const outputs: CliResult[] = [];
  let env: Record<string, string>;
  let orgshift: Orgshift;

  const cli = async (args: readonly string[], extra: Record<string, string> = {}) => {
    const result = await runCli(args, { ...env, ...extra });
    outputs.push(result);
    return result;
  };

  beforeAll(async () => {
    await receiver.start();
    env = {
      ORGSHIFT_DATABASE_URL: `sqlite:${join(dir, 'outbox.db')}`,
      ORGSHIFT_WEBHOOK_URL: `http://hooks:${PASSWORD}@127.0.0.1:${receiver.port}/in?token=${TOKEN}`,
      ORGSHIFT_WEBHOOK_SECRET: SECRET,
      ORGSHIFT_WEBHOOK_TIMEOUT_MS: '1000',
      ORGSHIFT_OUTBOX_MAX_AGE_MS: '600',
      ORGSHIFT_OUTBOX_RETRY_BASE_MS: '50',
      ORGSHIFT_OUTBOX_RETRY_MAX_MS: '100',
      ORGSHIFT_OUTBOX_POLL_MS: '50',
    };
    // Writes events; runs no dispatcher of its own (none is started here).
    orgshift = await openTest(env);
    const { sampleIds } = await orgshift.seed({ users: 5, dependents: 1 });
    for (const id of sampleIds.slice(0, 3)) await orgshift.getUser(id);
  });
  afterAll(async () => {
    killAllCli();
    await orgshift?.close();
    await receiver.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows pending events, and run exits 2 without a webhook URL', async () => {
    const status = await cli(['outbox', 'status', '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ pending: 3, retrying: 0, dead: 0, delivered: 0 });
    const run = await cli(['outbox', 'run', '--drain'], { ORGSHIFT_WEBHOOK_URL: '' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('ORGSHIFT_WEBHOOK_URL');
  });

  it('lets events die against a receiver that is down, and reports them with exit 1', async () => {
    await receiver.stop();
    const run = await cli(['outbox', 'run', '--drain', '--json']);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ delivered: 0, dead: 3 });
    expect(run.stderr).toContain(`webhook #1 (http://127.0.0.1:${receiver.port}): connection refused`);

    const status = await cli(['outbox', 'status', '--json']);
    expect(status.code).toBe(1);
    expect(JSON.parse(status.stdout)).toMatchObject({
      pending: 0,
      dead: 3,
      destinations: [`webhook #1 (http://127.0.0.1:${receiver.port})`],
    });
    const human = await cli(['outbox', 'status']);
    expect(human.stdout).toMatch(/dead\s+3 {2}\(orgshift outbox retry --dead\)/);
    const overall = await cli(['status', '--json']);
    expect(JSON.parse(overall.stdout).outbox).toEqual({ pending: 0, retrying: 0, dead: 3, oldestPendingSeconds: null });

    const metrics = createMetrics({ processMetrics: false });
    const server = await listenLocal(orgshift, { metrics });
    try {
      expect((await call(server.url, '/metrics')).text).toContain('orgshift_outbox_dead_events 3');
      expect((await call(server.url, '/v1/admin/status')).json?.outbox).toMatchObject({ dead: 3 });
    } finally {
      await server.close();
    }
  });

  it('redrives dead events on retry --dead, and a drain delivers them with their ids', async () => {
    await receiver.start();
    const pendingRetry = await cli(['outbox', 'retry', '--json']);
    expect(JSON.parse(pendingRetry.stdout)).toEqual({ retried: 0, dead: false });
    const redrive = await cli(['outbox', 'retry', '--dead', '--json']);
    expect(redrive.code).toBe(0);
    expect(JSON.parse(redrive.stdout)).toEqual({ retried: 3, dead: true });
    const run = await cli(['outbox', 'run', '--drain', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ delivered: 3, dead: 0 });
    expect(receiver.deliveredIds().size).toBe(3);
    const status = await cli(['outbox', 'status', '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ pending: 0, dead: 0, delivered: 3 });
  });

  it('never printed the credentials of the webhook URL', () => {
    expect(outputs.length).toBeGreaterThan(5);
    for (const output of outputs) {
      for (const text of [output.stdout, output.stderr]) {
        expect(text).not.toContain(PASSWORD);
        expect(text).not.toContain(TOKEN);
        expect(text).not.toContain('hooks:');
      }
    }
  });
});
