import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import {
  LATENCY_BUCKET_FIELDS,
  LATENCY_BUCKET_UPPER_MS,
  type LatencyHistogram,
  latencyBucketOf,
  latencyPercentile,
} from "../../functions/core/latency-histogram";

const histogramOf = (latencies: readonly number[]): LatencyHistogram => {
  const h = Object.fromEntries(LATENCY_BUCKET_FIELDS.map((f) => [f, 0])) as LatencyHistogram;
  for (const ms of latencies) h[latencyBucketOf(ms)] += 1;
  return h;
};

describe("latency histograms", () => {
  it("puts a latency in the first bucket whose upper bound holds it, and everything past 60 s in the last", () => {
    expect(latencyBucketOf(0)).toBe("lh0");
    expect(latencyBucketOf(1)).toBe("lh0");
    expect(latencyBucketOf(1.5)).toBe("lh1");
    expect(latencyBucketOf(5)).toBe("lh2");
    expect(latencyBucketOf(60_000)).toBe("lh14");
    expect(latencyBucketOf(61_000)).toBe("lh15");
    expect(LATENCY_BUCKET_FIELDS).toHaveLength(LATENCY_BUCKET_UPPER_MS.length + 1);
  });

  it("estimates percentiles within the bucket of the true one, and says null for no requests", () => {
    expect(latencyPercentile(histogramOf([]), 0.5)).toBeNull();
    const latencies = [...Array(98).fill(12), 400, 400];
    const h = histogramOf(latencies);
    const p50 = latencyPercentile(h, 0.5) ?? 0;
    expect(p50).toBeGreaterThan(10);
    expect(p50).toBeLessThanOrEqual(20);
    const p99 = latencyPercentile(h, 0.99) ?? 0;
    expect(p99).toBeGreaterThan(200);
    expect(p99).toBeLessThanOrEqual(500);
  });

  it("never misplaces a percentile by more than its bucket (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 59_000 }), { minLength: 1, maxLength: 200 }),
        fc.constantFrom(0.5, 0.9, 0.99),
        (ls, p) => {
          const sorted = [...ls].sort((a, b) => a - b);
          const exact = sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? 0;
          const bucket = LATENCY_BUCKET_FIELDS.indexOf(latencyBucketOf(exact));
          const lower = bucket === 0 ? 0 : (LATENCY_BUCKET_UPPER_MS[bucket - 1] ?? 0);
          const upper = LATENCY_BUCKET_UPPER_MS[bucket] ?? Number.POSITIVE_INFINITY;
          const estimate = latencyPercentile(histogramOf(ls), p) ?? -1;
          expect(estimate).toBeGreaterThanOrEqual(lower);
          expect(estimate).toBeLessThanOrEqual(upper);
        },
      ),
    );
  });
});
