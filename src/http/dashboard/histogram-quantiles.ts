import type { Histogram, Registry } from 'prom-client';

export interface Quantiles {
  /** Observations so far; the quantiles are null while it is 0. */
  readonly count: number;
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p99: number | null;
}

/** One cumulative bucket: observations ≤ `le`. */
export interface Bucket {
  readonly le: number;
  readonly count: number;
}

/**
 * Estimates a quantile from cumulative buckets the way Prometheus'
 * histogram_quantile does: linear within the bucket the rank falls in, and
 * the largest finite bound when it falls in +Inf. An estimate, off by at
 * most one bucket's width.
 */
export function bucketQuantile(q: number, buckets: readonly Bucket[]): number | null {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (total === 0) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const bucket of sorted) {
    if (bucket.count >= rank) {
      if (bucket.le === Number.POSITIVE_INFINITY) return lower;
      const inBucket = bucket.count - below;
      return inBucket === 0 ? bucket.le : lower + (bucket.le - lower) * ((rank - below) / inBucket);
    }
    lower = bucket.le;
    below = bucket.count;
  }
  return lower;
}

/** p50/p90/p99 of a histogram in `registry`, summed over its label sets. */
export async function histogramQuantiles(registry: Registry, name: string): Promise<Quantiles> {
  // Only histograms have _bucket samples; anything else yields no buckets and null quantiles.
  const metric = registry.getSingleMetric(name) as Histogram | undefined;
  const buckets = new Map<number, number>();
  for (const sample of (await metric?.get())?.values ?? []) {
    const le = sample.labels.le;
    if (le === undefined || !sample.metricName?.endsWith('_bucket')) continue;
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + sample.value);
  }
  const list = [...buckets].map(([le, count]) => ({ le, count }));
  return {
    count: list.reduce((max, b) => Math.max(max, b.count), 0),
    p50: bucketQuantile(0.5, list),
    p90: bucketQuantile(0.9, list),
    p99: bucketQuantile(0.99, list),
  };
}
