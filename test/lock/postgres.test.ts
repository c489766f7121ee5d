import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { advisoryKey } from '../../src/lock/advisory-key.js';
import { createLockManager } from '../../src/lock/create-lock-manager.js';
import { LockLostError, LockTimeoutError, LockUnavailableError } from '../../src/lock/errors.js';
import { PostgresLockManager, type PostgresLockManagerOptions } from '../../src/lock/postgres.js';
import type { PostgresLease } from '../../src/lock/postgres-lease.js';
import { createTestDatabase, describePostgres, type TestDatabase } from '../support/services.js';
import { runContention } from './fixtures/contention.js';

const LONG = { ttlMs: 30_000, waitMs: 5_000 } as const;

describePostgres('postgres lock manager', () => {
  let db: TestDatabase;
  let admin: pg.Client;
  const managers: PostgresLockManager[] = [];

  const manager = (poolSize?: number, options: PostgresLockManagerOptions = {}) => {
    const made = new PostgresLockManager({ url: db.url, poolSize }, options);
    managers.push(made);
    return made;
  };

  const sessionsNamed = async (name: string) => {
    const { rows } = await admin.query<{ n: number }>(
      'select count(*)::int as n from pg_stat_activity where application_name = $1 and datname = $2',
      [name, db.name],
    );
    return rows[0]!.n;
  };

  /** Sessions of `name` blocked on an advisory lock. */
  const waitingAtServer = async (name: string) => {
    const { rows } = await admin.query<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity
        where application_name = $1 and datname = $2 and wait_event_type = 'Lock' and wait_event = 'advisory'`,
      [name, db.name],
    );
    return rows[0]!.n;
  };

  beforeAll(async () => {
    db = await createTestDatabase('lock_pg');
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
  });
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.close()));
  });
  afterAll(async () => {
    await admin?.end();
    await db?.drop();
  });

  it('excludes 50 acquirers of one key spread over 3 processes', async () => {
    const report = await runContention({
      lock: { kind: 'postgres', url: db.url, poolSize: 6 },
      logUrl: db.url,
      key: 'user:contended',
      processes: 3,
      acquirers: 50,
      holdMs: 3,
    });
    expect(report.failures).toEqual([]);
    expect(report).toMatchObject({ done: 50, entries: 50, workers: 3, counter: 50, overlaps: 0, fenceInversions: 0 });
  });

  it('is what createLockManager builds for kind postgres', async () => {
    const made = createLockManager({ kind: 'postgres', url: db.url });
    expect(made.kind).toBe('postgres');
    await made.ping();
    await made.close();
  });

  it('hashes keys to the first 8 bytes of their SHA-256, as a signed bigint', async () => {
    for (const key of ['user:1', 'user:00000000-0000-0000-0000-000000000000', 'ключ']) {
      const { rows } = await admin.query<{ k: string }>(
        `select ('x' || substr(encode(sha256(convert_to($1, 'UTF8')), 'hex'), 1, 16))::bit(64)::bigint::text as k`,
        [key],
      );
      expect(advisoryKey(key).toString()).toBe(rows[0]!.k);
    }
  });

  it('two acquirers in one process exclude each other (advisory locks are re-entrant per session)', async () => {
    const locks = manager();
    const first = await locks.acquire('k', LONG);
    await expect(locks.acquire('k', { ttlMs: 1_000, waitMs: 100 })).rejects.toBeInstanceOf(LockTimeoutError);
    await expect(locks.acquire('k', { ttlMs: 1_000, waitMs: 0 })).rejects.toBeInstanceOf(LockTimeoutError);
    let inside = 0;
    let maxInside = 0;
    const fences: bigint[] = [];
    const worker = async () => {
      const lease = await locks.acquire('k', LONG);
      inside += 1;
      maxInside = Math.max(maxInside, inside);
      fences.push(lease.fence);
      await sleep(1);
      inside -= 1;
      expect(await lease.release()).toBe(true);
    };
    const workers = Promise.all(Array.from({ length: 30 }, worker));
    await sleep(20);
    expect(await first.release()).toBe(true);
    await workers;
    expect(maxInside).toBe(1);
    for (let i = 1; i < fences.length; i++) expect(fences[i]! > fences[i - 1]!).toBe(true);
    expect(fences[0]! > first.fence).toBe(true);
  });

  it('reuses idle connections, bounds them, and close() ends them all', async () => {
    const name = `orgshift-lock-test-${process.pid}`;
    const locks = manager(3, { applicationName: name });
    for (let i = 0; i < 20; i++) await (await locks.acquire(`k${i}`, LONG)).release();
    expect(await sessionsNamed(name)).toBe(1);
    const held = await Promise.all([0, 1, 2].map((i) => locks.acquire(`held${i}`, LONG)));
    const started = Date.now();
    // The pool is full of holders: a fourth acquirer waits for a connection, boundedly.
    await expect(locks.acquire('other', { ttlMs: 1_000, waitMs: 150 })).rejects.toBeInstanceOf(LockTimeoutError);
    expect(Date.now() - started).toBeLessThan(250);
    expect(await sessionsNamed(name)).toBe(3);
    const queued = locks.acquire('other', LONG);
    await held[0]!.release();
    await (await queued).release();
    await locks.close();
    expect(await sessionsNamed(name)).toBe(0);
    expect(held[1]!.lost.aborted).toBe(true);
    await expect(locks.acquire('k', LONG)).rejects.toBeInstanceOf(LockUnavailableError);
  });

  it('a hot key sends one waiter per process to the server, so it cannot drain the pool', async () => {
    const name = `orgshift-lock-hot-${process.pid}`;
    const locks = manager(3, { applicationName: name });
    const holder = await locks.acquire('hot', LONG);
    const waiters = Array.from({ length: 20 }, () =>
      locks.acquire('hot', LONG).then(async (lease) => {
        await sleep(1);
        return lease.release();
      }),
    );
    // The holder's connection and one waiting at the server; the other 19 wait in the process.
    await expect.poll(() => waitingAtServer(name), { timeout: 5_000, interval: 10 }).toBe(1);
    expect(await sessionsNamed(name)).toBe(2);
    const cold = await locks.acquire('cold', { ttlMs: 1_000, waitMs: 0 });
    expect(await cold.release()).toBe(true);
    await holder.release();
    expect(await Promise.all(waiters)).toEqual(Array.from({ length: 20 }, () => true));
    expect(await sessionsNamed(name)).toBeLessThanOrEqual(3);
  });

  it('returns false for a foreign token and keeps the holder', async () => {
    const locks = manager();
    const holder = await locks.acquire('k', LONG);
    expect(await locks.releaseToken('k', 'forged-token')).toBe(false);
    await expect(manager().acquire('k', { ttlMs: 1_000, waitMs: 50 })).rejects.toBeInstanceOf(LockTimeoutError);
    expect(holder.lost.aborted).toBe(false);
    expect(await holder.release()).toBe(true);
    expect(await holder.release()).toBe(false);
  });

  it('expires a holder that does not extend: lost fires, unlocks, the next waiter gets a higher fence', async () => {
    const first = await manager().acquire('k', { ttlMs: 200, waitMs: 0 });
    const started = Date.now();
    const second = await manager().acquire('k', { ttlMs: 5_000, waitMs: 3_000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(first.lost.reason).toBeInstanceOf(LockLostError);
    expect(second.fence > first.fence).toBe(true);
    expect(await first.release()).toBe(false);
    await expect(first.extend()).rejects.toBeInstanceOf(LockLostError);
    expect(await second.release()).toBe(true);
  });

  it('extend keeps the lease past its first ttl', async () => {
    const lease = await manager().acquire('k', { ttlMs: 400, waitMs: 0 });
    for (let i = 0; i < 4; i++) {
      await sleep(150);
      await lease.extend();
    }
    expect(lease.lost.aborted).toBe(false);
    expect(await lease.release()).toBe(true);
  });

  it('bounds the wait with LockTimeoutError, the server doing the waiting', async () => {
    const holder = await manager().acquire('k', LONG);
    const waiter = manager();
    await waiter.ping();
    const started = Date.now();
    // A plain 300 ms timer started alongside: on a loaded machine both run late by the same amount.
    const control = sleep(300).then(() => Date.now() - started);
    const error = await waiter.acquire('k', { ttlMs: 1_000, waitMs: 300 }).catch((e: unknown) => e);
    const waited = Date.now() - started;
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(waited).toBeLessThan((await control) + 100);
    expect(await holder.release()).toBe(true);
  });

  it('terminating the holder backend fires lost and lets the next waiter in', async () => {
    const holder = (await manager().acquire('k', LONG)) as PostgresLease;
    const waiting = manager().acquire('k', LONG);
    await sleep(50);
    const started = Date.now();
    await admin.query('select pg_terminate_backend($1)', [holder.backendPid]);
    const next = await waiting;
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect.poll(() => holder.lost.aborted, { timeout: 1_000 }).toBe(true);
    expect(holder.lost.reason).toBeInstanceOf(LockLostError);
    expect(next.fence > holder.fence).toBe(true);
    expect(await holder.release()).toBe(false);
    expect(await next.release()).toBe(true);
  });

  it('an aborted waiter gives up at once and leaves no lock behind', async () => {
    const locks = manager();
    const holder = await locks.acquire('k', LONG);
    const controller = new AbortController();
    const waiting = locks.acquire('k', { ...LONG, signal: controller.signal });
    await sleep(30);
    controller.abort(new Error('caller gave up'));
    await expect(waiting).rejects.toThrow('caller gave up');
    expect(await holder.release()).toBe(true);
    const next = await locks.acquire('k', { ttlMs: 1_000, waitMs: 500 });
    expect(await next.release()).toBe(true);
  });

  it('an unreachable server gives LockUnavailableError quickly', async () => {
    const locks = manager(2, { connectTimeoutMs: 1_000 });
    const down = new PostgresLockManager({ url: 'postgres://postgres@127.0.0.1:1/none' }, { connectTimeoutMs: 1_000 });
    managers.push(down);
    const started = Date.now();
    await expect(down.acquire('k', LONG)).rejects.toBeInstanceOf(LockUnavailableError);
    await expect(down.ping()).rejects.toBeInstanceOf(LockUnavailableError);
    expect(Date.now() - started).toBeLessThan(2_000);
    await locks.ping();
  });
});
