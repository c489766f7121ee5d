import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SecretCipher } from '../../src/crypto/secret-cipher.js';
import { VerificationFailedError } from '../../src/directory/errors.js';
import { isOrgshiftError } from '../../src/errors.js';
import { createLockManager } from '../../src/lock/create-lock-manager.js';
import type { Lease, LockManager } from '../../src/lock/lock-manager.js';
import { internalsOf, type Orgshift } from '../../src/orgshift.js';
import { BACKENDS, type BackendInstance, countingLocks } from '../support/backends.js';
import { spawnTs } from '../support/child.js';
import { ident, kyselyOf } from '../support/internals.js';
import { openTest, TEST_LEGACY_KEY, TEST_SECRET_KEY } from '../support/open-test.js';

async function legacyIds(orgshift: Orgshift, n: number, where = 'migrated_at is null'): Promise<string[]> {
  const rows = await sql<{
    id: string;
  }>`select id from legacy_users where ${sql.raw(where)} order by id limit ${n}`.execute(kyselyOf(orgshift));
  return rows.rows.map((r) => r.id);
}

async function count(orgshift: Orgshift, table: string, where = 'true'): Promise<number> {
  const rows = await sql<{
    n: number | string;
  }>`select count(*) as n from ${sql.raw(ident(table))} where ${sql.raw(where)}`.execute(kyselyOf(orgshift));
  return Number(rows.rows[0]?.n);
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return isOrgshiftError(error) ? error.code : `unexpected: ${String(error)}`;
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A real lock manager that reports when the lease on `key` has been released. */
function releaseSignalling(inner: LockManager, key: string, onReleased: () => void): LockManager {
  return {
    kind: inner.kind,
    async acquire(lockKey, opts) {
      const lease = await inner.acquire(lockKey, opts);
      if (lockKey !== key) return lease;
      const wrapped: Lease = {
        key: lease.key,
        token: lease.token,
        fence: lease.fence,
        lost: lease.lost,
        extend: (ttlMs) => lease.extend(ttlMs),
        async release() {
          const result = await lease.release();
          onReleased();
          return result;
        },
      };
      return wrapped;
    },
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
}

describe.each(BACKENDS)('getUser on $name', (backend) => {
  describe.skipIf(!backend.available)('', () => {
    let instance: BackendInstance;
    let orgshift: Orgshift;

    beforeAll(async () => {
      instance = await backend.setup('getuser');
      orgshift = await openTest({ ...instance.env });
      await orgshift.seed({ users: 300, dependents: 2, apiKeyShare: 1 });
    });
    afterAll(async () => {
      await orgshift?.close();
      await instance?.teardown();
    });

    it('answers user_not_found for an unknown id without taking a lock', async () => {
      const locks = countingLocks(createLockManager(internalsOf(orgshift).config.lock));
      const other = await openTest({ ...instance.env }, { locks });
      try {
        expect(await codeOf(other.getUser('00000000-0000-4000-8000-000000000000'))).toBe('user_not_found');
        expect(locks.acquired).toEqual([]);
      } finally {
        await other.close();
        await locks.close();
      }
    });

    it('migrates a legacy user once, completely and faithfully', async () => {
      const [id] = await legacyIds(orgshift, 1);
      if (!id) throw new Error('no legacy user');
      const before = await sql<{
        settings: unknown;
        api_key_enc: string;
      }>`select settings, api_key_enc from legacy_users where id = ${id}`.execute(kyselyOf(orgshift));
      const legacyCipher = new SecretCipher(Buffer.from(TEST_LEGACY_KEY, 'base64'));
      const plaintext = legacyCipher.decrypt(String(before.rows[0]?.api_key_enc), id);

      const user = await orgshift.getUser(id);
      expect(user.id).toBe(id);
      expect(user.currentOrg).toMatchObject({ id, kind: 'personal' });
      expect(user.memberships).toEqual([{ org: user.currentOrg, role: { name: 'owner', rank: 10 }, status: 'active' }]);
      expect(user.migratedAt).toBeInstanceOf(Date);
      expect(JSON.stringify(user)).not.toContain('api_key');

      expect(await count(orgshift, 'conversations', `user_id = '${id}' and org_id is null`)).toBe(0);
      expect(await count(orgshift, 'api_keys', `user_id = '${id}'`)).toBe(2);
      expect(await count(orgshift, 'legacy_users', `id = '${id}' and migrated_at is not null`)).toBe(1);
      const member = await sql<{
        api_key_enc: string;
      }>`select api_key_enc from org_members where user_id = ${id}`.execute(kyselyOf(orgshift));
      const currentCipher = new SecretCipher(Buffer.from(TEST_SECRET_KEY, 'base64'));
      expect(currentCipher.decrypt(String(member.rows[0]?.api_key_enc), id)).toBe(plaintext);
      expect(await orgshift.verifyUser(id)).toEqual({ ok: true, state: 'migrated', violations: [] });

      // A second read is the fast path and changes nothing.
      expect(await orgshift.getUser(id)).toEqual(user);
      expect(await count(orgshift, 'orgs', `id = '${id}'`)).toBe(1);
    });

    it('coalesces concurrent calls in one process into one lock acquisition', async () => {
      const [id] = await legacyIds(orgshift, 1);
      const locks = countingLocks(createLockManager(internalsOf(orgshift).config.lock));
      const other = await openTest({ ...instance.env }, { locks });
      try {
        const users = await Promise.all(Array.from({ length: 50 }, () => other.getUser(id as string)));
        expect(new Set(users.map((u) => u.id))).toEqual(new Set([id]));
        expect(locks.acquired).toEqual([`user:${id}`]);
      } finally {
        await other.close();
        await locks.close();
      }
    });

    it('migrates a herd of 200 callers in this process and 2 child processes over 20 users exactly once each', async () => {
      const ids = await legacyIds(orgshift, 20);
      const env = { ...instance.env, ORGSHIFT_LEGACY_KEY: TEST_LEGACY_KEY, ORGSHIFT_SECRET_KEY: TEST_SECRET_KEY };
      const children = [0, 1].map(() => spawnTs('test/directory/fixtures/herd-worker.ts', [ids.join(','), '10'], env));
      try {
        for (const child of children) expect(await child.nextLine()).toBe('ready');
        // Separate opens so that single-flight in one instance cannot hide a race between instances.
        const locals = await Promise.all([0, 1].map(() => openTest({ ...instance.env })));
        for (const child of children) child.process.stdin.write('go\n');
        const outcomes = await Promise.all(
          Array.from({ length: 200 }, (_, i) => codeOf((locals[i % 2] as Orgshift).getUser(ids[i % 20] as string))),
        );
        await Promise.all(locals.map((l) => l.close()));
        const childTallies = await Promise.all(children.map(async (c) => JSON.parse(await c.nextLine(60_000))));
        expect(outcomes.filter((o) => o !== 'ok')).toEqual([]);
        for (const [i, tally] of childTallies.entries()) expect(tally, children[i]?.stderr()).toEqual({ ok: 200 });
      } finally {
        for (const child of children) child.kill();
      }
      const list = ids.map((id) => `'${id}'`).join(',');
      expect(await count(orgshift, 'orgs', `id in (${list})`)).toBe(20);
      expect(await count(orgshift, 'users', `id in (${list})`)).toBe(20);
      expect(await count(orgshift, 'org_members', `user_id in (${list})`)).toBe(20);
      for (const id of ids) expect((await orgshift.verifyUser(id)).violations).toEqual([]);
    });

    it('keeps exactly one migration when two instances race without any mutual exclusion', async () => {
      // Two memory lock managers never see each other: the lock is as good as lost.
      // Only the database fence stands between this and a duplicate.
      const ids = await legacyIds(orgshift, 5);
      const a = await openTest({ ...instance.env }, { locks: createLockManager({ kind: 'memory' }) });
      const b = await openTest({ ...instance.env }, { locks: createLockManager({ kind: 'memory' }) });
      try {
        const results = await Promise.all(ids.flatMap((id) => [codeOf(a.getUser(id)), codeOf(b.getUser(id))]));
        expect(results.filter((r) => r !== 'ok')).toEqual([]);
      } finally {
        await a.close();
        await b.close();
      }
      const list = ids.map((id) => `'${id}'`).join(',');
      expect(await count(orgshift, 'orgs', `id in (${list})`)).toBe(5);
      expect(await count(orgshift, 'org_members', `user_id in (${list})`)).toBe(5);
      for (const id of ids) expect((await orgshift.verifyUser(id)).ok).toBe(true);
    });

    it('reports broken data instead of hiding it', async () => {
      const [id] = await legacyIds(orgshift, 1);
      await orgshift.getUser(id as string);
      await sql`delete from org_members where user_id = ${id}`.execute(kyselyOf(orgshift));
      const error = await orgshift.getUser(id as string).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VerificationFailedError);
      expect((error as VerificationFailedError).violations.map((v) => v.code).sort()).toEqual([
        'current_org_not_member',
        'personal_org_membership',
      ]);
      // Recorded for repair.
      await vi.waitFor(async () =>
        expect(await count(orgshift, 'orgshift_migration_failures', `subject = '${id}'`)).toBe(1),
      );
    });

    it('refuses bad input before any query or lock', async () => {
      const locks = countingLocks(createLockManager(internalsOf(orgshift).config.lock));
      const other = await openTest({ ...instance.env }, { locks });
      const load = vi.spyOn(internalsOf(other).users.loader, 'load');
      try {
        const hostile = [
          'nope',
          "' or 1=1 --",
          '00000000-0000-4000-8000-000000000000; drop table users',
          'x'.repeat(10_000),
          '',
          '../../etc/passwd',
          '0000000-0000-4000-8000-0000000000000',
        ];
        for (const input of hostile) expect(await codeOf(other.getUser(input))).toBe('invalid_user_id');
        expect(await codeOf(other.getUser(42 as unknown as string))).toBe('invalid_user_id');
        expect(load).not.toHaveBeenCalled();
        expect(locks.acquired).toEqual([]);
      } finally {
        await other.close();
        await locks.close();
      }
    });

    it('serves the same user with lockMode always', async () => {
      const [id] = await legacyIds(orgshift, 1);
      const locks = countingLocks(createLockManager(internalsOf(orgshift).config.lock));
      const other = await openTest({ ...instance.env }, { locks, lockMode: 'always' });
      try {
        const first = await other.getUser(id as string);
        const second = await other.getUser(id as string);
        expect(second).toEqual(first);
        expect(locks.acquired).toEqual([`user:${id}`, `user:${id}`]);
      } finally {
        await other.close();
        await locks.close();
      }
    });

    it('creates a native user once under a concurrent getUser', async () => {
      const id = '7e57a71e-0000-4000-8000-000000000001';
      const [created, read] = await Promise.all([
        codeOf(orgshift.createUser({ id, email: 'native@example.com', displayName: 'Native' })),
        codeOf(orgshift.getUser(id)),
      ]);
      expect(created).toBe('ok');
      expect(['ok', 'user_not_found']).toContain(read);
      const user = await orgshift.getUser(id);
      expect(user.migratedAt).toBeNull();
      expect(await codeOf(orgshift.createUser({ id, email: 'again@example.com' }))).toBe('user_exists');
      const [legacy] = await legacyIds(orgshift, 1);
      expect(await codeOf(orgshift.createUser({ id: legacy as string, email: 'x@example.com' }))).toBe('user_exists');
      expect(await orgshift.verifyUser(id)).toEqual({ ok: true, state: 'native', violations: [] });
      expect(await count(orgshift, 'orgs', `id = '${id}'`)).toBe(1);
    });

    it('createUser answers with the user it created although a read that loaded before its commit is still in flight', async () => {
      const id = '7e57a71e-0000-4000-8000-000000000002';
      const released = deferred();
      const locks = releaseSignalling(
        createLockManager(internalsOf(orgshift).config.lock),
        `user:${id}`,
        released.resolve,
      );
      const other = await openTest({ ...instance.env }, { locks });
      const loaded = deferred();
      const gate = deferred();
      const loader = internalsOf(other).users.loader;
      const load = loader.load.bind(loader);
      let held = false;
      vi.spyOn(loader, 'load').mockImplementation(async (userId: string) => {
        const snapshot = await load(userId);
        if (userId === id && !held) {
          // Only the first read is held: after its load (the user is absent), before it resolves.
          held = true;
          loaded.resolve();
          await gate.promise;
        }
        return snapshot;
      });
      try {
        const early = codeOf(other.getUser(id));
        await loaded.promise;
        const created = codeOf(other.createUser({ id, email: 'held@example.com' }));
        // The insert has committed and the lease is gone: createUser is reading its user back.
        await released.promise;
        await new Promise((resolve) => setImmediate(resolve));
        const later = codeOf(other.getUser(id));
        gate.resolve();
        expect(await created).toBe('ok');
        expect(await later).toBe('ok');
        expect(await early).toBe('user_not_found');
      } finally {
        gate.resolve();
        await other.close();
        await locks.close();
      }
    });

    it('returns the same graph with every loading strategy', async () => {
      const [id] = await legacyIds(orgshift, 1);
      await orgshift.getUser(id as string);
      // Team orgs so the graph has several memberships, inserted out of order: every strategy
      // must return the personal org first, then the others by org id.
      const teams = [
        'aaaaaaaa-0000-4000-8000-000000000002',
        'aaaaaaaa-0000-4000-8000-000000000001',
        'aaaaaaaa-0000-4000-8000-000000000003',
      ] as const;
      for (const [n, org] of teams.entries()) {
        await sql`insert into orgs (id, kind, name) values (${org}, 'team', ${`Team ${n}`})`.execute(
          kyselyOf(orgshift),
        );
        await sql`insert into org_members (org_id, user_id, role_id, status) values (${org}, ${id}, 3, 'active')`.execute(
          kyselyOf(orgshift),
        );
      }
      const graphs = [];
      for (const loadStrategy of ['json', 'join', 'select-in'] as const) {
        const other = await openTest({ ...instance.env }, { loadStrategy });
        try {
          graphs.push(await internalsOf(other).users.loader.loadFull(id as string));
          expect((await other.getUser(id as string)).memberships.map((m) => m.org.id)).toEqual([
            id,
            'aaaaaaaa-0000-4000-8000-000000000001',
            'aaaaaaaa-0000-4000-8000-000000000002',
            'aaaaaaaa-0000-4000-8000-000000000003',
          ]);
        } finally {
          await other.close();
        }
      }
      expect(graphs[1]).toEqual(graphs[0]);
      expect(graphs[2]).toEqual(graphs[0]);
      expect(Object.isFrozen(graphs[0])).toBe(true);
      expect(graphs[0]?.user?.migratedAt).toBeInstanceOf(Date);
      // The read path's fast graph is the same graph, without the legacy status it does not load (moved shape).
      const fast = await internalsOf(orgshift).users.loader.load(id as string);
      expect(fast).toEqual({ ...graphs[0], legacy: null });
      // Many reads at once are coalesced into shared queries; each still gets its own graph.
      const unknown = '00000000-0000-4000-8000-000000000000';
      const herd = await Promise.all(
        Array.from({ length: 40 }, (_, i) => internalsOf(orgshift).users.loader.load(i % 2 ? unknown : (id as string))),
      );
      for (const [i, graph] of herd.entries()) {
        if (i % 2) expect(graph.user).toBeNull();
        else expect(graph).toEqual(fast);
      }
    });
  });
});
