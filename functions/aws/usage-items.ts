import { type AggregateKey, COUNTER_FIELDS, type UsageCounters, type UsageRecord } from "../core/usage";

/**
 * Usage table layout.
 *   record:    pk REQ#<requestId>              sk REQ
 *              gsi1pk TENANT#<id>#DAY#<day>    gsi1sk <time>#<requestId>    expiresAt (TTL)
 *   aggregate: pk AGG#<tenant>#S<shard>        sk DAY#<day>#<model>#<version>#<keyId> | HOUR#<hour>#<model>#<version>#<keyId>
 * The shard is part of the partition key so a busy tenant's counters spread over partitions;
 * reads group the finest grain (model, version, key) at read time.
 */
export const recordPk = (requestId: string) => `REQ#${requestId}`;
export const aggregatePk = (tenantId: string, shard: number) => `AGG#${tenantId}#S${shard}`;
export const periodPrefix = (g: AggregateKey["granularity"]) => (g === "day" ? "DAY" : "HOUR");
export const aggregateSk = (k: Pick<AggregateKey, "granularity" | "period" | "model" | "version" | "keyId">) =>
  `${periodPrefix(k.granularity)}#${k.period}#${k.model}#${k.version}#${k.keyId}`;
export const recordGsi1pk = (tenantId: string, day: string) => `TENANT#${tenantId}#DAY#${day}`;
export const recordGsi1sk = (time: string, requestId: string) => `${time}#${requestId}`;

export function recordItem(r: UsageRecord, retentionDays: number): Record<string, unknown> {
  const expiresAt = Math.floor(Date.parse(r.time) / 1000) + retentionDays * 86_400;
  return {
    pk: recordPk(r.requestId),
    sk: "REQ",
    type: "usage",
    gsi1pk: recordGsi1pk(r.tenantId, r.time.slice(0, 10)),
    gsi1sk: recordGsi1sk(r.time, r.requestId),
    ...r,
    expiresAt,
  };
}

/** The usage record an item holds, without the table's own attributes. */
export function recordOf(i: Record<string, unknown>): UsageRecord {
  const n = (v: unknown) => (typeof v === "number" ? v : Number(v ?? 0));
  const tokens = i.tokens as { input?: unknown; output?: unknown } | undefined;
  const kind = i.kind as UsageRecord["kind"] | undefined;
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
