import { type AggregateKey, COUNTER_FIELDS, type UsageCounters, type UsageRecord } from "../core/usage";

/**
 * Usage table layout.
 *   records:   pk REQ#<requestId>              sk REQ     type usage-pack
 *              gsi1pk TENANT#<id>#DAY#<day>    gsi1sk <first time>#<requestId>    expiresAt (TTL)
 *              records: [record map, ...]      one commit's records of one tenant and received day
 *   old record (written before packs):  pk REQ#<requestId> sk REQ type usage, the record's fields inline
 *   aggregate: pk AGG#<tenant>#S<shard>        sk DAY#<day>#<model>#<version>#<keyId> | HOUR#<hour>#<model>#<version>#<keyId>
 *   applied:   pk FRESH#<tenant>               sk MIN#<yyyy-mm-ddThh:mm>   applied: records of packs whose first time is in that minute
 *   checkpoint: pk AGGCP                       sk <stream shard id>        position: the last applied part of the stream
 * A pack is keyed by the request id of its first record, so a one-record pack (a Lambda instance)
 * has exactly the key an old record had: `attribute_not_exists(pk)` keeps a retried request from
 * being written twice, across versions too. Old records were aggregated when they were written;
 * packs are aggregated from the table's stream (functions/aggregator).
 * The shard is part of the aggregate's partition key so a busy tenant's counters spread over
 * partitions; reads group the finest grain (model, version, key) at read time.
 */
export const recordPk = (requestId: string) => `REQ#${requestId}`;
export const aggregatePk = (tenantId: string, shard: number) => `AGG#${tenantId}#S${shard}`;
export const periodPrefix = (g: AggregateKey["granularity"]) => (g === "day" ? "DAY" : "HOUR");
export const aggregateSk = (k: Pick<AggregateKey, "granularity" | "period" | "model" | "version" | "keyId">) =>
  `${periodPrefix(k.granularity)}#${k.period}#${k.model}#${k.version}#${k.keyId}`;
export const recordGsi1pk = (tenantId: string, day: string) => `TENANT#${tenantId}#DAY#${day}`;
export const recordGsi1sk = (time: string, requestId: string) => `${time}#${requestId}`;
export const freshnessPk = (tenantId: string) => `FRESH#${tenantId}`;
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

/** The pack of `records` (one tenant, one received day, first record first, times within PACK_SPAN_MS). */
export function packItem(records: readonly UsageRecord[], retentionDays: number): Record<string, unknown> {
  const first = records[0];
  if (!first) throw new Error("a pack holds at least one record");
  const firstTime = records.map((r) => r.time).sort()[0] ?? first.time;
  const expiresAt = Math.floor(Date.parse(firstTime) / 1000) + retentionDays * 86_400;
  return {
    pk: recordPk(first.requestId),
    sk: "REQ",
    type: PACK_TYPE,
    tenantId: first.tenantId,
    gsi1pk: recordGsi1pk(first.tenantId, firstTime.slice(0, 10)),
    gsi1sk: recordGsi1sk(firstTime, first.requestId),
    records: records.map((r) => ({ ...r })),
    // The record count, readable by a projection: freshness compares it with what was applied.
    n: records.length,
    writtenAt: new Date().toISOString(),
    expiresAt,
  };
}

/** Whether an item is a pack (aggregated from the stream) rather than an old, already aggregated record. */
export const isPack = (i: Record<string, unknown>) => i.type === PACK_TYPE && Array.isArray(i.records);

/** The records an item holds: a pack's records, or the one record of an old item. */
export function recordsOf(i: Record<string, unknown>): UsageRecord[] {
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

export function aggregateKeyId(k: AggregateKey): string {
  return `${aggregatePk(k.tenantId, k.shard)}|${aggregateSk(k)}`;
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
