import { createHash } from "node:crypto";
import { LATENCY_BUCKET_FIELDS, type LatencyHistogram, latencyBucketOf } from "./latency-histogram";
import { formatAmount, parseAmount } from "./money/amount";
import { batchPriceOf } from "./money/batch-price";
import { costOf } from "./money/cost";
import { type Price, priceInForce } from "./money/prices";

/**
 * What a record is for. `billable`: the request reached the model for the tenant's own answer.
 * `refused`: refused by a limit (429) before the model was called. `shadow`: a copy sent to a
 * shadow version whose answer was discarded. `batch`: a line of a batch job, billed like a
 * billable request at the batch price. Only billable and batch records count as `requests`.
 */
export type UsageKind = "billable" | "refused" | "shadow" | "batch";
export const USAGE_KINDS: readonly UsageKind[] = ["billable", "refused", "shadow", "batch"];

/** Kinds the tenant pays for: the interactive requests and the batch lines. */
export const isBilledKind = (k: UsageKind): boolean => k === "billable" || k === "batch";

/** One usage record: exactly one per request that reached a model (or was refused by a limit). */
export interface UsageRecord {
  readonly requestId: string;
  /** ISO-8601 time the request was received. */
  readonly time: string;
  readonly tenantId: string;
  readonly keyId: string;
  readonly model: string;
  /** 0 on a refusal made before a version was chosen. */
  readonly version: number;
  readonly alias?: string;
  /** Absent means billable: the common kind is not stored. */
  readonly kind?: UsageKind;
  /** HTTP status returned to the client. */
  readonly status: number;
  readonly latencyMs: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** As the engine reported them; `cached`: prompt tokens it served from its prefix cache (part of `input`). */
  readonly tokens?: { readonly input: number; readonly output: number; readonly cached?: number };
  /** limit leases the request was admitted under; lease reclaim counts them */
  readonly leases?: readonly string[];
  /**
   * What the request costs, a decimal string in `currency`: computed once, when the record is
   * built, with the price in force at `time` (functions/core/money/cost.ts says how it rounds).
   * Absent on refused and shadow records and where no price applies: those cost nothing.
   */
  readonly cost?: string;
  readonly currency?: string;
}

export const kindOf = (r: Pick<UsageRecord, "kind">): UsageKind => r.kind ?? "billable";

/**
 * The most tokens (input or output) one request is billed for. Far beyond any context window
 * today; a count above it is a broken or hostile report, not a generation. It also keeps every
 * stored count and every sum of counts a safe integer, far from DynamoDB's limits (a number past
 * 1e125 fails the whole write, and with it other tenants' records committed alongside).
 */
export const MAX_BILLED_TOKENS_PER_REQUEST = 10_000_000;

/** A token count that may be billed: a non-negative safe integer up to the per-request cap. */
export function isBillableTokenCount(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 && v <= MAX_BILLED_TOKENS_PER_REQUEST;
}

/** Both counts billable: the pair is billed, else neither (half a broken report is no basis for a bill). */
export function areBillableTokens(t: unknown): t is { readonly input: number; readonly output: number } {
  if (typeof t !== "object" || t === null) return false;
  const { input, output } = t as Record<string, unknown>;
  return isBillableTokenCount(input) && isBillableTokenCount(output);
}

export interface UsageRecordInput {
  readonly requestId: string;
  readonly receivedAt: number;
  readonly finishedAt: number;
  readonly tenantId: string;
  readonly keyId: string;
  readonly model: string;
  readonly version: number;
  readonly alias?: string | undefined;
  /** @default "billable" */
  readonly kind?: UsageKind | undefined;
  readonly status: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly tokens?: { readonly input: number; readonly output: number; readonly cached?: number } | undefined;
  readonly leases?: readonly string[] | undefined;
  /** The model's prices: the one in force at `receivedAt` for this tenant and version prices a billable record. */
  readonly prices?: readonly Price[] | undefined;
}

export function buildUsageRecord(i: UsageRecordInput): UsageRecord {
  const record = unpricedRecord(i);
  if (!isBilledKind(kindOf(record)) || !i.prices?.length) return record;
  const price = recordPrice(i.prices, record);
  if (!price) return record;
  const cost = costOf(price, {
    requests: 1,
    inputTokens: record.tokens?.input ?? 0,
    outputTokens: record.tokens?.output ?? 0,
    cachedInputTokens: record.tokens?.cached ?? 0,
    modelTimeMs: record.latencyMs,
  });
  return { ...record, cost: formatAmount(cost.total), currency: cost.currency };
}

/** The price a billed record is charged at: the one in force at its time, discounted for a batch line. */
export function recordPrice(prices: readonly Price[], r: Pick<UsageRecord, "model" | "version" | "tenantId" | "time" | "kind">) {
  const price = priceInForce(prices, { model: r.model, version: r.version, tenant: r.tenantId, at: r.time });
  return price && kindOf(r) === "batch" ? batchPriceOf(price) : price;
}

