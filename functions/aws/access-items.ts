import type { AccessRecord } from "../core/access";
import { aggregateShard } from "../core/usage";
import { recordOf } from "./usage-items";

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

/** An access item read back: the usage record's parsing, narrowed to what an access record holds. */
export function accessRecordOf(i: Record<string, unknown>): AccessRecord {
  const { requestId, time, tenantId, keyId, model, version, alias, bytesIn } = recordOf(i);
  return { requestId, time, tenantId, keyId, model, version, ...(alias === undefined ? {} : { alias }), bytesIn };
}
