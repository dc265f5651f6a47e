import { createHash } from "node:crypto";

/**
 * Usage table layout, shared by the adapters that read and write it and by the IAM policies
 * that narrow each function to its prefixes.
 *   records:    pk REC#<tenant>#<received day>#<shard>   sk <time>#<requestId> of the pack's earliest record
 *               type usage-pack   recordsJson: the records, one JSON array   n   expiresAt (TTL)
 *               one commit's records of one tenant and received day; no index attributes, so a
 *               write costs its item alone (a GSI entry would cost at least one more WRU).
 *               The records are one string, not a list of maps: every layer a pack passes through
 *               (the SDK's marshalling and signing, DynamoDB's parser and storage, the stream's
 *               image, unmarshalling) pays per attribute, ~13 per record (bench/README, 2026-12-01).
 *   aggregate:  pk AGG#<tenant>#S<shard>   sk DAY#<day>#<model>#<version>#<keyId> | HOUR#<hour>#<model>#<version>#<keyId>
 *   applied:    pk FRESH#<tenant>          sk MIN#<yyyy-mm-ddThh:mm>   applied: records of packs whose first time is in that minute
 *   checkpoint: pk AGGCP                   sk <stream shard id>        position: the last applied part of the stream
 *   limits:     pk LIMIT#<subject>#        (functions/aws/limit-items.ts)
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
/** The record partitions' common prefix (IAM narrows queries on the table to it). */
export const RECORD_PK_PREFIX = "REC#";
/** The limit cells' common prefix. */
export const LIMIT_PK_PREFIX = "LIMIT#";
export const CHECKPOINT_PK = "AGGCP";
/** The `type` of a pack item: the aggregator's stream filter selects these. */
export const PACK_TYPE = "usage-pack";

export interface AggregateSortKey {
  readonly granularity: "hour" | "day";
  readonly period: string;
  readonly model: string;
  readonly version: number;
  readonly keyId: string;
}

export const aggregatePk = (tenantId: string, shard: number) => `${AGGREGATE_PK_PREFIX}${tenantId}#S${shard}`;
export const periodPrefix = (g: AggregateSortKey["granularity"]) => (g === "day" ? "DAY" : "HOUR");
export const aggregateSk = (k: AggregateSortKey) => `${periodPrefix(k.granularity)}#${k.period}#${k.model}#${k.version}#${k.keyId}`;

/**
 * Partitions a tenant's records of one day spread over: a busy tenant's day would otherwise be
 * one partition, whose write throughput (1000 WRU/s) caps the tenant. Readers query every one.
 */
export const RECORD_SHARDS = 8;
/** The partition of a pack keyed by the record `requestId`: a stable hash, so every writer of the record agrees. */
export const recordShard = (requestId: string) => createHash("sha256").update(requestId).digest().readUInt16BE(0) % RECORD_SHARDS;
export const recordPk = (tenantId: string, day: string, shard: number) => `${RECORD_PK_PREFIX}${tenantId}#${day}#${shard}`;

export const freshnessPk = (tenantId: string) => `${FRESHNESS_PK_PREFIX}${tenantId}`;
/** The minute of an ISO time, the grain at which applied records are counted. */
export const minuteOf = (isoTime: string) => isoTime.slice(0, 16);
export const freshnessSk = (minute: string) => `MIN#${minute}`;
