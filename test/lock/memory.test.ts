import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLockManager } from '../../src/lock/create-lock-manager.js';
import { LockLostError, LockTimeoutError, LockUnavailableError } from '../../src/lock/errors.js';
import type { Lease } from '../../src/lock/lock-manager.js';
import { MemoryLockManager } from '../../src/lock/memory.js';

const LONG = { ttlMs: 30_000, waitMs: 5_000 } as const;

describe('memory lock manager', () => {
  let locks: MemoryLockManager;

  beforeEach(() => {
    locks = new MemoryLockManager();
  });
  afterEach(async () => {
    await locks.close();
  });

  it('is what createLockManager builds for kind memory', async () => {
    const made = createLockManager({ kind: 'memory' });
    expect(made.kind).toBe('memory');
    await made.ping();
    await made.close();
  });

  it('lets one of many concurrent acquirers in at a time, with strictly increasing fences', async () => {
    let inside = 0;
    let maxInside = 0;
    const fences: bigint[] = [];
    const worker = async () => {
      const lease = await locks.acquire('k', LONG);
      inside += 1;
      maxInside = Math.max(maxInside, inside);
      fences.push(lease.fence);
      await sleep(Math.random() < 0.5 ? 0 : 1);
      inside -= 1;
      expect(await lease.release()).toBe(true);
    };
    await Promise.all(Array.from({ length: 200 }, worker));
    expect(maxInside).toBe(1);
    expect(fences).toHaveLength(200);
    for (let i = 1; i < fences.length; i++) expect(fences[i]! > fences[i - 1]!).toBe(true);
  });

  it('serves waiters in FIFO order', async () => {
    const holder = await locks.acquire('k', LONG);
    const order: number[] = [];
    const waiters = [0, 1, 2, 3, 4].map(async (n) => {
      const lease = await locks.acquire('k', LONG);
      order.push(n);
      await sleep(1);
      await lease.release();
    });
    await holder.release();
    await Promise.all(waiters);
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });

  it('does not let a newcomer barge past queued waiters', async () => {
    const holder = await locks.acquire('k', LONG);
    const queued = locks.acquire('k', LONG);
    await holder.release();
    await expect(locks.acquire('k', { ttlMs: 1_000, waitMs: 0 })).rejects.toBeInstanceOf(LockTimeoutError);
    await (await queued).release();
  });

  it('keeps different keys independent', async () => {
    const a = await locks.acquire('a', LONG);
    const b = await locks.acquire('b', { ttlMs: 1_000, waitMs: 0 });
    expect(await a.release()).toBe(true);
    expect(await b.release()).toBe(true);
  });

  it('expires a holder that stops extending: lost fires, the next waiter gets a higher fence', async () => {
    const first = await locks.acquire('k', { ttlMs: 60, waitMs: 0 });
    const started = Date.now();
    const second = await locks.acquire('k', { ttlMs: 1_000, waitMs: 2_000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
    expect(first.lost.aborted).toBe(true);
    expect(first.lost.reason).toBeInstanceOf(LockLostError);
    expect(second.fence > first.fence).toBe(true);
    expect(second.lost.aborted).toBe(false);
    expect(await first.release()).toBe(false);
    await expect(first.extend()).rejects.toBeInstanceOf(LockLostError);
    expect(await second.release()).toBe(true);
  });

  it('extend pushes the expiry out', async () => {
    const lease = await locks.acquire('k', { ttlMs: 300, waitMs: 0 });
    for (let i = 0; i < 4; i++) {
      await sleep(100);
      await lease.extend();
    }
    expect(lease.lost.aborted).toBe(false);
    await lease.extend(2_000);
    await sleep(400);
    expect(lease.lost.aborted).toBe(false);
    expect(await lease.release()).toBe(true);
  });

  it('bounds the wait with LockTimeoutError', async () => {
    const holder = await locks.acquire('k', LONG);
    const started = Date.now();
    // A plain timer started alongside: on a loaded machine both run late by the same amount.
    const control = sleep(150).then(() => Date.now() - started);
    const error = await locks.acquire('k', { ttlMs: 1_000, waitMs: 150 }).catch((e: unknown) => e);
    const waited = Date.now() - started;
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect((error as LockTimeoutError).code).toBe('lock_timeout');
    expect(waited).toBeGreaterThanOrEqual(145);
    expect(waited).toBeLessThan((await control) + 100);
    await expect(locks.acquire('k', { ttlMs: 1_000, waitMs: 0 })).rejects.toBeInstanceOf(LockTimeoutError);
    expect(await holder.release()).toBe(true);
  });

  it('returns false for a stale or foreign token and keeps the holder', async () => {
    const holder = await locks.acquire('k', LONG);
    expect(await locks.releaseToken('k', 'not-the-token')).toBe(false);
    await expect(locks.acquire('k', { ttlMs: 1_000, waitMs: 20 })).rejects.toBeInstanceOf(LockTimeoutError);
    expect(holder.lost.aborted).toBe(false);
    expect(await holder.release()).toBe(true);
    expect(await holder.release()).toBe(false);
    expect(await locks.releaseToken('k', holder.token)).toBe(false);
  });

  it('an aborted waiter leaves the queue and the next one gets the key', async () => {
    const holder = await locks.acquire('k', LONG);
    const controller = new AbortController();
    const aborted = locks.acquire('k', { ...LONG, signal: controller.signal });
    const next = locks.acquire('k', LONG);
    controller.abort(new Error('caller gave up'));
    await expect(aborted).rejects.toThrow('caller gave up');
    await holder.release();
    const lease = await next;
    expect(await lease.release()).toBe(true);
    await expect(locks.acquire('k', { ...LONG, signal: AbortSignal.abort() })).rejects.toThrow();
  });

  it('close rejects waiters with LockUnavailableError and marks holders lost', async () => {
    const holder: Lease = await locks.acquire('k', LONG);
    const waiting = locks.acquire('k', LONG).catch((e: unknown) => e);
    await locks.close();
    expect(await waiting).toBeInstanceOf(LockUnavailableError);
    expect(holder.lost.aborted).toBe(true);
    await expect(locks.acquire('k', LONG)).rejects.toBeInstanceOf(LockUnavailableError);
    await expect(locks.ping()).rejects.toBeInstanceOf(LockUnavailableError);
  });

  it('rejects nonsense options', () => {
    expect(() => locks.acquire('', LONG)).toThrow(TypeError);
    expect(() => locks.acquire('k', { ttlMs: 0, waitMs: 0 })).toThrow(RangeError);
    expect(() => locks.acquire('k', { ttlMs: 1, waitMs: -1 })).toThrow(RangeError);
  });
});
