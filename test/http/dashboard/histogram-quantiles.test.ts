import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { bucketQuantile, histogramQuantiles } from '../../../src/http/dashboard/histogram-quantiles.js';

describe('bucketQuantile', () => {
  const buckets = [
    { le: 0.001, count: 50 },
    { le: 0.01, count: 90 },
    { le: 0.1, count: 100 },
    { le: Number.POSITIVE_INFINITY, count: 100 },
  ];

  it('interpolates linearly inside the bucket the rank falls in, like histogram_quantile', () => {
    expect(bucketQuantile(0.5, buckets)).toBeCloseTo(0.001, 12);
    expect(bucketQuantile(0.25, buckets)).toBeCloseTo(0.0005, 12);
    expect(bucketQuantile(0.7, buckets)).toBeCloseTo(0.001 + 0.009 * 0.5, 12);
    expect(bucketQuantile(0.99, buckets)).toBeCloseTo(0.01 + 0.09 * 0.9, 12);
  });

  it('answers the largest finite bound when the rank falls in +Inf, and null without observations', () => {
    expect(bucketQuantile(0.99, [...buckets.slice(0, 3), { le: Number.POSITIVE_INFINITY, count: 200 }])).toBe(0.1);
    expect(bucketQuantile(0.5, [{ le: 1, count: 0 }])).toBeNull();
  });
});

describe('histogramQuantiles', () => {
  it("reads a prom-client histogram's buckets", async () => {
    const registry = new Registry();
    const histogram = new Histogram({ name: 'h_seconds', help: 'h', buckets: [0.01, 0.1, 1], registers: [registry] });
    expect(await histogramQuantiles(registry, 'h_seconds')).toEqual({ count: 0, p50: null, p90: null, p99: null });
    for (let i = 0; i < 90; i++) histogram.observe(0.005);
    for (let i = 0; i < 10; i++) histogram.observe(0.5);
    const q = await histogramQuantiles(registry, 'h_seconds');
    expect(q.count).toBe(100);
    expect(q.p50).toBeCloseTo(0.01 * (50 / 90), 12);
    expect(q.p90).toBeCloseTo(0.01, 12);
    expect(q.p99).toBeCloseTo(0.1 + 0.9 * 0.9, 12);
  });
});
