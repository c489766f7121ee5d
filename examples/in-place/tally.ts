import type { DependentCounts } from './dependents.js';
import type { Row } from './tables.js';

type Counts = { -readonly [K in keyof DependentCounts]: number };

const zero = (): Counts => ({ projects: 0, apiTokens: 0, invoices: 0 });

/** Counts dependent rows as they are generated: overall, by kind of organization, and for sampled users. */
export class DependentTally {
  readonly all = zero();
  readonly withoutOrganization = zero();
  readonly inTeams = zero();
  readonly #perSample: Map<string, { total: Counts; withoutOrganization: Counts }>;

  constructor(
    private readonly teamIds: ReadonlySet<string>,
    sampledUserIds: readonly string[],
  ) {
    this.#perSample = new Map(sampledUserIds.map((id) => [id, { total: zero(), withoutOrganization: zero() }]));
  }

  add(userId: string, kind: keyof DependentCounts, rows: readonly Row[]): void {
    const sample = this.#perSample.get(userId);
    for (const row of rows) {
      const org = row.organizationId as string | null;
      this.all[kind]++;
      if (org === null) this.withoutOrganization[kind]++;
      else if (this.teamIds.has(org)) this.inTeams[kind]++;
      if (sample) {
        sample.total[kind]++;
        if (org === null) sample.withoutOrganization[kind]++;
      }
    }
  }

  ofSample(userId: string): { total: DependentCounts; withoutOrganization: DependentCounts } {
    return this.#perSample.get(userId) ?? { total: zero(), withoutOrganization: zero() };
  }
}
