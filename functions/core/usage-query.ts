import { BadRequestError, RateLimitedError, ServiceUnavailableError } from "./errors";
import { LATENCY_BUCKET_FIELDS, type LatencyBucketField, latencyPercentile } from "./latency-histogram";
import { burstOf, type LimitStore, limitSubject, type TenantLimits } from "./limits/tenant-limits";
import { formatAmount, sumAmounts } from "./money/amount";
import type { UsageReader } from "./ports";
import {
  type Granularity,
  periodOf,
  summarize,
  USAGE_GROUPS,
  type UsageCounters,
  type UsageGroup,
  type UsageReport,
  type UsageReportRow,
} from "./usage";

export interface UsageQuery {
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly model?: string | undefined;
  readonly by?: string | undefined;
  readonly group?: string | undefined;
}

/** The query parameters a usage report reads (`GET /v1/usage` and its admin twin). */
export const USAGE_QUERY_PARAMS = ["from", "to", "model", "by", "group"] as const satisfies readonly (keyof UsageQuery)[];

const MAX_RANGE_DAYS = 400;
/** Hourly reports read 24 aggregates a day per group and shard: a month at most. */
export const MAX_HOURLY_RANGE_DAYS = 31;
const DAY_MS = 86_400_000;
const BARE_DATE = /^\d{4}-\d{2}-\d{2}$/;

function parseTime(value: string, field: "from" | "to"): number {
  // A bare date means that whole day in UTC: its start for `from`, its end for `to`.
  const t = Date.parse(BARE_DATE.test(value) ? `${value}T00:00:00Z` : value);
  if (!Number.isFinite(t)) throw new BadRequestError(`'${field}' must be an ISO-8601 date or time, got '${value}'`);
  return BARE_DATE.test(value) && field === "to" ? t + DAY_MS - 1 : t;
}

/** A validated time range, both ends inclusive, as ISO strings. */
export interface TimeRange {
  readonly from: string;
  readonly to: string;
}

/** Parses `from`/`to` (default: the current month to date); 400 naming the bad parameter. */
export function parseRange(q: Pick<UsageQuery, "from" | "to">, now = Date.now(), maxDays = MAX_RANGE_DAYS, why = ""): TimeRange {
  const nowIso = new Date(now).toISOString();
  const from = q.from !== undefined ? parseTime(q.from, "from") : Date.parse(`${nowIso.slice(0, 7)}-01T00:00:00Z`);
  const to = q.to !== undefined ? parseTime(q.to, "to") : now;
  if (from > to) throw new BadRequestError("'from' must not be after 'to'");
  if (to - from > maxDays * DAY_MS) throw new BadRequestError(`'from'..'to' may span at most ${maxDays} days${why}`);
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}

export function parseBy(by: string | undefined): Granularity {
  if (by === undefined || by === "day" || by === "hour") return by ?? "day";
  throw new BadRequestError(`'by' must be 'day' or 'hour', got '${by}'`);
}

function parseGroup(group: string | undefined): UsageGroup {
  if (group === undefined) return "version";
  if ((USAGE_GROUPS as readonly string[]).includes(group)) return group as UsageGroup;
  throw new BadRequestError(`'group' must be one of ${USAGE_GROUPS.join(", ")}, got '${group}'`);
}

/** Validates a usage query and reads the report: stored aggregates summed per period and group. */
export async function usageReport(reader: UsageReader, tenantId: string, q: UsageQuery, now = Date.now()): Promise<UsageReport> {
  const granularity = parseBy(q.by);
  const group = parseGroup(q.group);
  const range =
    granularity === "hour"
      ? parseRange(q, now, MAX_HOURLY_RANGE_DAYS, ` with by=hour (${MAX_RANGE_DAYS} with by=day)`)
      : parseRange(q, now);
  // Freshness first: whatever was applied by then is in the aggregates read next.
  const asOf = await reader.freshness(tenantId, now);
  const rows = (await reader.aggregates(tenantId, granularity, periodOf(range.from, granularity), periodOf(range.to, granularity))).filter(
    (r) => q.model === undefined || r.model === q.model,
  );
  return { ...summarize(tenantId, { ...range, granularity, group }, rows), asOf };
}

