import { inspect } from 'node:util';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/http/metrics.js';
import { internalsOf, type Orgshift } from '../../src/orgshift.js';
import type { OrgshiftEvent } from '../../src/outbox/outbox-event.js';
import { BACKENDS, type BackendInstance } from '../support/backends.js';
import { dbOf, outboxOf } from '../support/internals.js';
import { openTest } from '../support/open-test.js';
import { eventually, outboxRows } from './support/outbox-rows.js';
import { Receiver } from './support/receiver.js';

const SECRET = 'outbox-delivery-test-secret-0001';
const PASSWORD = 'pa55-w0rd-in-the-url';
const TOKEN = 't0ken-in-the-query-string';
/** Short everything, so retries and deaths happen in test time. */
const FAST = {
  ORGSHIFT_WEBHOOK_SECRET: SECRET,
  ORGSHIFT_WEBHOOK_TIMEOUT_MS: '1000',
  ORGSHIFT_OUTBOX_RETRY_BASE_MS: '20',
  ORGSHIFT_OUTBOX_RETRY_MAX_MS: '100',
  ORGSHIFT_OUTBOX_POLL_MS: '50',
};

const dialects = BACKENDS.filter((b) => b.name !== 'PostgreSQL + redis lock');

/** The receiver's URL with a user, a password and a token in the query: none of them may leak. */
function credentialedUrl(receiver: Receiver): string {
  return `http://hook-user:${PASSWORD}@127.0.0.1:${receiver.port}/hook?token=${TOKEN}`;
}

