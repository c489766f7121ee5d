import type { CuidFactory } from './cuid.js';
import { isPlainAscii, plainSlug } from './people.js';
import type { Random } from './random.js';
import type { Row } from './tables.js';
import { DAY } from './timeline.js';
import type { FixtureUser } from './users.js';

export type Role = 'owner' | 'admin' | 'member';

export interface FixtureMembership {
  readonly id: string;
  readonly userId: string;
  readonly organizationId: string;
  readonly role: Role;
  readonly createdAt: number;
}

export interface FixtureOrganization {
  readonly id: string;
  readonly name: string;
  readonly slug: string;
  readonly personal: boolean;
  readonly ownerId: string | null;
  readonly billingEmail: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** The user who created it; for a team org that user is an 'owner' member, not "ownerId". */
  readonly creatorId: string;
  readonly memberships: readonly FixtureMembership[];
}

const COMPANIES = [
  'Acme',
  'Globex',
  'Initech',
  'Umbrella',
  'Hooli',
  'Stark Industries',
  'Pied Piper',
  'Vandelay Industries',
  'Massive Dynamic',
  'Aperture Science',
  'Dunder Mifflin',
  'Northwind Traders',
  'Blue Sky Ventures',
  'Kräuter & Söhne GmbH',
  'Société Générale des Chats',
  'Ñandú Studio',
  '東京ラボ',
];
const DEPARTMENTS = ['', '', ' Design', ' Marketing', ' Engineering', ' (EU)', ' Labs'];

/** How the app itself slugs a team name: accents folded, then plain. */
function appSlug(name: string): string {
  return plainSlug(name.normalize('NFKD').replace(/\p{M}/gu, ''));
}

function emailLocalPart(email: string): string {
  return email.slice(0, email.indexOf('@'));
}

export class OrganizationFactory {
  readonly #slugs = new Set<string>();

  constructor(
    private readonly random: Random,
    private readonly ids: CuidFactory,
  ) {}

  /**
   * Team orgs created by users after the feature shipped, each with its
   * creator as 'owner' and a few colleagues. "ownerId" stays NULL: in this
   * app it names the owner of a personal org, and it is unique.
   * `users` must be sorted by creation time.
   */
  teams(users: readonly FixtureUser[], count: number, from: number, snapshot: number): FixtureOrganization[] {
    const random = this.random;
    const createdAts = Array.from({ length: count }, () => random.instant(from, snapshot - 7 * DAY)).sort(
      (a, b) => a - b,
    );
    return createdAts.map((createdAt) => {
      const eligible = signedUpBefore(users, createdAt);
      const creator = users[random.int(0, eligible - 1)] as FixtureUser;
      const { name, slug, namedAfterCreator } = this.#teamName(creator);
      if (namedAfterCreator) creator.traits.push('slug-taken-by-team');
      const id = this.ids.next(createdAt);
      const memberships: FixtureMembership[] = [
        { id: this.ids.next(createdAt), userId: creator.id, organizationId: id, role: 'owner', createdAt },
      ];
      const taken = new Set([creator.id]);
      const wanted = 1 + Math.floor(random.float() ** 2 * 14);
      for (let attempt = 0; attempt < wanted * 3 && memberships.length <= wanted; attempt++) {
        const member = users[random.int(0, eligible - 1)] as FixtureUser;
        if (taken.has(member.id)) continue;
        taken.add(member.id);
        const joinedAt = random.instant(createdAt, snapshot);
        const role: Role = random.chance(0.03) ? 'owner' : random.chance(0.15) ? 'admin' : 'member';
        memberships.push({
          id: this.ids.next(joinedAt),
          userId: member.id,
          organizationId: id,
          role,
          createdAt: joinedAt,
        });
      }
      const billingRoll = random.float();
      return {
        id,
        name,
        slug,
        personal: false,
        ownerId: null,
        billingEmail: billingRoll < 0.6 ? creator.email : billingRoll < 0.85 ? `billing@${slug}.example` : null,
        createdAt,
        updatedAt: random.instant(createdAt, snapshot),
        creatorId: creator.id,
        memberships,
      };
    });
  }

  /** The personal org the app creates at sign-up since the feature shipped. */
  personal(user: FixtureUser): FixtureOrganization {
    const name = user.name?.trim() || emailLocalPart(user.email);
    let slug: string;
    do slug = `${appSlug(name) || 'user'}-${this.random.base36(4)}`;
    while (this.#slugs.has(slug));
    this.#slugs.add(slug);
    const id = this.ids.next(user.createdAt);
    return {
      id,
      name,
      slug,
      personal: true,
      ownerId: user.id,
      billingEmail: user.email,
      createdAt: user.createdAt,
      updatedAt: user.createdAt,
      creatorId: user.id,
      memberships: [
        {
          id: this.ids.next(user.createdAt),
          userId: user.id,
          organizationId: id,
          role: 'owner',
          createdAt: user.createdAt,
        },
      ],
    };
  }

  /**
   * A company name, or (for one team in seven) the creator's own name or
   * email handle: freelancers do that, and it takes the slug a migration is
   * most likely to want for the creator's personal org.
   */
  #teamName(creator: FixtureUser): { name: string; slug: string; namedAfterCreator: boolean } {
    const random = this.random;
    if (random.chance(1 / 7)) {
      const trimmed = creator.name?.trim() ?? '';
      const own = trimmed !== '' && isPlainAscii(trimmed) ? trimmed : emailLocalPart(creator.email);
      const slug = plainSlug(own);
      if (slug !== '' && isPlainAscii(own.replace(/[._-]/g, ' ')) && !this.#slugs.has(slug)) {
        this.#slugs.add(slug);
        return { name: own, slug, namedAfterCreator: true };
      }
    }
    const name = `${random.pick(COMPANIES)}${random.pick(DEPARTMENTS)}`;
    const base = appSlug(name) || `team-${random.base36(6)}`;
    let slug = base;
    for (let n = 2; this.#slugs.has(slug); n++) slug = `${base}-${n}`;
    this.#slugs.add(slug);
    return { name, slug, namedAfterCreator: false };
  }
}

/** How many of `users` (sorted by creation) had signed up before `instant`. */
function signedUpBefore(users: readonly FixtureUser[], instant: number): number {
  let low = 0;
  let high = users.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((users[mid] as FixtureUser).createdAt < instant) low = mid + 1;
    else high = mid;
  }
  return Math.max(1, low);
}

export function organizationRow(org: FixtureOrganization): Row {
  return {
    id: org.id,
    name: org.name,
    slug: org.slug,
    personal: org.personal,
    ownerId: org.ownerId,
    billingEmail: org.billingEmail,
    createdAt: org.createdAt,
    updatedAt: org.updatedAt,
  };
}

export function membershipRow(membership: FixtureMembership): Row {
  return {
    id: membership.id,
    userId: membership.userId,
    organizationId: membership.organizationId,
    role: membership.role,
    apiKeyEnc: null,
    createdAt: membership.createdAt,
  };
}
