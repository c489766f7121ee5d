import { sql } from 'kysely';
import { internalsOf, type Orgshift } from '../src/orgshift.js';
import type { ChaosReceiver } from './receiver.js';

export interface OutboxProof {
  readonly problems: string[];
  readonly events: number;
  readonly undelivered: number;
  readonly dead: number;
  /** Migrated users whose only accepted user.migrated id is the outbox's one. */
  readonly usersWithOneEvent: number;
  /** Accepted requests for an event id already accepted before (at least once allows them). */
  readonly repeats: number;
}

/**
 * At least once, never for what did not commit, checked against the
 * database: every migrated user has exactly one user.migrated event in the
 * outbox, delivered; the receiver accepted exactly that id for that user
 * (repeats of the same id allowed) and no id for anyone else; nothing is
 * pending or dead.
 */
export async function proveOutbox(orgshift: Orgshift, receiver: ChaosReceiver): Promise<OutboxProof> {
  const problems: string[] = [];
  const rows = await sql<{ id: string; type: string; user_id: string; delivered: boolean; dead: boolean }>`
    select id::text as id, type, user_id, delivered_at is not null as delivered, dead_at is not null as dead
    from orgshift_outbox`.execute(internalsOf(orgshift).db.kysely);
  const migrated = await sql<{ id: string }>`
    select id from legacy_users where migrated_at is not null`.execute(internalsOf(orgshift).db.kysely);
  const migratedUsers = new Set(migrated.rows.map((r) => r.id));
  const undelivered = rows.rows.filter((r) => !r.delivered).length;
  const dead = rows.rows.filter((r) => r.dead).length;
  if (undelivered > 0) problems.push(`${undelivered} outbox event(s) not delivered`);
  if (dead > 0) problems.push(`${dead} outbox event(s) dead`);
  for (const row of rows.rows) {
    if (row.type !== 'user.migrated') problems.push(`unexpected ${row.type} event ${row.id}`);
  }

  const outboxIdsByUser = groupIds(rows.rows.map((r) => [r.user_id, r.id]));
  const acceptedByUser = groupIds(
    [...receiver.accepted.entries()].filter(([, a]) => a.type === 'user.migrated').map(([id, a]) => [a.userId, id]),
  );
  let usersWithOneEvent = 0;
  for (const userId of migratedUsers) {
    const written = outboxIdsByUser.get(userId) ?? new Set();
    const accepted = acceptedByUser.get(userId) ?? new Set();
    const [only] = written;
    if (written.size === 1 && accepted.size === 1 && only !== undefined && accepted.has(only)) usersWithOneEvent++;
    else if (problems.length < 30) {
      problems.push(`user ${userId}: ${written.size} event(s) in the outbox, ${accepted.size} distinct id(s) accepted`);
    }
  }
  for (const userId of acceptedByUser.keys()) {
    if (!migratedUsers.has(userId)) problems.push(`an event was delivered for ${userId}, which is not migrated`);
  }
  const repeats = [...receiver.accepted.values()].reduce((sum, a) => sum + a.times - 1, 0);
  if (receiver.tally.badSignatures > 0)
    problems.push(`${receiver.tally.badSignatures} request(s) with a bad signature`);
  return { problems, events: rows.rows.length, undelivered, dead, usersWithOneEvent, repeats };
}

function groupIds(pairs: readonly (readonly [string, string])[]): Map<string, Set<string>> {
  const groups = new Map<string, Set<string>>();
  for (const [key, id] of pairs) {
    let set = groups.get(key);
    if (set === undefined) {
      set = new Set();
      groups.set(key, set);
    }
    set.add(id);
  }
  return groups;
}
