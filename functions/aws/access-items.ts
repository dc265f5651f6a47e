import type { AccessRecord } from "../core/access";
import { aggregateShard } from "../core/usage";

/**
 * Access records live in the usage table (same retention, same IAM boundary):
 *   pk ACCESS#<requestId>   sk ACCESS
 *   gsi1pk ACCESS#<day>#S<shard>   gsi1sk <time>#<requestId>   expiresAt (TTL)
 * The day partition is sharded like the aggregates so a busy platform's writes spread over
 * index partitions; a range read queries every shard of every day in it.
 */
export const ACCESS_SHARDS = 4;
export const accessPk = (requestId: string) => `ACCESS#${requestId}`;
export const ACCESS_SK = "ACCESS";
export const accessGsi1pk = (day: string, shard: number) => `ACCESS#${day}#S${shard}`;

export function accessItem(a: AccessRecord, retentionDays: number): Record<string, unknown> {
  return {
    pk: accessPk(a.requestId),
    sk: ACCESS_SK,
    type: "access",
    gsi1pk: accessGsi1pk(a.time.slice(0, 10), aggregateShard(a.requestId, ACCESS_SHARDS)),
    gsi1sk: `${a.time}#${a.requestId}`,
    ...a,
    expiresAt: Math.floor(Date.parse(a.time) / 1000) + retentionDays * 86_400,
  };
}

export function accessRecordOf(i: Record<string, unknown>): AccessRecord {
  return {
    requestId: String(i.requestId),
    time: String(i.time),
    tenantId: String(i.tenantId),
    keyId: String(i.keyId),
    model: String(i.model),
    version: Number(i.version ?? 0),
    ...(typeof i.alias === "string" ? { alias: i.alias } : {}),
    bytesIn: Number(i.bytesIn ?? 0),
  };
}
