import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Orgshift } from '../../src/orgshift.js';
import { startServe } from '../http/support/serve-child.js';
import { killAllCli, startCli } from '../ops/support/cli.js';
import type { Child } from '../support/child.js';
import { dbOf, outboxOf } from '../support/internals.js';
import { openTest, TEST_LEGACY_KEY, TEST_SECRET_KEY } from '../support/open-test.js';
import { createTestDatabase, describePostgres, type TestDatabase } from '../support/services.js';
import { eventually, outboxRows } from './support/outbox-rows.js';
import { Receiver } from './support/receiver.js';

const SECRET = 'outbox-processes-test-secret-01';

/** tsx children take seconds to start on a loaded 2-core machine; what is measured starts after that. */
const CHILD_TIMEOUT_MS = 240_000;

describePostgres('outbox dispatchers in several processes', () => {
  let testDb: TestDatabase;
  let receiver: Receiver;
  let env: Record<string, string>;
  let orgshift: Orgshift;
  const children: Child[] = [];

  beforeAll(async () => {
    testDb = await createTestDatabase('outbox_processes');
    receiver = new Receiver(SECRET);
    await receiver.start();
    env = {
      ORGSHIFT_LEGACY_KEY: TEST_LEGACY_KEY,
      ORGSHIFT_SECRET_KEY: TEST_SECRET_KEY,
      ORGSHIFT_DATABASE_URL: testDb.url,
      ORGSHIFT_DATABASE_POOL_SIZE: '4',
      ORGSHIFT_LOCK: 'postgres',
      ORGSHIFT_LOCK_POOL_SIZE: '4',
      ORGSHIFT_WEBHOOK_URL: receiver.url(),
      ORGSHIFT_WEBHOOK_SECRET: SECRET,
      ORGSHIFT_OUTBOX_POLL_MS: '50',
      ORGSHIFT_OUTBOX_RETRY_BASE_MS: '50',
      ORGSHIFT_OUTBOX_RETRY_MAX_MS: '200',
    };
    // This process writes events but runs no dispatcher unless a test starts one.
    orgshift = await openTest(env);
    await orgshift.seed({ users: 160, dependents: 1 });
  });
  afterAll(async () => {
    for (const child of children) child.kill();
    killAllCli();
    await orgshift?.close();
    await receiver?.stop();
    await testDb?.drop();
  });

  async function legacyIds(limit: number, offset: number): Promise<string[]> {
    const rows = await sql<{ id: string }>`
      select id from legacy_users order by id limit ${limit} offset ${offset}`.execute(dbOf(orgshift).kysely);
    return rows.rows.map((r) => r.id);
  }

  it('hands the event of a process killed between commit and delivery to another process, same id', {
    timeout: CHILD_TIMEOUT_MS,
  }, async () => {
    const [id] = await legacyIds(1, 0);
    receiver.behaviour = () => 'hang';
    // Its lease is 2 × 1500 + 1000 ms: what another process waits after the kill.
    const server = await startServe({ ...env, ORGSHIFT_WEBHOOK_TIMEOUT_MS: '1500' });
    children.push(server.child);
    expect((await fetch(`${server.url}/v1/users/${id}`)).status).toBe(200);
    // The migration committed and the child is delivering its event: the receiver holds the request.
    await receiver.until(() => receiver.received.some((r) => r.userId === id));
    server.child.kill('SIGKILL');
    await server.child.exited();
    const [claimed] = await outboxRows(orgshift, id as string);
    expect(claimed).toMatchObject({ type: 'user.migrated', attempts: 1, delivered: false });

    receiver.behaviour = () => 200;
    const other = await openTest(env);
    try {
      outboxOf(other).start();
      const [row] = await eventually(
        () => outboxRows(orgshift, id as string),
        (rows) => rows[0]?.delivered === true,
      );
      expect(row?.id).toBe(claimed?.id);
      expect(row?.attempts).toBe(2);
      expect(receiver.received.filter((r) => r.userId === id).map((r) => [r.id, r.answer])).toEqual([
        [claimed?.id, 'hang'],
        [claimed?.id, 200],
      ]);
    } finally {
      await other.close();
    }
  });

  it('shares the work between two dispatcher processes: each event delivered once, each user in order', {
    timeout: CHILD_TIMEOUT_MS,
  }, async () => {
    receiver.behaviour = () => 200;
    receiver.delayMs = 10;
    const before = receiver.received.length;
    const eventsBefore = (await outboxRows(orgshift)).length;
    // Four deliveries in flight per process and 10 ms per answer: neither process can keep the
    // whole backlog leased, so the other one's next poll (50 ms) always finds due events.
    const dispatcherEnv = { ...env, ORGSHIFT_OUTBOX_CONCURRENCY: '4' };
    const runs = [0, 1].map(() => startCli(['outbox', 'run', '--json'], dispatcherEnv));
    await eventually(
      async () => runs.map((run) => run.stderr()),
      (stderr) => stderr.every((text) => text.includes('outbox: delivering to')),
      CHILD_TIMEOUT_MS / 2,
    );

    // Three events per user, written while both dispatchers run: migrated, rolled back, migrated again.
    const users = await legacyIds(150, 10);
    await orgshift.backfill();
    for (const id of users) await orgshift.rollbackUser(id);
    await orgshift.backfill();
    const expected = (await outboxRows(orgshift)).length;
    expect(expected - eventsBefore).toBeGreaterThanOrEqual(users.length * 3);
    await eventually(
      async () => (await outboxRows(orgshift)).filter((r) => r.delivered).length,
      (delivered) => delivered === expected,
      120_000,
    );
    for (const run of runs) run.kill('SIGTERM');
    const results = await Promise.all(runs.map((run) => run.done));
    const summaries = results.map((r) => JSON.parse(r.stdout) as { delivered: number; dead: number });

    const requests = receiver.received.slice(before);
    expect(requests.length).toBe(expected - eventsBefore);
    expect(new Set(requests.map((r) => r.id)).size).toBe(requests.length);
    expect(results.map((r) => r.code)).toEqual([0, 0]);
    expect(summaries.map((s) => s.delivered > 0)).toEqual([true, true]);
    expect(summaries[0]!.delivered + summaries[1]!.delivered).toBe(requests.length);
    const rows = await outboxRows(orgshift);
    for (const id of users) {
      const mine = rows.filter((r) => r.user_id === id);
      expect(mine.map((r) => r.type)).toEqual(['user.migrated', 'user.rolled_back', 'user.migrated']);
      // Arrival order at the receiver is the order the events were written in.
      expect(requests.filter((r) => r.userId === id).map((r) => r.id)).toEqual(mine.map((r) => r.id));
    }
  });
});
