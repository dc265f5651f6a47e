import { createHash } from "node:crypto";
import { type AggregateKey, COUNTER_FIELDS, type UsageCounters, type UsageRecord } from "../core/usage";
import { recordPosition } from "../core/usage-query";

/**
 * Usage table layout.
 *   records:   pk REC#<tenant>#<received day>#<shard>   sk <time>#<requestId> of the pack's earliest record
 *              type usage-pack   recordsJson: the records, one JSON array   n   expiresAt (TTL)
 *              one commit's records of one tenant and received day; no index attributes, so a
 *              write costs its item alone (a GSI entry would cost at least one more WRU).
 *              The records are one string, not a list of maps: every layer a pack passes through
 *              (the SDK's marshalling and signing, DynamoDB's parser and storage, the stream's
 *              image, unmarshalling) pays per attribute, ~13 per record (bench/README, 2026-12-01).
 *              Packs written before hold `records: [record map, ...]`, read alike.
 *   written before REC# partitions, read through gsi1 until they expire:
 *     pack:       pk REQ#<requestId> sk REQ type usage-pack  gsi1pk TENANT#<id>#DAY#<day>  gsi1sk <first time>#<requestId>
 *     old record: pk REQ#<requestId> sk REQ type usage (aggregated when written), the record's fields inline, same gsi1
 *   aggregate: pk AGG#<tenant>#S<shard>        sk DAY#<day>#<model>#<version>#<keyId> | HOUR#<hour>#<model>#<version>#<keyId>
 *   applied:   pk FRESH#<tenant>               sk MIN#<yyyy-mm-ddThh:mm>   applied: records of packs whose first time is in that minute
 *   checkpoint: pk AGGCP                       sk <stream shard id>        position: the last applied part of the stream
 * A pack is keyed by its earliest record alone (tenant, day, time, request id), so a one-record
 * pack (a Lambda instance, a repair) has the key any other one-record write of that record has:
 * `attribute_not_exists(pk)` keeps a retried or repaired request from being written twice.
 * Packs are aggregated from the table's stream (functions/aggregator).
 * The shard is part of the aggregate's partition key so a busy tenant's counters spread over
 * partitions; reads group the finest grain (model, version, key) at read time.
 */
/** The aggregate and applied-count partitions' prefixes (IAM narrows the aggregator's writes to them). */
export const AGGREGATE_PK_PREFIX = "AGG#";
export const FRESHNESS_PK_PREFIX = "FRESH#";
export const aggregatePk = (tenantId: string, shard: number) => `${AGGREGATE_PK_PREFIX}${tenantId}#S${shard}`;
export const periodPrefix = (g: AggregateKey["granularity"]) => (g === "day" ? "DAY" : "HOUR");
export const aggregateSk = (k: Pick<AggregateKey, "granularity" | "period" | "model" | "version" | "keyId">) =>
  `${periodPrefix(k.granularity)}#${k.period}#${k.model}#${k.version}#${k.keyId}`;
/**
 * Partitions a tenant's records of one day spread over: a busy tenant's day would otherwise be
 * one partition, whose write throughput (1000 WRU/s) caps the tenant. Readers query every one.
 */
export const RECORD_SHARDS = 8;
/** The partition of a pack keyed by the record `requestId`: a stable hash, so every writer of the record agrees. */
export const recordShard = (requestId: string) => createHash("sha256").update(requestId).digest().readUInt16BE(0) % RECORD_SHARDS;
/** The record partitions' common prefix (IAM narrows queries on the table to it). */
export const RECORD_PK_PREFIX = "REC#";
export const recordPk = (tenantId: string, day: string, shard: number) => `${RECORD_PK_PREFIX}${tenantId}#${day}#${shard}`;
/** gsi1's partition of a tenant's day, where items written before REC# partitions are found. */
export const legacyRecordGsi1pk = (tenantId: string, day: string) => `TENANT#${tenantId}#DAY#${day}`;
export const freshnessPk = (tenantId: string) => `${FRESHNESS_PK_PREFIX}${tenantId}`;
/** The minute of an ISO time, the grain at which applied records are counted. */
export const minuteOf = (isoTime: string) => isoTime.slice(0, 16);
export const freshnessSk = (minute: string) => `MIN#${minute}`;
export const CHECKPOINT_PK = "AGGCP";

export const PACK_TYPE = "usage-pack";

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

/** Whether an item is a pack (aggregated from the stream) rather than an old, already aggregated record. */
export const isPack = (i: Record<string, unknown>) =>
  i.type === PACK_TYPE && (typeof i.recordsJson === "string" || Array.isArray(i.records));

/** The records an item holds: a pack's records (either encoding), or the one record of an old item. */
export function recordsOf(i: Record<string, unknown>): UsageRecord[] {
  if (i.type === PACK_TYPE && typeof i.recordsJson === "string") {
    const list: unknown = JSON.parse(i.recordsJson);
    if (!Array.isArray(list)) throw new Error(`usage pack ${String(i.pk)} ${String(i.sk)}: recordsJson is not an array`);
    return list.map((r) => recordOf(r as Record<string, unknown>));
  }
  if (isPack(i)) return (i.records as Record<string, unknown>[]).map(recordOf);
  return [recordOf(i)];
}

/** The usage record a record map (or an old item) holds, without the table's own attributes. */
export function recordOf(i: Record<string, unknown>): UsageRecord {
  const n = (v: unknown) => (typeof v === "number" ? v : Number(v ?? 0));
  const tokens = i.tokens as { input?: unknown; output?: unknown } | undefined;
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
    ...(tokens ? { tokens: { input: n(tokens.input), output: n(tokens.output) } } : {}),
    ...(leases ? { leases } : {}),
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
