import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Executor } from '../../src/db/database.js';
import { isOrgshiftError } from '../../src/errors.js';
import { createLockManager } from '../../src/lock/create-lock-manager.js';
import { LockLostError } from '../../src/lock/errors.js';
import type { LockManager } from '../../src/lock/lock-manager.js';
import { decodeLegacyRow, type LegacyRow, legacySelectList } from '../../src/migration/legacy-rows.js';
import { migrateLockedRows } from '../../src/migration/migrate.js';
import type { PlannedUser } from '../../src/migration/plan.js';
import { internalsOf, type Orgshift } from '../../src/orgshift.js';
import { appendEvents } from '../../src/outbox/append-events.js';
import { migratedEvents } from '../../src/outbox/user-events.js';
import { BACKENDS, type BackendInstance } from '../support/backends.js';
import { dbOf, kyselyOf, outboxOf } from '../support/internals.js';
import { openTest } from '../support/open-test.js';
import { outboxRows } from './support/outbox-rows.js';
import { Receiver } from './support/receiver.js';

const SECRET = 'outbox-rollback-test-secret-0001';
const dialects = BACKENDS.filter((b) => b.name !== 'PostgreSQL + redis lock');

/** Leases that are already lost when granted: whatever the holder writes must roll back at the pre-commit check. */
function lostLeases(inner: LockManager): LockManager {
  return {
    kind: inner.kind,
    async acquire(key, opts) {
      const lease = await inner.acquire(key, opts);
      return Object.assign(Object.create(lease) as typeof lease, {
        lost: AbortSignal.abort(new LockLostError(key, 'expired (forced by the test)')),
        release: () => lease.release(),
      });
    },
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'ok',
    (error: unknown) => (isOrgshiftError(error) ? error.code : String(error)),
  );
}

/** Migrates the given legacy rows in one transaction, as a backfill batch does, with the outbox hook open() installs. */
function migrateBatchOf(orgshift: Orgshift, ids: readonly string[], afterRead?: (trx: Executor) => Promise<void>) {
  const { migration, sql: m } = internalsOf(orgshift);
  const after = (trx: Executor, users: readonly PlannedUser[]) =>
    appendEvents(trx, m.dialect, migratedEvents(m.model, users));
  return dbOf(orgshift).writeTransaction(async (trx) => {
    const result = await sql<Record<string, unknown>>`select ${sql.raw(legacySelectList(m))}
      from ${sql.raw(m.legacy)} l where l.id in (${sql.join(ids)}) ${sql.raw(m.dialect.forUpdate)}`.execute(trx);
    const rows: LegacyRow[] = result.rows.map((row) => decodeLegacyRow(m, row));
    await afterRead?.(trx);
    return migrateLockedRows(trx, migration, rows, undefined, after);
  });
}

