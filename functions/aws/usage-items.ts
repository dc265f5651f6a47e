import { aggregatePk, aggregateSk, PACK_TYPE, recordPk, recordShard } from "../contract/usage-keys";
import { type AggregateKey, COUNTER_FIELDS, type UsageCounters, type UsageRecord } from "../core/usage";
import { recordPosition } from "../core/usage-query";

/**
 * The most records a pack holds, and how far apart their received times may be. A record map is
 * well under 1 KB, so 100 stay far below DynamoDB's 400 KB item limit. Readers of a time range
 * look back PACK_SPAN_MS before it, since a pack is sorted by its first record's time.
 */
export const MAX_RECORDS_PER_PACK = 100;
export const PACK_SPAN_MS = 60_000;

/** Orders records by position: time, then request id. */
export const byRecordPosition = (a: UsageRecord, b: UsageRecord) => {
  const [pa, pb] = [recordPosition(a.time, a.requestId), recordPosition(b.time, b.requestId)];
  return pa < pb ? -1 : pa > pb ? 1 : 0;
};

/**
 * The pack of `records` (one tenant, one received day, times within PACK_SPAN_MS), keyed by its
 * earliest record (records sorted by position: pass them sorted to know which one that is).
 */
export function packItem(records: readonly UsageRecord[], retentionDays: number): Record<string, unknown> {
  const sorted = [...records].sort(byRecordPosition);
  const first = sorted[0];
  if (!first) throw new Error("a pack holds at least one record");
  const expiresAt = Math.floor(Date.parse(first.time) / 1000) + retentionDays * 86_400;
  return {
    pk: recordPk(first.tenantId, first.time.slice(0, 10), recordShard(first.requestId)),
    sk: recordPosition(first.time, first.requestId),
    type: PACK_TYPE,
    tenantId: first.tenantId,
    recordsJson: JSON.stringify(sorted),
    // The record count, readable by a projection: freshness compares it with what was applied.
    n: sorted.length,
    writtenAt: new Date().toISOString(),
    expiresAt,
  };
}

/** The position (`<time>#<requestId>`) a pack is sorted by: its sort key. */
export const packPosition = (i: Record<string, unknown>) => String(i.sk);

/** Whether an item is a pack of usage records (the usage table also holds aggregates, limit cells, checkpoints). */
export const isPack = (i: Record<string, unknown>) => i.type === PACK_TYPE && typeof i.recordsJson === "string";

/** The records a pack holds. */
export function recordsOf(i: Record<string, unknown>): UsageRecord[] {
  if (!isPack(i)) throw new Error(`usage item ${String(i.pk)} ${String(i.sk)} is not a pack`);
  const list: unknown = JSON.parse(String(i.recordsJson));
  if (!Array.isArray(list)) throw new Error(`usage pack ${String(i.pk)} ${String(i.sk)}: recordsJson is not an array`);
  return list.map((r) => recordOf(r as Record<string, unknown>));
}

/** The usage record a pack's record map holds. */
function recordOf(i: Record<string, unknown>): UsageRecord {
  const n = (v: unknown) => (typeof v === "number" ? v : Number(v ?? 0));
  const tokens = i.tokens as { input?: unknown; output?: unknown; cached?: unknown } | undefined;
  const kind = i.kind as UsageRecord["kind"] | undefined;
  const leases = Array.isArray(i.leases) ? i.leases.map(String) : undefined;
  return {
    requestId: String(i.requestId),
    time: String(i.time),
    tenantId: String(i.tenantId),
    keyId: String(i.keyId),
    model: String(i.model),
    version: n(i.version),
    ...(typeof i.alias === "string" ? { alias: i.alias } : {}),
    ...(kind ? { kind } : {}),
    status: n(i.status),
    latencyMs: n(i.latencyMs),
    bytesIn: n(i.bytesIn),
    bytesOut: n(i.bytesOut),
    ...(tokens
      ? {
          tokens: {
            input: n(tokens.input),
            output: n(tokens.output),
            ...(tokens.cached !== undefined ? { cached: n(tokens.cached) } : {}),
          },
        }
      : {}),
    ...(leases ? { leases } : {}),
    ...(typeof i.cost === "string" ? { cost: i.cost } : {}),
    ...(typeof i.currency === "string" ? { currency: i.currency } : {}),
  };
}

// Built once: the sink builds an update per aggregate per transaction.
const AGGREGATE_UPDATE_EXPRESSION =
  "SET #type = :type, tenantId = :tenant, granularity = :g, period = :period, model = :model, version = :version, keyId = :key " +
  `ADD ${COUNTER_FIELDS.map((f) => `${f} :${f}`).join(", ")}`;

/** UpdateItem input adding `c` to an aggregate, creating it on first use. */
export function aggregateUpdate(table: string, k: AggregateKey, c: UsageCounters) {
  return {
    TableName: table,
    Key: { pk: aggregatePk(k.tenantId, k.shard), sk: aggregateSk(k) },
    UpdateExpression: AGGREGATE_UPDATE_EXPRESSION,
    ExpressionAttributeNames: { "#type": "type" },
    ExpressionAttributeValues: {
      ":type": "aggregate",
      ":tenant": k.tenantId,
      ":g": k.granularity,
      ":period": k.period,
      ":model": k.model,
      ":version": k.version,
      ":key": k.keyId,
      ...Object.fromEntries(COUNTER_FIELDS.map((f) => [`:${f}`, c[f]])),
    },
  };
}