describe.each(dialects)('outbox delivery on $name', (backend) => {
  describe.skipIf(!backend.available)('', () => {
    let instance: BackendInstance;
    let receiver: Receiver;
    let orgshift: Orgshift;
    let pending: string[];

    /**
     * Runs `test` with the shared instance's dispatcher stopped: dispatchers on
     * one database must agree on their destinations, or one delivers events
     * to its own and marks them done for everyone.
     */
    const alone = async (test: () => Promise<void>) => {
      await outboxOf(orgshift).stop();
      try {
        await test();
      } finally {
        outboxOf(orgshift).start();
      }
    };

    const nextUser = () => {
      const id = pending.shift();
      if (id === undefined) throw new Error('test ran out of legacy users');
      return id;
    };

    beforeAll(async () => {
      instance = await backend.setup('outbox_delivery');
      receiver = new Receiver(SECRET);
      await receiver.start();
      orgshift = await openTest({ ...instance.env, ...FAST, ORGSHIFT_WEBHOOK_URL: credentialedUrl(receiver) });
      await orgshift.seed({ users: 40, dependents: 1, apiKeyShare: 1 });
      const rows = await sql<{ id: string }>`select id from legacy_users order by id`.execute(dbOf(orgshift).kysely);
      pending = rows.rows.map((r) => r.id);
      expect(outboxOf(orgshift).start()).toBe(true);
    });
    afterAll(async () => {
      await orgshift?.close();
      await receiver?.stop();
      await instance?.teardown();
    });

    it('delivers each kind of event once, signed, with the id in a header and mapped fields only', async () => {
      receiver.behaviour = () => 200;
      const [migrated, rolledBack] = [nextUser(), nextUser()];
      await orgshift.getUser(migrated);
      await orgshift.getUser(rolledBack);
      await orgshift.rollbackUser(rolledBack);
      const native = '7f1d2c3b-4a59-4687-8b9c-0d1e2f3a4b5c';
      await orgshift.createUser({ id: native, email: 'native@example.com', displayName: 'Native' });
      await receiver.until(() => receiver.deliveredIds().size === 4);

      const byUser = (id: string) => receiver.received.filter((r) => r.userId === id).map((r) => r.type);
      expect(byUser(migrated)).toEqual(['user.migrated']);
      expect(byUser(rolledBack)).toEqual(['user.migrated', 'user.rolled_back']);
      expect(byUser(native)).toEqual(['user.created']);
      for (const request of receiver.received) {
        expect(request.signatureValid).toBe(true);
        expect(request.eventIdHeader).toBe(request.id);
        // The URL's credentials are sent the standard way, as Basic authentication.
        expect(request.authorization).toBe(`Basic ${Buffer.from(`hook-user:${PASSWORD}`).toString('base64')}`);
        expect(request.path).toBe(`/hook?token=${TOKEN}`);
        const body = JSON.parse(request.body) as OrgshiftEvent;
        expect(Object.keys(body)).toEqual(['id', 'type', 'occurredAt', 'data']);
        expect(Object.keys(body.data).sort()).toEqual(['org', 'orgId', 'user', 'userId']);
        // The demo map: the personal org's id is the user's.
        expect(body.data.orgId).toBe(body.data.userId);
        // The membership's API key is a secret field of the map: never in an event, encrypted or not.
        expect(request.body).not.toMatch(/sk-|api_?key/i);
      }
      const native_ = JSON.parse(receiver.received.find((r) => r.userId === native)?.body ?? '{}') as OrgshiftEvent;
      expect(native_.data).toMatchObject({
        userId: native,
        orgId: native,
        user: { id: native, email: 'native@example.com', display_name: 'Native', current_org_id: native },
        org: { id: native, kind: 'personal', name: 'Native (personal)' },
      });
      const rolledBack_ = receiver.received.find((r) => r.userId === rolledBack && r.type === 'user.rolled_back');
      expect((JSON.parse(rolledBack_?.body ?? '{}') as OrgshiftEvent).data).toMatchObject({
        userId: rolledBack,
        orgId: rolledBack,
        user: { id: rolledBack },
        org: { id: rolledBack, kind: 'personal' },
      });
      const rows = await eventually(
        () => outboxRows(orgshift),
        (r) => r.every((row) => row.delivered),
      );
      expect(rows.map((r) => [r.attempts, r.dead, r.last_error])).toEqual(rows.map(() => [1, false, null]));
    });

    it('retries a receiver answering 500 until it answers 2xx, with the same event id', async () => {
      receiver.behaviour = ({ nth }) => (nth <= 2 ? 500 : 200);
      const id = nextUser();
      await orgshift.getUser(id);
      const [row] = await eventually(
        () => outboxRows(orgshift, id),
        (r) => r[0]?.delivered === true,
      );
      const requests = receiver.received.filter((r) => r.userId === id);
      expect(requests.map((r) => r.answer)).toEqual([500, 500, 200]);
      expect(new Set(requests.map((r) => r.id))).toEqual(new Set([row?.id]));
      expect(row?.attempts).toBe(3);
      expect(row?.last_error).toBe(`webhook #1 (http://127.0.0.1:${receiver.port}): HTTP 500`);
    });

    it('retries a receiver that does not answer in time', async () => {
      receiver.behaviour = ({ nth }) => (nth === 1 ? 'hang' : 200);
      const id = nextUser();
      await orgshift.getUser(id);
      const [row] = await eventually(
        () => outboxRows(orgshift, id),
        (r) => r[0]?.delivered === true,
      );
      expect(receiver.received.filter((r) => r.userId === id).map((r) => [r.id, r.answer])).toEqual([
        [row?.id, 'hang'],
        [row?.id, 200],
      ]);
      expect(row?.last_error).toBe(`webhook #1 (http://127.0.0.1:${receiver.port}): no answer within 1000 ms`);
    });

    it('delivers everything to a receiver that was down for a while, once it is back', async () => {
      receiver.behaviour = () => 200;
      await receiver.stop();
      const ids = [nextUser(), nextUser(), nextUser()];
      for (const id of ids) await orgshift.getUser(id);
      // Each event has been refused at least twice before the receiver comes back.
      await eventually(
        async () => (await outboxRows(orgshift)).filter((r) => ids.includes(r.user_id)),
        (rows) => rows.length === 3 && rows.every((r) => r.attempts >= 2 && !r.delivered),
      );
      await receiver.start();
      const rows = await eventually(
        async () => (await outboxRows(orgshift)).filter((r) => ids.includes(r.user_id)),
        (r) => r.every((row) => row.delivered),
      );
      for (const row of rows) {
        expect(row.last_error).toBe(`webhook #1 (http://127.0.0.1:${receiver.port}): connection refused`);
        expect(receiver.received.filter((r) => r.userId === row.user_id).map((r) => r.id)).toEqual([row.id]);
      }
    });

    it('never puts the URL credentials in an error, the status, the config or the metrics', async () => {
      const status = await outboxOf(orgshift).status();
      const metrics = createMetrics({ processMetrics: false });
      metrics.watchOutbox(() => outboxOf(orgshift).counts());
      const texts = [
        JSON.stringify(status),
        JSON.stringify(internalsOf(orgshift).config.outbox.webhooks),
        inspect(internalsOf(orgshift).config, { depth: 10 }),
        JSON.stringify(await outboxRows(orgshift)),
        await metrics.registry.metrics(),
      ];
      for (const text of texts) {
        expect(text).not.toContain(PASSWORD);
        expect(text).not.toContain(TOKEN);
        expect(text).not.toContain('hook-user');
      }
      expect(status.destinations).toEqual([`webhook #1 (http://127.0.0.1:${receiver.port})`]);
    });

    it('sends to a healthy receiver once while a second one fails, and retries only the failing one', () =>
      alone(async () => {
        const second = new Receiver(SECRET, ({ nth }) => (nth <= 3 ? 503 : 200));
        await second.start();
        const both = await openTest({
          ...instance.env,
          ...FAST,
          ORGSHIFT_WEBHOOK_URL: `${receiver.url()}, ${second.url('/other')}`,
        });
        try {
          receiver.behaviour = () => 200;
          outboxOf(both).start();
          const id = nextUser();
          await both.getUser(id);
          const [row] = await eventually(
            () => outboxRows(both, id),
            (r) => r[0]?.delivered === true,
          );
          expect(receiver.received.filter((r) => r.userId === id).map((r) => r.answer)).toEqual([200]);
          expect(second.received.filter((r) => r.userId === id).map((r) => r.answer)).toEqual([503, 503, 503, 200]);
          expect(row?.attempts).toBe(4);
          expect(row?.last_error).toBe(`webhook #2 (http://127.0.0.1:${second.port}): HTTP 503`);
        } finally {
          await both.close();
          await second.stop();
        }
      }));

    it('runs library handlers with the same retry semantics, each for its own event type', () =>
      alone(async () => {
        const handled = await openTest({ ...instance.env, ...FAST });
        const calls: [string, number][] = [];
        const created: string[] = [];
        try {
          handled.on('user.migrated', (event, { attempt }) => {
            calls.push([event.id, attempt]);
            if (attempt === 1) throw Object.assign(new Error(`secret ${PASSWORD}`), { code: 'EFLAKY' });
          });
          handled.on('user.created', (event) => {
            created.push(event.id);
          });
          const id = nextUser();
          await handled.getUser(id);
          const [row] = await eventually(
            () => outboxRows(handled, id),
            (r) => r[0]?.delivered === true,
          );
          expect(calls).toEqual([
            [row?.id, 1],
            [row?.id, 2],
          ]);
          expect(created).toEqual([]);
          // The handler's class and code are kept, not its message (which may quote anything).
          expect(row?.last_error).toBe('handler #1 (user.migrated): threw Error (EFLAKY)');
        } finally {
          await handled.close();
        }
      }));

    it('marks an event dead after the maximum age, shows it, and redrives it on request', () =>
      alone(async () => {
        const dying = new Receiver(SECRET, () => 500);
        await dying.start();
        const metrics = createMetrics({ processMetrics: false });
        const short = await openTest(
          { ...instance.env, ...FAST, ORGSHIFT_WEBHOOK_URL: dying.url(), ORGSHIFT_OUTBOX_MAX_AGE_MS: '400' },
          { outboxObserver: metrics.outboxObserver },
        );
        metrics.watchOutbox(() => outboxOf(short).counts());
        try {
          outboxOf(short).start();
          const id = nextUser();
          await short.getUser(id);
          const [dead] = await eventually(
            () => outboxRows(short, id),
            (r) => r[0]?.dead === true,
          );
          expect(dead?.delivered).toBe(false);
          expect(dead?.attempts).toBeGreaterThan(1);
          expect((await outboxOf(short).counts()).dead).toBe(1);
          expect((await short.status()).outbox).toMatchObject({ dead: 1 });
          const exposition = await metrics.registry.metrics();
          expect(exposition).toContain('orgshift_outbox_dead_events 1');
          expect(exposition).toContain('orgshift_outbox_dead_total 1');
          expect(exposition).toMatch(/orgshift_outbox_retries_total [1-9]/);

          // A dead event stays dead: nothing is sent while it is.
          const before = dying.received.length;
          await new Promise((resolve) => setTimeout(resolve, 300));
          expect(dying.received.length).toBe(before);

          dying.behaviour = () => 200;
          expect(await outboxOf(short).retry({ dead: true })).toBe(1);
          const [redriven] = await eventually(
            () => outboxRows(short, id),
            (r) => r[0]?.delivered === true,
          );
          expect(redriven?.id).toBe(dead?.id);
          expect(redriven?.dead).toBe(false);
          expect((await outboxOf(short).counts()).dead).toBe(0);
          expect(dying.received.at(-1)).toMatchObject({ id: dead?.id, answer: 200 });
        } finally {
          await short.close();
          await dying.stop();
        }
      }));
  });
});
