import type { AggregateKey, UsageCounters, UsageRecord } from "../core/usage";

/**
 * Usage table layout.
 *   record:    pk REQ#<requestId>              sk REQ
 *              gsi1pk TENANT#<id>#DAY#<day>    gsi1sk <time>#<requestId>    expiresAt (TTL)
 *   aggregate: pk AGG#<tenant>#S<shard>        sk DAY#<day>#<model>#<version> | HOUR#<hour>#<model>#<version>
 * The shard is part of the partition key so a busy tenant's counters spread over partitions.
 */
export const recordPk = (requestId: string) => `REQ#${requestId}`;
export const aggregatePk = (tenantId: string, shard: number) => `AGG#${tenantId}#S${shard}`;
export const periodPrefix = (g: AggregateKey["granularity"]) => (g === "day" ? "DAY" : "HOUR");
export const aggregateSk = (k: Pick<AggregateKey, "granularity" | "period" | "model" | "version">) =>
  `${periodPrefix(k.granularity)}#${k.period}#${k.model}#${k.version}`;

export function recordItem(r: UsageRecord, retentionDays: number): Record<string, unknown> {
  const expiresAt = Math.floor(Date.parse(r.time) / 1000) + retentionDays * 86_400;
  return {
    pk: recordPk(r.requestId),
    sk: "REQ",
    type: "usage",
    gsi1pk: `TENANT#${r.tenantId}#DAY#${r.time.slice(0, 10)}`,
    gsi1sk: `${r.time}#${r.requestId}`,
    ...r,
    expiresAt,
  };
}

export function aggregateKeyId(k: AggregateKey): string {
  return `${aggregatePk(k.tenantId, k.shard)}|${aggregateSk(k)}`;
}

/** UpdateItem input adding `c` to an aggregate, creating it on first use. */
export function aggregateUpdate(table: string, k: AggregateKey, c: UsageCounters) {
  return {
    TableName: table,
    Key: { pk: aggregatePk(k.tenantId, k.shard), sk: aggregateSk(k) },
    UpdateExpression:
      "SET #type = :type, tenantId = :tenant, granularity = :g, period = :period, model = :model, version = :version " +
      "ADD requests :requests, errors :errors, bytesIn :bytesIn, bytesOut :bytesOut, latencyMs :latencyMs, inputTokens :inputTokens, outputTokens :outputTokens",
    ExpressionAttributeNames: { "#type": "type" },
    ExpressionAttributeValues: {
      ":type": "aggregate",
      ":tenant": k.tenantId,
      ":g": k.granularity,
      ":period": k.period,
      ":model": k.model,
      ":version": k.version,
      ":requests": c.requests,
      ":errors": c.errors,
      ":bytesIn": c.bytesIn,
      ":bytesOut": c.bytesOut,
      ":latencyMs": c.latencyMs,
      ":inputTokens": c.inputTokens,
      ":outputTokens": c.outputTokens,
    },
  };
}
