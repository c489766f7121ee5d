import type { CuidFactory } from './cuid.js';
import type { FixtureMembership } from './organizations.js';
import type { Random } from './random.js';
import type { Row } from './tables.js';
import type { FixtureUser } from './users.js';

export interface DependentCounts {
  readonly projects: number;
  readonly apiTokens: number;
  readonly invoices: number;
}

export interface PerUserDependents {
  readonly projectsPerUser: number;
  readonly apiTokensPerUser: number;
  readonly invoicesPerUser: number;
}

export interface UserDependents {
  readonly projects: Row[];
  readonly apiTokens: Row[];
  readonly invoices: Row[];
}

const PROJECT_NAMES = [
  'Website redesign',
  'Q3 roadmap',
  'Onboarding flow',
  'Mobile app',
  'Data pipeline',
  'Marketing site',
  'Side project',
  'Thesis',
  'Wedding planning',
  'Untitled project',
  'Projet été 2024',
  '新規プロジェクト',
  'Umzug → Berlin',
];
const TOKEN_LABELS = ['CI', 'laptop', 'GitHub Actions', 'zapier', 'prod server', 'staging', 'n8n'];
const PRICES = [900, 1900, 4900, 9900, 19900];

/** The rows a user owns in "Project", "ApiToken" and "Invoice". */
export class DependentFactory {
  constructor(
    private readonly random: Random,
    private readonly ids: CuidFactory,
    private readonly perUser: PerUserDependents,
    private readonly snapshot: number,
  ) {}

  forUser(user: FixtureUser, teams: readonly FixtureMembership[], personalOrgId: string | null): UserDependents {
    const random = this.random;
    // Some of a team member's rows were made in the team after joining it
    // (invoices only by its owners and admins); the rest belong to the user
    // alone: no organization for a legacy user, the personal org for a native one.
    const place = (billing: boolean): { at: number; organizationId: string | null } => {
      const joined = billing ? teams.filter((m) => m.role !== 'member') : teams;
      if (joined.length > 0 && random.chance(0.35)) {
        const membership = random.pick(joined);
        return { at: random.instant(membership.createdAt, this.snapshot), organizationId: membership.organizationId };
      }
      return { at: random.instant(user.createdAt, this.snapshot), organizationId: personalOrgId };
    };
    const projects: Row[] = [];
    for (let n = this.#count(this.perUser.projectsPerUser); n > 0; n--) {
      const { at, organizationId } = place(false);
      projects.push({
        id: this.ids.next(at),
        userId: user.id,
        organizationId,
        name: random.pick(PROJECT_NAMES),
        createdAt: at,
      });
    }
    const apiTokens: Row[] = [];
    for (let n = this.#count(this.perUser.apiTokensPerUser); n > 0; n--) {
      const { at, organizationId } = place(false);
      apiTokens.push({
        id: this.ids.next(at),
        userId: user.id,
        organizationId,
        label: random.pick(TOKEN_LABELS),
        lastUsedAt: random.chance(0.3) ? null : random.instant(at, this.snapshot),
        createdAt: at,
      });
    }
    const invoices: Row[] = [];
    for (let n = this.#count(this.perUser.invoicesPerUser); n > 0; n--) {
      const { at, organizationId } = place(true);
      const currency = random.float();
      invoices.push({
        id: this.ids.next(at),
        userId: user.id,
        organizationId,
        amountCents: random.chance(0.8) ? random.pick(PRICES) : random.int(100, 250_000),
        currency: currency < 0.8 ? 'usd' : currency < 0.95 ? 'eur' : 'jpy',
        issuedAt: at,
      });
    }
    return { projects, apiTokens, invoices };
  }

  /** Between none and twice the average, so the average holds and some users have nothing. */
  #count(average: number): number {
    return average <= 0 ? 0 : this.random.int(0, Math.round(2 * average));
  }
}
