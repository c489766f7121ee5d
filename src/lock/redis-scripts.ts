import type { Redis } from 'ioredis';

/**
 * SET NX PX and the fence INCR in one script, so a fence is drawn exactly when
 * the lock is taken. Busy: the holder's remaining PTTL, to time the next try.
 */
const ACQUIRE = `
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, redis.call('incr', KEYS[2])}
end
return {0, redis.call('pttl', KEYS[1])}
`;

/** Compare-and-delete, then wake the waiters; a stranger's token deletes nothing. */
const RELEASE = `
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('del', KEYS[1])
  redis.call('publish', ARGV[2], '1')
  return 1
end
return 0
`;

/** Compare-and-extend. */
const EXTEND = `
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
`;

/** Where one lock key's data live; the hash tag keeps them in one Cluster slot. */
export interface RedisLockKeys {
  readonly lock: string;
  readonly fence: string;
  /** Release notifications for this key; tagged like the keys, ready for sharded pub/sub. */
  readonly channel: string;
}

export function redisLockKeys(prefix: string, key: string): RedisLockKeys {
  const base = `${prefix}{${key}}`;
  return { lock: `${base}:lock`, fence: `${base}:fence`, channel: `${base}:released` };
}

export type AcquireOutcome =
  | { readonly acquired: true; readonly fence: bigint }
  | { readonly acquired: false; readonly holderPttlMs: number };

/** The three scripts, loaded with `defineCommand` (EVALSHA, falling back to EVAL on NOSCRIPT). */
export interface RedisLockScripts {
  acquire(keys: RedisLockKeys, token: string, ttlMs: number): Promise<AcquireOutcome>;
  release(keys: RedisLockKeys, token: string): Promise<boolean>;
  extend(keys: RedisLockKeys, token: string, ttlMs: number): Promise<boolean>;
}

interface ScriptedRedis {
  orgshiftLockAcquire(lock: string, fence: string, token: string, ttlMs: number): Promise<[number, number]>;
  orgshiftLockRelease(lock: string, token: string, channel: string): Promise<number>;
  orgshiftLockExtend(lock: string, token: string, ttlMs: number): Promise<number>;
}

export function defineLockScripts(client: Redis): RedisLockScripts {
  client.defineCommand('orgshiftLockAcquire', { numberOfKeys: 2, lua: ACQUIRE });
  client.defineCommand('orgshiftLockRelease', { numberOfKeys: 1, lua: RELEASE });
  client.defineCommand('orgshiftLockExtend', { numberOfKeys: 1, lua: EXTEND });
  // defineCommand adds methods ioredis' types cannot know about.
  const scripted = client as unknown as ScriptedRedis;
  return {
    async acquire(keys, token, ttlMs) {
      const [acquired, value] = await scripted.orgshiftLockAcquire(keys.lock, keys.fence, token, ttlMs);
      return acquired === 1 ? { acquired: true, fence: BigInt(value) } : { acquired: false, holderPttlMs: value };
    },
    async release(keys, token) {
      return (await scripted.orgshiftLockRelease(keys.lock, token, keys.channel)) === 1;
    },
    async extend(keys, token, ttlMs) {
      return (await scripted.orgshiftLockExtend(keys.lock, token, ttlMs)) === 1;
    },
  };
}
