import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { LockLostError, LockUnavailableError } from '../../src/lock/errors.js';
import { RedisLockManager } from '../../src/lock/redis.js';
import { describeRedis, testRedisPrefix } from '../support/services.js';
import { OwnedRedis } from './fixtures/owned-redis.js';

/**
 * Outages on a redis-server this file owns: killed mid-test, paused past the
 * TTL. The lock must fail fast and loudly, never hang, never crash the process.
 */
describeRedis('redis lock manager when Redis fails', () => {
  let redis: OwnedRedis;
  const managers: RedisLockManager[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  const manager = () => {
    const made = new RedisLockManager({
      url: redis.url,
      prefix: testRedisPrefix('lock-outage'),
      commandTimeoutMs: 500,
    });
    managers.push(made);
    return made;
  };

  beforeAll(async () => {
    redis = await OwnedRedis.start();
    process.on('unhandledRejection', onUnhandled);
  });
  beforeEach(() => {
    unhandled.length = 0;
  });
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.close()));
    // Give stray timers a chance to misbehave before the check.
    await sleep(50);
    expect(unhandled).toEqual([]);
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await redis?.kill();
  });

  it('a server that dies: waiters and new acquires fail fast, holders learn they lost, the manager heals', async () => {
    const locks = manager();
    const held = await locks.acquire('k', { ttlMs: 1_500, waitMs: 0 });
    const waiting = locks.acquire('k', { ttlMs: 1_500, waitMs: 20_000 }).catch((e: unknown) => e);
    await sleep(50);

    const killed = Date.now();
    await redis.kill();
    expect(await waiting).toBeInstanceOf(LockUnavailableError);
    expect(Date.now() - killed).toBeLessThan(2_000);

    const started = Date.now();
    await expect(locks.acquire('other', { ttlMs: 1_000, waitMs: 5_000 })).rejects.toBeInstanceOf(LockUnavailableError);
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect(locks.ping()).rejects.toBeInstanceOf(LockUnavailableError);

    await expect.poll(() => held.lost.aborted, { timeout: 1_500 }).toBe(true);
    expect(held.lost.reason).toBeInstanceOf(LockLostError);
    expect(await held.release()).toBe(false);

    await redis.start();
    await expect
      .poll(
        () =>
          locks.ping().then(
            () => true,
            () => false,
          ),
        { timeout: 5_000, interval: 100 },
      )
      .toBe(true);
    const healed = await locks.acquire('k', { ttlMs: 1_000, waitMs: 0 });
    expect(await healed.release()).toBe(true);
  });

  it('fences keep increasing across a restart that lost every key', async () => {
    const locks = manager();
    const before = await locks.acquire('k', { ttlMs: 1_000, waitMs: 0 });
    expect(await before.release()).toBe(true);
    await redis.kill();
    // No persistence configured: the server comes back empty.
    await redis.start();
    await expect
      .poll(
        () =>
          locks.ping().then(
            () => true,
            () => false,
          ),
        { timeout: 5_000, interval: 100 },
      )
      .toBe(true);
    expect(await redis.command('dbsize')).toBe(0);
    const after = await locks.acquire('k', { ttlMs: 1_000, waitMs: 0 });
    expect(after.fence > before.fence).toBe(true);
    expect(await after.release()).toBe(true);
  });

  it('scripts survive SCRIPT FLUSH (EVALSHA falls back to EVAL)', async () => {
    const locks = manager();
    await (await locks.acquire('k', { ttlMs: 1_000, waitMs: 0 })).release();
    await redis.command('script', 'flush');
    const lease = await locks.acquire('k', { ttlMs: 1_000, waitMs: 0 });
    await lease.extend();
    expect(await lease.release()).toBe(true);
  });

  it('CLIENT PAUSE longer than the TTL: the lease reports lost', async () => {
    const locks = manager();
    await locks.ping();
    const lease = await locks.acquire('k', { ttlMs: 600, waitMs: 0 });
    const paused = Date.now();
    await redis.command('client', 'pause', 1_500, 'ALL');
    await expect.poll(() => lease.lost.aborted, { timeout: 1_000, interval: 20 }).toBe(true);
    // Well before the pause ends (1.5 s): the TTL watchdog, not a late reply, reported it.
    expect(Date.now() - paused).toBeLessThan(1_400);
    expect(lease.lost.reason).toBeInstanceOf(LockLostError);
    // After the pause the server answers again; the lease stays lost, the manager works.
    await sleep(Math.max(0, paused + 1_600 - Date.now()));
    await lease.release();
    const next = await locks.acquire('k', { ttlMs: 1_000, waitMs: 2_000 });
    expect(await next.release()).toBe(true);
  });
});