function unpricedRecord(i: UsageRecordInput): UsageRecord {
  return {
    requestId: i.requestId,
    time: new Date(i.receivedAt).toISOString(),
    tenantId: i.tenantId,
    keyId: i.keyId,
    model: i.model,
    version: i.version,
    ...(i.alias ? { alias: i.alias } : {}),
    // Billable stays implicit: the stored shape of ordinary records does not change.
    ...(i.kind && i.kind !== "billable" ? { kind: i.kind } : {}),
    status: i.status,
    latencyMs: Math.max(0, Math.round(i.finishedAt - i.receivedAt)),
    bytesIn: i.bytesIn,
    bytesOut: i.bytesOut,
    // The last guard before a store: counts that are not billable never reach a record.
    ...(areBillableTokens(i.tokens) ? { tokens: billedTokens(i.tokens) } : {}),
    ...(i.leases && i.leases.length > 0 ? { leases: i.leases } : {}),
  };
}

/** The counts a record keeps: input and output, and the cached part of the input when it is one. */
function billedTokens(t: { readonly input: number; readonly output: number; readonly cached?: number }) {
  const cached = t.cached;
  return cached !== undefined && isBillableTokenCount(cached) && cached > 0 && cached <= t.input
    ? { input: t.input, output: t.output, cached }
    : { input: t.input, output: t.output };
}

export interface RefusalRecordInput {
  readonly requestId: string;
  readonly receivedAt: number;
  readonly tenantId: string;
  readonly keyId: string;
  readonly model: string;
  /** The version the request would have gone to, when already resolved. @default 0 */
  readonly version?: number | undefined;
  readonly alias?: string | undefined;
  /** @default 429 */
  readonly status?: number | undefined;
  readonly bytesIn: number;
}

/** The record of a request a limit refused before the model was called: counted, never billed. */
export function buildRefusalRecord(i: RefusalRecordInput): UsageRecord {
  return buildUsageRecord({
    ...i,
    kind: "refused",
    version: i.version ?? 0,
    status: i.status ?? 429,
    // Nothing ran: no latency or answer worth metering.
    finishedAt: i.receivedAt,
    bytesOut: 0,
  });
}

/**
 * Request id of the shadow copy of request `requestId`: records are keyed by request id, so
 * the copy needs its own, and a derived one keeps a redelivered copy idempotent.
 */
export const shadowRequestId = (requestId: string) => `${requestId}:shadow`;

/** Aggregates are sharded so one busy tenant spreads its counter writes over partitions. */
export const AGGREGATE_SHARDS = 4;

export function aggregateShard(requestId: string, shards = AGGREGATE_SHARDS): number {
  return createHash("sha256").update(requestId).digest().readUInt16BE(0) % shards;
}

export type Granularity = "day" | "hour";

/** The period bucket of an ISO time: `2026-11-28` (day) or `2026-11-28T13` (hour). */
export function periodOf(isoTime: string, granularity: Granularity): string {
  return granularity === "day" ? isoTime.slice(0, 10) : isoTime.slice(0, 13);
}

/**
 * Counter increments one record contributes to its aggregates. The unprefixed counters are
 * the billable ones; refusals and shadow copies have their own so they can never be billed.
 * The billable requests' latencies are also counted in log-spaced buckets (`lh0`…`lh15`,
 * latency-histogram.ts), from which reports give percentiles.
 */
export type UsageCounters = BaseCounters & LatencyHistogram;

interface BaseCounters {
  /** Billable requests. */
  requests: number;
  /** Billable requests answered with a 4xx/5xx (the model was still called). */
  errors: number;
  bytesIn: number;
  bytesOut: number;
  latencyMs: number;
  inputTokens: number;
  outputTokens: number;
  /** Requests refused by a limit before the model was called. */
  refused: number;
  /**
   * Shadow copies: the operator's cost of trying a version, and the numbers to compare it
   * with the live one (error rate, latency, tokens). Bytes are left out: the input is the
   * live request's and the answer is discarded.
   */
  shadowRequests: number;
  shadowErrors: number;
  shadowLatencyMs: number;
  shadowInputTokens: number;
  shadowOutputTokens: number;
  /**
   * What the billable requests cost, in nano-units (1e-9) of the platform currency: an integer,
   * exact while below 2^53 (about 9 million currency units per row), which the report checks.
   */
  costNano: number;
}

export const COUNTER_FIELDS = [
  "requests",
  "errors",
  "bytesIn",
  "bytesOut",
  "latencyMs",
  "inputTokens",
  "outputTokens",
  "refused",
  "shadowRequests",
  "shadowErrors",
  "shadowLatencyMs",
  "shadowInputTokens",
  "shadowOutputTokens",
  "costNano",
  ...LATENCY_BUCKET_FIELDS,
] as const satisfies ReadonlyArray<keyof UsageCounters>;

export function emptyCounters(): UsageCounters {
  const c = {} as UsageCounters;
  for (const k of COUNTER_FIELDS) c[k] = 0;
  return c;
}