describe.each(dialects)('no event for a change that rolled back, on $name', (backend) => {
  describe.skipIf(!backend.available)('', () => {
    let instance: BackendInstance;
    let receiver: Receiver;
    let env: Record<string, string>;
    let orgshift: Orgshift;
    let ids: string[];

    beforeAll(async () => {
      instance = await backend.setup('outbox_rolled_back');
      receiver = new Receiver(SECRET);
      await receiver.start();
      env = {
        ...instance.env,
        ORGSHIFT_WEBHOOK_URL: receiver.url(),
        ORGSHIFT_WEBHOOK_SECRET: SECRET,
        ORGSHIFT_OUTBOX_POLL_MS: '20',
      };
      orgshift = await openTest(env);
      await orgshift.seed({ users: 10, dependents: 1 });
      ids = (
        await sql<{ id: string }>`select id from legacy_users order by id`.execute(dbOf(orgshift).kysely)
      ).rows.map((r) => r.id);
      outboxOf(orgshift).start();
    });
    afterAll(async () => {
      await orgshift?.close();
      await receiver?.stop();
      await instance?.teardown();
    });

    /** Everything due has been tried: what the receiver has not seen by now was never there to send. */
    const settled = () => outboxOf(orgshift).drain('due');

    it('sends nothing for a migration whose lease is lost before commit, then one event once it succeeds', async () => {
      const id = ids[0] as string;
      const inner = createLockManager({ kind: 'memory' });
      const losing = await openTest(env, { locks: lostLeases(inner) });
      try {
        expect(await codeOf(losing.getUser(id))).toBe('lock_lost');
      } finally {
        await losing.close();
        await inner.close();
      }
      await settled();
      expect(await outboxRows(orgshift, id)).toEqual([]);
      expect(receiver.received.filter((r) => r.userId === id)).toEqual([]);
      expect((await orgshift.verifyUser(id)).state).toBe('pending');

      await orgshift.getUser(id);
      await settled();
      const rows = await outboxRows(orgshift, id);
      expect(rows.map((r) => [r.type, r.delivered])).toEqual([['user.migrated', true]]);
      expect(receiver.received.filter((r) => r.userId === id).map((r) => r.id)).toEqual([rows[0]?.id]);
    });

    it('sends nothing for a rollback whose lease is lost before commit', async () => {
      const id = ids[1] as string;
      await orgshift.getUser(id);
      await settled();
      const inner = createLockManager({ kind: 'memory' });
      const losing = await openTest(env, { locks: lostLeases(inner) });
      try {
        expect(await codeOf(losing.rollbackUser(id))).toBe('lock_lost');
      } finally {
        await losing.close();
        await inner.close();
      }
      await settled();
      expect((await outboxRows(orgshift, id)).map((r) => r.type)).toEqual(['user.migrated']);
      expect(receiver.received.filter((r) => r.userId === id).map((r) => r.type)).toEqual(['user.migrated']);
      expect((await orgshift.verifyUser(id)).state).toBe('migrated');
    });

    it('sends nothing for a batch whose fence finds a row marked behind its back', async () => {
      const batch = ids.slice(2, 6);
      // The row is marked inside the batch's transaction after it was read: the set-based write's
      // fence then counts one user fewer than it planned, and the whole batch rolls back.
      const outcome = await codeOf(
        migrateBatchOf(orgshift, batch, async (trx) => {
          await sql`update legacy_users set migrated_at = ${new Date().toISOString()} where id = ${batch[1]}`.execute(
            trx,
          );
        }),
      );
      expect(outcome).toBe('migration_failed');
      await settled();
      for (const id of batch) {
        expect(await outboxRows(orgshift, id)).toEqual([]);
        expect(receiver.received.filter((r) => r.userId === id)).toEqual([]);
      }
    });

    it('writes and sends the events of a batch that commits (the same call, without the fault)', async () => {
      const batch = ids.slice(6, 9);
      const result = await migrateBatchOf(orgshift, batch);
      expect(result.migrated).toHaveLength(3);
      await settled();
      for (const id of batch) {
        const rows = await outboxRows(orgshift, id);
        expect(rows.map((r) => [r.type, r.delivered])).toEqual([['user.migrated', true]]);
        expect(receiver.received.filter((r) => r.userId === id).map((r) => r.id)).toEqual([rows[0]?.id]);
      }
    });
  });
});

describe.skipIf(!dialects[1]?.available)('a lease that expires while its migration is stalled, on PostgreSQL', () => {
  it('ends with one migration and one event, delivered once: the loser never had one', async () => {
    const instance = await (dialects[1] as (typeof dialects)[number]).setup('outbox_lost_race');
    const receiver = new Receiver(SECRET);
    await receiver.start();
    const env = {
      ...instance.env,
      ORGSHIFT_LOCK: 'memory',
      ORGSHIFT_LOCK_TTL_MS: '300',
      ORGSHIFT_LOCK_WAIT_MS: '5000',
      ORGSHIFT_WEBHOOK_URL: receiver.url(),
      ORGSHIFT_WEBHOOK_SECRET: SECRET,
    };
    const observer = await openTest(env);
    const locks = createLockManager({ kind: 'memory' });
    const first = await openTest(env, { locks });
    const second = await openTest(env, { locks });
    const blocker = new pg.Client({ connectionString: instance.env.ORGSHIFT_DATABASE_URL });
    try {
      await observer.seed({ users: 2, dependents: 1 });
      const id = String(
        (await sql<{ id: string }>`select id from legacy_users limit 1`.execute(kyselyOf(observer))).rows[0]?.id,
      );
      outboxOf(observer).start();
      await blocker.connect();
      await blocker.query('begin');
      await blocker.query('select 1 from legacy_users where id = $1 for update', [id]);
      const slow = codeOf(first.getUser(id));
      // The first lease (300 ms) has expired while its migration waits for the row lock.
      await new Promise((resolve) => setTimeout(resolve, 450));
      const fast = codeOf(second.getUser(id));
      await new Promise((resolve) => setTimeout(resolve, 50));
      await blocker.query('commit');
      expect(await fast).toBe('ok');
      expect(['ok', 'lock_lost']).toContain(await slow);
      await outboxOf(observer).drain('due');
      const rows = await outboxRows(observer, id);
      expect(rows.map((r) => [r.type, r.delivered])).toEqual([['user.migrated', true]]);
      expect(receiver.received.filter((r) => r.userId === id).map((r) => r.id)).toEqual([rows[0]?.id]);
    } finally {
      await blocker.end().catch(() => undefined);
      await first.close();
      await second.close();
      await locks.close();
      await observer.close();
      await receiver.stop();
      await instance.teardown();
    }
  });
});
