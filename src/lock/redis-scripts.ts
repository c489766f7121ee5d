import type { Redis } from 'ioredis';

/**
 * The Redis lock's server side. Every script touches the keys of one lock
 * only, all sharing the lock's hash tag, so each runs in one Cluster slot:
 *
 * - `lock`: the holder's token, with the lease's TTL.
 * - `fence`: the last fence handed out for this key. It outlives the lock by
 *   the fence retention and then disappears, so Redis keeps nothing for a key
 *   nobody has held lately.
 * - `queue` (list, arrival order) and `waiters` (hash: token → deadline, TTL,
 *   channel): who waits. Entries leave when granted, when their waiter gives up,
 *   or at their deadline; both keys carry a TTL past the last deadline.
 *
 * Fences come from the server clock: the TIME of the grant in microseconds,
 * or one more than the key's last fence when that is not smaller (two grants
 * in one microsecond, a clock stepped back). So a fence beats every earlier
 * fence of its key while the `fence` key lives, and once it has expired the
 * clock alone is ahead of the last fence by at least the retention (60 s by
 * default) — unless the server clock was stepped back by more than that.
 * Nothing of this needs Redis to keep data: after a restart that lost every
 * key, fences go on from the clock, still above those issued before.
 */
const PRELUDE = `
local lock, fence, queue, waiters = KEYS[1], KEYS[2], KEYS[3], KEYS[4]

local function now_us()
  local t = redis.call('time')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end

local function draw_fence(ttl, retain)
  local f = now_us()
  local last = tonumber(redis.call('get', fence) or '0') or 0
  if last >= f then f = last + 1 end
  local text = string.format('%.0f', f)
  redis.call('set', fence, text, 'PX', ttl + retain)
  return text
end

-- The free lock goes to the longest-waiting live waiter, told on its channel.
-- A waiter past its deadline, or whose channel nobody hears (its process is
-- gone), is skipped. \`self\` is the caller, granted without a message.
local function hand_over(retain, self)
  local now_ms = math.floor(now_us() / 1000)
  while true do
    local token = redis.call('lpop', queue)
    if not token then return nil end
    local entry = redis.call('hget', waiters, token)
    if entry then
      redis.call('hdel', waiters, token)
      local deadline, ttl, channel = string.match(entry, '^(%d+) (%d+) (.+)$')
      deadline, ttl = tonumber(deadline), tonumber(ttl)
      if deadline and ttl and deadline > now_ms then
        redis.call('set', lock, token, 'PX', ttl)
        local f = draw_fence(ttl, retain)
        if token == self or redis.call('publish', channel, token .. ' ' .. f) > 0 then
          return {token, f, ttl}
        end
        redis.call('del', lock)
      end
    end
  end
end

local function keep_at_least(key, ms)
  if redis.call('pttl', key) < ms then redis.call('pexpire', key, ms) end
end
`;

/**
 * Takes the lock if free and nobody live waits before us; else, when the
 * caller will wait, queues it (once) — in the same step as finding the lock
 * busy, so a release can never slip between the two. Also reports a lock
 * granted to this token while its message was on the way.
 * ARGV: token, ttl, fence retention, wait left (0: do not queue), channel.
 * Answers {1, fence, pttl} or {0, holder's pttl}.
 */
const ACQUIRE = `${PRELUDE}
local token, ttl, retain, wait = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local holder = redis.call('get', lock)
if holder == token then
  return {1, redis.call('get', fence) or draw_fence(redis.call('pttl', lock), retain), redis.call('pttl', lock)}
end
if not holder then
  local granted = hand_over(retain, token)
  if granted == nil then
    redis.call('set', lock, token, 'PX', ttl)
    return {1, draw_fence(ttl, retain), ttl}
  end
  if granted[1] == token then return {1, granted[2], granted[3]} end
end
if wait > 0 and redis.call('hexists', waiters, token) == 0 then
  local deadline = math.floor(now_us() / 1000) + wait
  redis.call('rpush', queue, token)
  redis.call('hset', waiters, token, string.format('%.0f %.0f %s', deadline, ttl, ARGV[5]))
  keep_at_least(queue, wait + 1000)
  keep_at_least(waiters, wait + 1000)
end
return {0, redis.call('pttl', lock)}
`;

/**
 * Leaves the queue if the token is in it; then, if the token holds the lock,
 * frees it and hands it straight to the next live waiter.
 * ARGV: token, fence retention. Answers {0} (not ours), {1} or {1, token, fence}.
 */
