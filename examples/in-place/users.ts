import type { CuidFactory } from './cuid.js';
import type { Person, PersonFactory } from './people.js';
import type { Random } from './random.js';
import type { Row } from './tables.js';
import { DAY } from './timeline.js';
import type { Trait } from './traits.js';

export interface FixtureUser extends Person {
  readonly id: string;
  /** legacy: signed up before organizations, not migrated; native: signed up after, owns a personal org. */
  readonly kind: 'legacy' | 'native';
  readonly emailVerified: number | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly traits: Trait[];
}

export interface UserWindow {
  readonly from: number;
  readonly to: number;
  /** When the snapshot is taken: nothing is touched after it. */
  readonly snapshot: number;
}

export interface UserBatch {
  readonly random: Random;
  readonly ids: CuidFactory;
  readonly people: PersonFactory;
  readonly count: number;
  readonly kind: FixtureUser['kind'];
  readonly window: UserWindow;
  readonly apiKeyShare: number;
}

/**
 * `count` users signing up one after another across the window, so creation
 * times (and the ids derived from them) grow with the index, as in the app.
 */
export function makeUsers({ random, ids, people, count, kind, window, apiKeyShare }: UserBatch): FixtureUser[] {
  const step = (window.to - window.from) / Math.max(1, count);
  const users: FixtureUser[] = [];
  for (let i = 0; i < count; i++) {
    const createdAt = window.from + Math.floor(i * step + random.float() * step);
    const person = people.next(apiKeyShare);
    users.push({
      ...person,
      traits: [...person.traits],
      id: ids.next(createdAt),
      kind,
      emailVerified: random.chance(0.75) ? createdAt + random.int(30_000, 2 * DAY) : null,
      createdAt,
      updatedAt: random.instant(createdAt, window.snapshot),
    });
  }
  return users;
}

/** The row as the app wrote it; "organizationId" is set later, for native users only. */
export function userRow(user: FixtureUser): Row {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    image: user.image,
    emailVerified: user.emailVerified,
    locale: user.locale,
    timezone: user.timezone,
    marketingOptIn: user.marketingOptIn,
    preferences: user.preferences,
    apiKey: user.apiKey,
    organizationId: null,
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
  };
}
