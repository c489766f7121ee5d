import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createLockManager } from '../../src/lock/create-lock-manager.js';
import { LockLostError, LockTimeoutError, LockUnavailableError } from '../../src/lock/errors.js';
import { RedisLockManager, type RedisLockManagerOptions } from '../../src/lock/redis.js';
import {
  createTestDatabase,
  describePostgresRedis,
  describeRedis,
  REDIS_URL,
  type TestDatabase,
  testRedisPrefix,
} from '../support/services.js';
import { runContention } from './fixtures/contention.js';
import { freePort } from './fixtures/owned-redis.js';

const LONG = { ttlMs: 30_000, waitMs: 5_000 } as const;

describeRedis('redis lock manager', () => {
  const prefix = testRedisPrefix('lock-redis');
  let raw: Redis;
  const managers: RedisLockManager[] = [];

  const manager = (options: RedisLockManagerOptions = {}) => {
    const made = new RedisLockManager({ url: REDIS_URL, prefix }, options);
    managers.push(made);
    return made;
  };

  beforeAll(() => {
    raw = new Redis(REDIS_URL);
  });
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.close()));
  });
  afterAll(async () => {
    const keys = await raw.keys(`${prefix}*`);
    if (keys.length > 0) await raw.del(...keys);
    raw.disconnect();
  });

  it('is what createLockManager builds for kind redis', async () => {
    const made = createLockManager({ kind: 'redis', url: REDIS_URL, prefix });
    expect(made.kind).toBe('redis');
    await made.ping();
    await made.close();
  });

  it('stores token and fence under hash-tagged keys, with the ttl', async () => {
    const lease = await manager().acquire('user:1', { ttlMs: 5_000, waitMs: 0 });
    expect(lease.token).toMatch(/^[0-9a-f]{32}$/);
    expect(await raw.get(`${prefix}{user:1}:lock`)).toBe(lease.token);
    expect(await raw.get(`${prefix}{user:1}:fence`)).toBe(lease.fence.toString());
    const pttl = await raw.pttl(`${prefix}{user:1}:lock`);
    expect(pttl).toBeGreaterThan(4_000);
    expect(pttl).toBeLessThanOrEqual(5_000);
    await lease.extend(20_000);
    expect(await raw.pttl(`${prefix}{user:1}:lock`)).toBeGreaterThan(15_000);
    expect(await lease.release()).toBe(true);
    expect(await raw.exists(`${prefix}{user:1}:lock`)).toBe(0);
  });

  it('two acquirers in one process exclude each other; fences strictly increase', async () => {
    const locks = manager();
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
    await Promise.all(Array.from({ length: 30 }, worker));
    expect(maxInside).toBe(1);
    for (let i = 1; i < fences.length; i++) expect(fences[i]! > fences[i - 1]!).toBe(true);
  });

  it('returns false for a foreign token and keeps the holder', async () => {
    const locks = manager();
    const holder = await locks.acquire('k', LONG);
    expect(await locks.releaseToken('k', 'f'.repeat(32))).toBe(false);
    expect(await raw.get(`${prefix}{k}:lock`)).toBe(holder.token);
    await expect(manager().acquire('k', { ttlMs: 1_000, waitMs: 0 })).rejects.toBeInstanceOf(LockTimeoutError);
    expect(await holder.release()).toBe(true);
    expect(await holder.release()).toBe(false);
    expect(await locks.releaseToken('k', holder.token)).toBe(false);
  });

  it('a holder that stops renewing loses the lock: lost fires, the next waiter gets a higher fence', async () => {
    const first = await manager({ autoRenew: false }).acquire('k', { ttlMs: 300, waitMs: 0 });
    const started = Date.now();
    const second = await manager().acquire('k', { ttlMs: 5_000, waitMs: 3_000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    await expect.poll(() => first.lost.aborted, { timeout: 500 }).toBe(true);
    expect(first.lost.reason).toBeInstanceOf(LockLostError);
    expect(second.fence > first.fence).toBe(true);
    expect(await first.release()).toBe(false);
    await expect(first.extend()).rejects.toBeInstanceOf(LockLostError);
    expect(await raw.get(`${prefix}{k}:lock`)).toBe(second.token);
    expect(await second.release()).toBe(true);
  });

  it('renews automatically at ttl/3, far past the first ttl', async () => {
    const lease = await manager().acquire('k', { ttlMs: 300, waitMs: 0 });
    await sleep(1_000);
    expect(lease.lost.aborted).toBe(false);
    expect(await raw.pttl(`${prefix}{k}:lock`)).toBeGreaterThan(0);
    await expect(manager().acquire('k', { ttlMs: 1_000, waitMs: 0 })).rejects.toBeInstanceOf(LockTimeoutError);
    expect(await lease.release()).toBe(true);
  });

  it('a renewal that finds the key taken by someone else fires lost', async () => {
    const lease = await manager().acquire('stolen', { ttlMs: 600, waitMs: 0 });
    await raw.set(`${prefix}{stolen}:lock`, 'someone-else', 'PX', 5_000);
    await expect.poll(() => lease.lost.aborted, { timeout: 1_000, interval: 20 }).toBe(true);
    expect(String(lease.lost.reason)).toMatch(/taken|expired/);
    expect(await lease.release()).toBe(false);
    expect(await raw.get(`${prefix}{stolen}:lock`)).toBe('someone-else');
  });

  it('bounds the wait with LockTimeoutError', async () => {
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

  it('a release is published: the waiter wakes long before its poll would', async () => {
    const holder = await manager().acquire('k', LONG);
    const waiting = manager({ pollMinMs: 10_000, pollMaxMs: 10_000 }).acquire('k', LONG);
    const subscribers = async () => ((await raw.pubsub('NUMSUB', `${prefix}{k}:released`)) as [string, number])[1];
    await expect.poll(subscribers, { timeout: 5_000, interval: 10 }).toBe(1);
    const released = Date.now();
    await holder.release();
    const next = await waiting;
    // The poll would take 10 s; only the published release explains a prompt wake-up.
    expect(Date.now() - released).toBeLessThan(1_000);
    await expect.poll(subscribers, { timeout: 1_000, interval: 10 }).toBe(0);
    expect(await next.release()).toBe(true);
  });

  it('a lost wake-up costs only a poll interval', async () => {
    const holder = await manager().acquire('k', LONG);
    const waiting = manager().acquire('k', LONG);
    await sleep(100);
    const vanished = Date.now();
    // Deleted behind the lock's back: no publish, so only the fallback poll can notice.
    await raw.del(`${prefix}{k}:lock`);
    const next = await waiting;
    expect(Date.now() - vanished).toBeLessThan(1_000);
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
    const next = await locks.acquire('k', { ttlMs: 1_000, waitMs: 0 });
    expect(await next.release()).toBe(true);
  });

  it('close() ends waiters with LockUnavailableError, marks holders lost and frees their keys', async () => {
    const locks = manager();
    const holder = await locks.acquire('k', LONG);
    const waiting = locks.acquire('k', LONG).catch((e: unknown) => e);
    await sleep(30);
    await locks.close();
    expect(await waiting).toBeInstanceOf(LockUnavailableError);
    expect(holder.lost.reason).toBeInstanceOf(LockLostError);
    expect(await raw.exists(`${prefix}{k}:lock`)).toBe(0);
    await expect(locks.acquire('k', LONG)).rejects.toBeInstanceOf(LockUnavailableError);
  });

  it('a closed port gives LockUnavailableError within 2 s', async () => {
    const port = await freePort();
    const down = new RedisLockManager({ url: `redis://127.0.0.1:${port}`, prefix });
    managers.push(down);
    const started = Date.now();
    const error = await down.acquire('k', LONG).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockUnavailableError);
    expect(Date.now() - started).toBeLessThan(2_000);
    const pinged = Date.now();
    await expect(down.ping()).rejects.toBeInstanceOf(LockUnavailableError);
    expect(Date.now() - pinged).toBeLessThan(2_000);
  });
});

describePostgresRedis('redis lock manager across processes', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('lock_redis');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('excludes 50 acquirers of one key spread over 3 processes', async () => {
    const prefix = testRedisPrefix('lock-redis-xproc');
    const report = await runContention({
      lock: { kind: 'redis', url: REDIS_URL, prefix },
      logUrl: db.url,
      key: 'user:contended',
      processes: 3,
      acquirers: 50,
      holdMs: 3,
    });
    expect(report.failures).toEqual([]);
    expect(report).toMatchObject({ done: 50, entries: 50, workers: 3, counter: 50, overlaps: 0, fenceInversions: 0 });
    const raw = new Redis(REDIS_URL);
    await raw.del(`${prefix}{user:contended}:lock`, `${prefix}{user:contended}:fence`);
    raw.disconnect();
  });
});
