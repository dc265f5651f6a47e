/**
 * Latency histograms in the usage aggregates, so percentiles per model and hour come from the
 * aggregates, never from reading records. Log-spaced buckets (1-2-5 per decade): a bucket's
 * count is one more counter of the aggregate, added like the others. Bucket i counts latencies
 * in (upper[i-1], upper[i]] ms; the last counts everything above 60 s.
 */
export const LATENCY_BUCKET_UPPER_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000] as const;

/** One counter per bucket; short names, since every aggregate update writes each of them. */
export const LATENCY_BUCKET_FIELDS = [
  "lh0",
  "lh1",
  "lh2",
  "lh3",
  "lh4",
  "lh5",
  "lh6",
  "lh7",
  "lh8",
  "lh9",
  "lh10",
  "lh11",
  "lh12",
  "lh13",
  "lh14",
  "lh15",
] as const;

export type LatencyBucketField = (typeof LATENCY_BUCKET_FIELDS)[number];
export type LatencyHistogram = Record<LatencyBucketField, number>;

/** The bucket a latency falls in. */
export function latencyBucketOf(ms: number): LatencyBucketField {
  const i = LATENCY_BUCKET_UPPER_MS.findIndex((upper) => ms <= upper);
  return LATENCY_BUCKET_FIELDS[i === -1 ? LATENCY_BUCKET_FIELDS.length - 1 : i] as LatencyBucketField;
}

/**
 * The `p`-th percentile (0 < p < 1) of a histogram, in ms: the bucket where the cumulative
 * count reaches p of the total, interpolated linearly inside it (the last, open bucket reports
 * its lower bound). `null` for an empty histogram. Accurate to the bucket's width, as any
 * histogram percentile is.
 */
export function latencyPercentile(h: Readonly<LatencyHistogram>, p: number): number | null {
  const counts = LATENCY_BUCKET_FIELDS.map((f) => h[f] ?? 0);
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = p * total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i] ?? 0;
    if (n > 0 && below + n >= rank) {
      const lower = i === 0 ? 0 : (LATENCY_BUCKET_UPPER_MS[i - 1] ?? 0);
      const upper = LATENCY_BUCKET_UPPER_MS[i];
      if (upper === undefined) return lower;
      return Math.round((lower + ((rank - below) / n) * (upper - lower)) * 10) / 10;
    }
    below += n;
  }
  return LATENCY_BUCKET_UPPER_MS.at(-1) ?? null;
}