export function countersOf(r: UsageRecord): UsageCounters {
  const c = emptyCounters();
  const error = r.status >= 400 ? 1 : 0;
  switch (kindOf(r)) {
    // A batch line is a billed request like any other; its price is what differs.
    case "batch":
    case "billable":
      c.requests = 1;
      c.errors = error;
      c.bytesIn = r.bytesIn;
      c.bytesOut = r.bytesOut;
      c.latencyMs = r.latencyMs;
      c.inputTokens = r.tokens?.input ?? 0;
      c.outputTokens = r.tokens?.output ?? 0;
      c.costNano = costNanoOf(r);
      c[latencyBucketOf(r.latencyMs)] = 1;
      break;
    case "refused":
      // A 429 is not a model error and nothing was transferred to or from a model.
      c.refused = 1;
      break;
    case "shadow":
      c.shadowRequests = 1;
      c.shadowErrors = error;
      c.shadowLatencyMs = r.latencyMs;
      c.shadowInputTokens = r.tokens?.input ?? 0;
      c.shadowOutputTokens = r.tokens?.output ?? 0;
      break;
  }
  return c;
}

/** A record's cost in nano-units, as a counter adds it. */
export function costNanoOf(r: Pick<UsageRecord, "cost">): number {
  if (r.cost === undefined) return 0;
  try {
    return Number(parseAmount(r.cost));
  } catch {
    // Not an amount: the aggregator's checks leave it out and name it, as with any bad counter.
    return Number.NaN;
  }
}

/** Adds the counter fields of `add` into `into` (other fields of either are left alone). */
export function addCounters<T extends UsageCounters>(into: T, add: Readonly<UsageCounters>): T {
  for (const k of COUNTER_FIELDS) into[k] += add[k];
  return into;
}

/** Identifies one aggregate item: tenant × period × model × version × key (× shard). */
export interface AggregateKey {
  readonly tenantId: string;
  readonly granularity: Granularity;
  readonly period: string;
  readonly model: string;
  readonly version: number;
  readonly keyId: string;
  readonly shard: number;
}

export function aggregateKeysOf(r: UsageRecord): AggregateKey[] {
  const shard = aggregateShard(r.requestId);
  return (["day", "hour"] as const).map((granularity) => ({
    tenantId: r.tenantId,
    granularity,
    period: periodOf(r.time, granularity),
    model: r.model,
    version: r.version,
    keyId: r.keyId,
    shard,
  }));
}

/** One stored aggregate (possibly one of several shards): the finest grain. */
export interface UsageRow extends UsageCounters {
  readonly period: string;
  readonly model: string;
  readonly version: number;
  readonly keyId: string;
}

/** How report rows are grouped within a period: by model, by model and version, or by API key. */
export type UsageGroup = "model" | "version" | "key";
export const USAGE_GROUPS: readonly UsageGroup[] = ["model", "version", "key"];

export interface UsageReportRow extends UsageCounters {
  readonly period: string;
  /** Set when grouped by model or version. */
  readonly model?: string;
  /** Set when grouped by version. */
  readonly version?: number;
  /** Set when grouped by key. */
  readonly keyId?: string;
}

export interface UsageReport {
  readonly tenantId: string;
  readonly from: string;
  readonly to: string;
  readonly granularity: Granularity;
  readonly group: UsageGroup;
  readonly totals: UsageCounters;
  readonly rows: UsageReportRow[];
  /** Every record written before this time is counted in the report (aggregates lag the records). */
  readonly asOf?: string;
}

function dimensionsOf(r: UsageRow, group: UsageGroup): Pick<UsageReportRow, "period" | "model" | "version" | "keyId"> {
  if (group === "model") return { period: r.period, model: r.model };
  if (group === "key") return { period: r.period, keyId: r.keyId };
  return { period: r.period, model: r.model, version: r.version };
}

function compareRows(a: UsageReportRow, b: UsageReportRow): number {
  if (a.period !== b.period) return a.period < b.period ? -1 : 1;
  if ((a.model ?? "") !== (b.model ?? "")) return (a.model ?? "") < (b.model ?? "") ? -1 : 1;
  if ((a.version ?? 0) !== (b.version ?? 0)) return (a.version ?? 0) - (b.version ?? 0);
  if ((a.keyId ?? "") !== (b.keyId ?? "")) return (a.keyId ?? "") < (b.keyId ?? "") ? -1 : 1;
  return 0;
}

/** Sums stored rows (shards, keys, versions) into one row per period and group, sorted, with totals. */
export function summarize(
  tenantId: string,
  range: { from: string; to: string; granularity: Granularity; group?: UsageGroup },
  shardRows: ReadonlyArray<UsageRow>,
): UsageReport {
  const group = range.group ?? "version";
  const merged = new Map<string, UsageReportRow>();
  for (const r of shardRows) {
    const dims = dimensionsOf(r, group);
    const key = JSON.stringify([dims.period, dims.model, dims.version, dims.keyId]);
    const existing = merged.get(key);
    if (existing) addCounters(existing, r);
    else merged.set(key, addCounters({ ...dims, ...emptyCounters() }, r));
  }
  const rows = [...merged.values()].sort(compareRows);
  const totals = rows.reduce((t, r) => addCounters(t, r), emptyCounters());
  return { tenantId, from: range.from, to: range.to, granularity: range.granularity, group, totals, rows };
}