/**
 * Usage reads per tenant: each one reads up to hundreds of aggregates (and `/v1/usage` peeks at
 * the limit counters), so a tenant cannot loop on them. The counters are the admission limits'
 * own (a rate cell in the usage table), under a subject no API key can have.
 */
export const USAGE_READ_LIMITS: TenantLimits = { ratePerSecond: 2, burst: 20 };
export const usageReadSubject = (tenantId: string) => limitSubject(tenantId, "usage-reads");

/** Charges one usage read of the tenant: a 429 with Retry-After past the rate, a 503 when the store cannot tell. */
export async function admitUsageRead(
  store: LimitStore,
  tenantId: string,
  ctx: { readonly now: number; readonly requestId: string },
  limits: TenantLimits = USAGE_READ_LIMITS,
): Promise<void> {
  let admission: Awaited<ReturnType<LimitStore["charge"]>>;
  try {
    // A rate alone holds no slot and reserves no tokens: nothing to release afterwards.
    admission = await store.charge(usageReadSubject(tenantId), limits, ctx);
  } catch (err) {
    throw new ServiceUnavailableError("usage reads could not be rate-checked; retry shortly", { cause: err, retryAfterSeconds: 1 });
  }
  if (!admission.admitted) {
    throw new RateLimitedError(`usage reads are limited to ${limits.ratePerSecond}/s (burst ${burstOf(limits)}) per tenant`, {
      retryAfterSeconds: admission.retryAfterSeconds,
      headers: admission.headers,
    });
  }
}

/** A record's position within its tenant's day (`<time>#<requestId>`): how `UsageReader.records` orders and pages. */
export const recordPosition = (time: string, requestId: string) => `${time}#${requestId}`;

/**
 * The positions a `UsageReader.records` query covers: records with `time` in [fromTime, toTime]
 * ('~' sorts after '#'), after the cursor `after`. A cursor outside the bounds (or without a
 * position's shape) is the client's mistake: a 400, never a read.
 */
export function recordPositionRange(q: { readonly fromTime: string; readonly toTime: string; readonly after?: string | undefined }): {
  readonly lo: string;
  readonly hi: string;
  readonly contains: (position: string) => boolean;
} {
  const lo = q.fromTime;
  const hi = `${q.toTime}~`;
  const after = q.after;
  if (after !== undefined && (after.indexOf("#") < 1 || after < lo || after > hi))
    throw new BadRequestError("'cursor' is not valid for this range");
  return { lo, hi, contains: (p) => p >= lo && p <= hi && (after === undefined || p > after) };
}

/**
 * A report's counters as JSON shows them: the cost a decimal string instead of nano-units, and
 * the latency histogram as its p50 and p99 (ms; null without billable requests).
 */
export type PricedCounters = Omit<UsageCounters, "costNano" | LatencyBucketField> & {
  readonly cost: string;
  readonly latencyP50Ms: number | null;
  readonly latencyP99Ms: number | null;
};

/** Counters as JSON shows them (see PricedCounters). */
export function pricedCounters<T extends UsageCounters>(c: T): Omit<T, "costNano" | LatencyBucketField> & PricedCounters {
  const out: Record<string, unknown> = { ...(c as object) };
  delete out.costNano;
  for (const f of LATENCY_BUCKET_FIELDS) delete out[f];
  return {
    ...(out as Omit<T, "costNano" | LatencyBucketField>),
    cost: formatAmount(BigInt(c.costNano)),
    latencyP50Ms: latencyPercentile(c, 0.5),
    latencyP99Ms: latencyPercentile(c, 0.99),
  };
}

export interface UsageReportJson extends Omit<UsageReport, "totals" | "rows"> {
  readonly currency: string;
  readonly totals: PricedCounters;
  readonly rows: Array<PricedCounters & Pick<UsageReportRow, "period" | "model" | "version" | "keyId">>;
}

/**
 * The report with money as JSON carries it (`"cost": "0.000123"`, `"currency": "USD"`). The
 * total is the exact sum of the rows' costs, added as integers.
 */
export function usageReportJson(report: UsageReport, currency: string): UsageReportJson {
  const total = sumAmounts(report.rows.map((r) => BigInt(r.costNano)));
  return {
    ...report,
    currency,
    totals: { ...pricedCounters(report.totals), cost: formatAmount(total) },
    rows: report.rows.map(pricedCounters),
  };
}
