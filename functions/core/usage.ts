import { createHash } from "node:crypto";

/** One billable usage record: exactly one per request that reached a model. */
export interface UsageRecord {
  readonly requestId: string;
  /** ISO-8601 time the request was received. */
  readonly time: string;
  readonly tenantId: string;
  readonly keyId: string;
  readonly model: string;
  readonly version: number;
  readonly alias?: string;
  /** HTTP status returned to the client. */
  readonly status: number;
  readonly latencyMs: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly tokens?: { readonly input: number; readonly output: number };
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
  readonly status: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly tokens?: { readonly input: number; readonly output: number } | undefined;
}

export function buildUsageRecord(i: UsageRecordInput): UsageRecord {
  return {
    requestId: i.requestId,
    time: new Date(i.receivedAt).toISOString(),
    tenantId: i.tenantId,
    keyId: i.keyId,
    model: i.model,
    version: i.version,
    ...(i.alias ? { alias: i.alias } : {}),
    status: i.status,
    latencyMs: Math.max(0, Math.round(i.finishedAt - i.receivedAt)),
    bytesIn: i.bytesIn,
    bytesOut: i.bytesOut,
    ...(i.tokens ? { tokens: i.tokens } : {}),
  };
}

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

/** Counter increments one record contributes to its aggregates. */
export interface UsageCounters {
  requests: number;
  errors: number;
  bytesIn: number;
  bytesOut: number;
  latencyMs: number;
  inputTokens: number;
  outputTokens: number;
}

export function emptyCounters(): UsageCounters {
  return { requests: 0, errors: 0, bytesIn: 0, bytesOut: 0, latencyMs: 0, inputTokens: 0, outputTokens: 0 };
}

export function countersOf(r: UsageRecord): UsageCounters {
  return {
    requests: 1,
    errors: r.status >= 400 ? 1 : 0,
    bytesIn: r.bytesIn,
    bytesOut: r.bytesOut,
    latencyMs: r.latencyMs,
    inputTokens: r.tokens?.input ?? 0,
    outputTokens: r.tokens?.output ?? 0,
  };
}

const COUNTER_FIELDS = ["requests", "errors", "bytesIn", "bytesOut", "latencyMs", "inputTokens", "outputTokens"] as const;

/** Adds the counter fields of `add` into `into` (other fields of either are left alone). */
export function addCounters<T extends UsageCounters>(into: T, add: Readonly<UsageCounters>): T {
  for (const k of COUNTER_FIELDS) into[k] += add[k];
  return into;
}

/** Identifies one aggregate item: tenant × period × model × version (× shard). */
export interface AggregateKey {
  readonly tenantId: string;
  readonly granularity: Granularity;
  readonly period: string;
  readonly model: string;
  readonly version: number;
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
    shard,
  }));
}

export interface UsageRow extends UsageCounters {
  readonly period: string;
  readonly model: string;
  readonly version: number;
}

export interface UsageReport {
  readonly tenantId: string;
  readonly from: string;
  readonly to: string;
  readonly granularity: Granularity;
  readonly totals: UsageCounters;
  readonly rows: UsageRow[];
}

/** Sums shard rows into one row per period/model/version, sorted, with totals. */
export function summarize(
  tenantId: string,
  range: { from: string; to: string; granularity: Granularity },
  shardRows: ReadonlyArray<UsageRow>,
): UsageReport {
  const merged = new Map<string, UsageRow>();
  for (const r of shardRows) {
    const key = `${r.period}|${r.model}|${r.version}`;
    const existing = merged.get(key);
    if (existing) addCounters(existing, r);
    else merged.set(key, { ...r });
  }
  const rows = [...merged.values()].sort((a, b) =>
    a.period === b.period
      ? a.model === b.model
        ? a.version - b.version
        : a.model.localeCompare(b.model)
      : a.period.localeCompare(b.period),
  );
  const totals = rows.reduce((t, r) => addCounters(t, r), emptyCounters());
  return { tenantId, ...range, totals, rows };
}