const RELEASE = `${PRELUDE}
local token, retain = ARGV[1], tonumber(ARGV[2])
if redis.call('hdel', waiters, token) == 1 then redis.call('lrem', queue, 1, token) end
if redis.call('get', lock) ~= token then return {0} end
redis.call('del', lock)
redis.call('pexpire', fence, retain)
local granted = hand_over(retain, nil)
if granted then return {1, granted[1], granted[2]} end
return {1}
`;

/** Compare-and-extend; the fence outlives the lock by the retention. ARGV: token, ttl, fence retention. */
const EXTEND = `
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('pexpire', KEYS[2], tonumber(ARGV[2]) + tonumber(ARGV[3]))
return redis.call('pexpire', KEYS[1], ARGV[2])
`;

/** Where one lock key's data live; the hash tag keeps them in one Cluster slot. */
export interface RedisLockKeys {
  readonly lock: string;
  readonly fence: string;
  readonly queue: string;
  readonly waiters: string;
  /** Where grants to this manager's waiters are published; tagged like the keys, ready for sharded pub/sub. */
  readonly channel: string;
}

/** `owner` names the lock manager: each one hears only the grants meant for its own waiters. */
export function redisLockKeys(prefix: string, key: string, owner: string): RedisLockKeys {
  const base = `${prefix}{${key}}`;
  return {
    lock: `${base}:lock`,
    fence: `${base}:fence`,
    queue: `${base}:queue`,
    waiters: `${base}:waiters`,
    channel: `${base}:granted:${owner}`,
  };
}

/** The lock handed to a waiter by someone else's release (or by an expiry noticed by someone else). */
export interface Grant {
  readonly token: string;
  readonly fence: bigint;
}

export type AcquireOutcome =
  | { readonly acquired: true; readonly fence: bigint; readonly pttlMs: number }
  | { readonly acquired: false; readonly holderPttlMs: number };

export interface ReleaseOutcome {
  readonly released: boolean;
  /** Whom the lock went to straight away, if anyone waited. */
  readonly grant?: Grant;
}

/** The scripts, loaded with `defineCommand` (EVALSHA, falling back to EVAL on NOSCRIPT). */
export interface RedisLockScripts {
  /** `waitMs` > 0 queues the caller if the lock is busy. */
  acquire(keys: RedisLockKeys, token: string, ttlMs: number, waitMs: number): Promise<AcquireOutcome>;
  /** Releases the lock if the token holds it, and takes the token out of the queue either way. */
  release(keys: RedisLockKeys, token: string): Promise<ReleaseOutcome>;
  extend(keys: RedisLockKeys, token: string, ttlMs: number): Promise<boolean>;
}

type Reply = (string | number)[];

interface ScriptedRedis {
  orgshiftLockAcquire(...args: (string | number)[]): Promise<Reply>;
  orgshiftLockRelease(...args: (string | number)[]): Promise<Reply>;
  orgshiftLockExtend(...args: (string | number)[]): Promise<number>;
}

/** `fenceRetentionMs`: how long a key's last fence outlives its lock. */
export function defineLockScripts(client: Redis, fenceRetentionMs: number): RedisLockScripts {
  client.defineCommand('orgshiftLockAcquire', { numberOfKeys: 4, lua: ACQUIRE });
  client.defineCommand('orgshiftLockRelease', { numberOfKeys: 4, lua: RELEASE });
  client.defineCommand('orgshiftLockExtend', { numberOfKeys: 2, lua: EXTEND });
  // defineCommand adds methods ioredis' types cannot know about.
  const scripted = client as unknown as ScriptedRedis;
  const all = (keys: RedisLockKeys) => [keys.lock, keys.fence, keys.queue, keys.waiters];
  return {
    async acquire(keys, token, ttlMs, waitMs) {
      const reply = await scripted.orgshiftLockAcquire(
        ...all(keys),
        token,
        ttlMs,
        fenceRetentionMs,
        Math.max(0, Math.ceil(waitMs)),
        keys.channel,
      );
      return reply[0] === 1
        ? { acquired: true, fence: BigInt(reply[1]!), pttlMs: Number(reply[2]) }
        : { acquired: false, holderPttlMs: Number(reply[1]) };
    },
    async release(keys, token) {
      const [released, grantee, fence] = await scripted.orgshiftLockRelease(...all(keys), token, fenceRetentionMs);
      if (released !== 1) return { released: false };
      if (grantee === undefined) return { released: true };
      return { released: true, grant: { token: String(grantee), fence: BigInt(fence!) } };
    },
    async extend(keys, token, ttlMs) {
      return (await scripted.orgshiftLockExtend(keys.lock, keys.fence, token, ttlMs, fenceRetentionMs)) === 1;
    },
  };
}
