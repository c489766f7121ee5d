import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
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
/** A fallback poll far beyond any test: a waiter that gets the lock was told, it did not find out by polling. */
const NO_POLL = { pollMinMs: 60_000, pollMaxMs: 60_000 } as const;

/** Fails if `work` has not settled within `seconds`; for waits that, if broken, would hang for a whole poll. */
async function withinSeconds<T>(seconds: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still waiting after ${seconds} s`)), seconds * 1_000);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

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
    // The fence outlives the lock by the retention (60 s by default), never for ever.
    const fencePttl = await raw.pttl(`${prefix}{user:1}:fence`);
    expect(fencePttl).toBeGreaterThan(60_000);
    expect(fencePttl).toBeLessThanOrEqual(65_000);
    await lease.extend(20_000);
    expect(await raw.pttl(`${prefix}{user:1}:lock`)).toBeGreaterThan(15_000);
    expect(await raw.pttl(`${prefix}{user:1}:fence`)).toBeGreaterThan(75_000);
    expect(await lease.release()).toBe(true);
    expect(await raw.exists(`${prefix}{user:1}:lock`)).toBe(0);
    const kept = await raw.pttl(`${prefix}{user:1}:fence`);
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(60_000);
  });

  it('fences follow the Redis clock, and stay above a kept fence that is ahead of it', async () => {
    const locks = manager();
    const [seconds, micros] = (await raw.time()) as [number, number];
    const serverNow = BigInt(seconds) * 1_000_000n + BigInt(micros);
    const first = await locks.acquire('clock', LONG);
    expect(first.fence >= serverNow).toBe(true);
    expect(first.fence < serverNow + 60_000_000n).toBe(true);
    expect(await first.release()).toBe(true);
    // As if the server clock had been stepped back an hour since: the kept fence still wins.
    const ahead = serverNow + 3_600_000_000n;
    await raw.set(`${prefix}{clock}:fence`, ahead.toString(), 'PX', 60_000);
    const second = await locks.acquire('clock', LONG);
    expect(second.fence).toBe(ahead + 1n);
    expect(await second.release()).toBe(true);
  });

  it('a fence beats the last one even after Redis forgot the key entirely', async () => {
    const locks = manager({ fenceRetentionMs: 50 });
    const first = await locks.acquire('forgotten', LONG);
    expect(await first.release()).toBe(true);
    await expect.poll(() => raw.exists(`${prefix}{forgotten}:fence`), { timeout: 2_000, interval: 20 }).toBe(0);
    const second = await locks.acquire('forgotten', LONG);
    expect(second.fence > first.fence).toBe(true);
    expect(await second.release()).toBe(true);
  });

  it('Redis memory is bounded by the keys held lately: 300 keys locked and released all expire', async () => {
    const own = testRedisPrefix('lock-redis-bounded');
    const options = { fenceRetentionMs: 2_000, ...NO_POLL };
    const locks = new RedisLockManager({ url: REDIS_URL, prefix: own }, options);
    const others = new RedisLockManager({ url: REDIS_URL, prefix: own }, options);
    managers.push(locks, others);
    const keys = async () => {
      const found: string[] = [];
      for await (const batch of raw.scanStream({ match: `${own}*`, count: 1_000 })) found.push(...(batch as string[]));
      return found;
    };
    for (let i = 0; i < 300; i++) {
      const lease = await locks.acquire(`user:${i}`, LONG);
      if (i % 10 === 0) {
        // Every tenth key also has a waiter, so its queue exists for a while.
        const waiting = others.acquire(`user:${i}`, LONG);
        await expect.poll(() => raw.llen(`${own}{user:${i}}:queue`), { timeout: 5_000, interval: 2 }).toBe(1);
        expect(await lease.release()).toBe(true);
        expect(await (await withinSeconds(10, waiting)).release()).toBe(true);
      } else {
        expect(await lease.release()).toBe(true);
      }
    }
    // What is left are the recently used fences, each with a TTL no longer than the retention...
    const left = await keys();
    expect(left.every((key) => key.endsWith(':fence'))).toBe(true);
    for (const key of left) {
      const pttl = await raw.pttl(key);
      // -2: expired between the scan and this look; 0: in its last millisecond.
      expect(pttl === -2 || (pttl >= 0 && pttl <= 2_000)).toBe(true);
    }
    // ...and then nothing at all.
    await expect.poll(async () => (await keys()).length, { timeout: 10_000, interval: 100 }).toBe(0);
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

  it('a release hands the lock to the queued waiter and tells its process alone', async () => {
    const holder = await manager().acquire('k', LONG);
    const queued = () => raw.llen(`${prefix}{k}:queue`);
    const waiting = manager(NO_POLL).acquire('k', LONG);
    await expect.poll(queued, { timeout: 5_000, interval: 5 }).toBe(1);
    const bystander = manager(NO_POLL).acquire('k', LONG);
    await expect.poll(queued, { timeout: 5_000, interval: 5 }).toBe(2);
    const grantChannels = async () => (await raw.pubsub('CHANNELS', `${prefix}{k}:granted:*`)) as string[];
    expect(await grantChannels()).toHaveLength(2);
    await holder.release();
    // The poll would take a minute: only the published grant explains this.
    const next = await withinSeconds(10, waiting);
    expect(next.fence > holder.fence).toBe(true);
    expect(await raw.get(`${prefix}{k}:lock`)).toBe(next.token);
    expect(await raw.llen(`${prefix}{k}:queue`)).toBe(1);
    expect(await next.release()).toBe(true);
    const last = await withinSeconds(10, bystander);
    expect(last.fence > next.fence).toBe(true);
    expect(await last.release()).toBe(true);
    expect(await raw.exists(`${prefix}{k}:queue`, `${prefix}{k}:waiters`)).toBe(0);
    // Subscriptions outlive their last waiter briefly (a hot key is waited on again soon), then go.
    await expect.poll(grantChannels, { timeout: 5_000, interval: 50 }).toEqual([]);
  });

  it('hands the lock over in arrival order, across managers', async () => {
    const holder = await manager().acquire('fifo', LONG);
    const order: number[] = [];
    const waiters: Promise<void>[] = [];
    for (let i = 0; i < 4; i++) {
      waiters.push(
        manager(NO_POLL)
          .acquire('fifo', LONG)
          .then(async (lease) => {
            order.push(i);
            expect(await lease.release()).toBe(true);
          }),
      );
      // Each one queued before the next asks.
      await expect.poll(() => raw.llen(`${prefix}{fifo}:queue`), { timeout: 5_000, interval: 5 }).toBe(i + 1);
    }
    await holder.release();
    await withinSeconds(10, Promise.all(waiters));
    expect(order).toEqual([0, 1, 2, 3]);
  });

  describe('no lost wake-up, whatever the order of "waiter subscribes" and "holder releases"', () => {
    const subscribe = Redis.prototype.subscribe;
    afterEach(() => {
      vi.restoreAllMocks();
    });

    /** Runs `release` at one point of the waiter's subscription, then checks the waiter got the lock at once. */
    const raceAt = async (point: 'before SUBSCRIBE is sent' | 'after SUBSCRIBE is acknowledged') => {
      const holder = await manager().acquire('race', LONG);
      const waiterLocks = manager(NO_POLL);
      await waiterLocks.ping();
      let released: Promise<boolean> | undefined;
      const spy = vi.spyOn(Redis.prototype, 'subscribe').mockImplementationOnce(async function (this: Redis, ...args) {
        if (point === 'before SUBSCRIBE is sent') {
          released = holder.release();
          await released;
          return (subscribe as (...a: unknown[]) => Promise<unknown>).apply(this, args);
        }
        const answer = await (subscribe as (...a: unknown[]) => Promise<unknown>).apply(this, args);
        released = holder.release();
        await released;
        return answer;
      } as typeof subscribe);
      const next = await withinSeconds(10, waiterLocks.acquire('race', LONG));
      expect(spy).toHaveBeenCalledOnce();
      expect(await released).toBe(true);
      expect(next.fence > holder.fence).toBe(true);
      expect(await raw.get(`${prefix}{race}:lock`)).toBe(next.token);
      expect(await next.release()).toBe(true);
    };

    it('the holder releases after the first try failed, before the waiter subscribes', async () => {
      await raceAt('before SUBSCRIBE is sent');
    });

    it('the holder releases after the waiter subscribed, before it queues', async () => {
      await raceAt('after SUBSCRIBE is acknowledged');
    });

    it('the holder releases after the waiter queued', async () => {
      const holder = await manager().acquire('race', LONG);
      const waiting = manager(NO_POLL).acquire('race', LONG);
      await expect.poll(() => raw.llen(`${prefix}{race}:queue`), { timeout: 5_000, interval: 5 }).toBe(1);
      expect(await holder.release()).toBe(true);
      const next = await withinSeconds(10, waiting);
      expect(await next.release()).toBe(true);
    });
  });

  it('skips a queued waiter whose process is gone (nobody hears its channel)', async () => {
    const holder = await manager().acquire('k', LONG);
    // A waiter that queued and died: in the queue, far from its deadline, its channel unheard.
    const ghost = 'a'.repeat(32);
    await raw.rpush(`${prefix}{k}:queue`, ghost);
    await raw.hset(`${prefix}{k}:waiters`, ghost, `${Date.now() + 60_000} 30000 ${prefix}{k}:granted:gone`);
    const waiting = manager(NO_POLL).acquire('k', LONG);
    await expect.poll(() => raw.llen(`${prefix}{k}:queue`), { timeout: 5_000, interval: 5 }).toBe(2);
    await holder.release();
    const next = await withinSeconds(10, waiting);
    expect(await raw.get(`${prefix}{k}:lock`)).toBe(next.token);
    expect(await raw.exists(`${prefix}{k}:queue`, `${prefix}{k}:waiters`)).toBe(0);
    expect(await next.release()).toBe(true);
  });

  it('a waiter that times out or aborts leaves the queue, and is never handed the lock', async () => {
    const holder = await manager().acquire('k', LONG);
    const controller = new AbortController();
    const impatient = manager(NO_POLL).acquire('k', { ttlMs: 30_000, waitMs: 200 });
    const aborted = manager(NO_POLL)
      .acquire('k', { ...LONG, signal: controller.signal })
      .catch((e: unknown) => e);
    await expect.poll(() => raw.llen(`${prefix}{k}:queue`), { timeout: 5_000, interval: 5 }).toBe(2);
    controller.abort(new Error('caller gave up'));
    await expect(impatient).rejects.toBeInstanceOf(LockTimeoutError);
    expect(String(await aborted)).toMatch('caller gave up');
    await expect.poll(() => raw.exists(`${prefix}{k}:queue`, `${prefix}{k}:waiters`), { timeout: 2_000 }).toBe(0);
    expect(await holder.release()).toBe(true);
    expect(await raw.exists(`${prefix}{k}:lock`)).toBe(0);
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
    await expect.poll(() => raw.llen(`${prefix}{k}:queue`), { timeout: 5_000, interval: 5 }).toBe(1);
    await locks.close();
    expect(await waiting).toBeInstanceOf(LockUnavailableError);
    expect(holder.lost.reason).toBeInstanceOf(LockLostError);
    // Nothing left behind: neither the lock nor the ended waiter's place in the queue.
    expect(await raw.exists(`${prefix}{k}:lock`, `${prefix}{k}:queue`, `${prefix}{k}:waiters`)).toBe(0);
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
