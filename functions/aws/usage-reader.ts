import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { UsageReader } from "../core/ports";
import { AGGREGATE_SHARDS, type Granularity, type UsageRow } from "../core/usage";
import { queryAll } from "./query-all";
import { aggregatePk, periodPrefix } from "./usage-items";

/** Reads aggregate rows by querying every shard of the tenant (never a scan). */
export class DynamoUsageReader implements UsageReader {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async aggregates(tenantId: string, granularity: Granularity, fromPeriod: string, toPeriod: string): Promise<UsageRow[]> {
    const prefix = periodPrefix(granularity);
    const shards = Array.from({ length: AGGREGATE_SHARDS }, (_, s) => s);
    const perShard = await Promise.all(
      shards.map(async (shard) => {
        const items = await queryAll(this.doc, {
          TableName: this.table,
          KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :to",
          ExpressionAttributeValues: {
            ":pk": aggregatePk(tenantId, shard),
            ":from": `${prefix}#${fromPeriod}`,
            // '~' sorts after every character of a period, model name and version.
            ":to": `${prefix}#${toPeriod}~`,
          },
        });
        return items.map(rowOf);
      }),
    );
    return perShard.flat();
  }
}

function rowOf(i: Record<string, unknown>): UsageRow {
  const n = (v: unknown) => (typeof v === "number" ? v : Number(v ?? 0));
  return {
    period: String(i.period),
    model: String(i.model),
    version: n(i.version),
    requests: n(i.requests),
    errors: n(i.errors),
    bytesIn: n(i.bytesIn),
    bytesOut: n(i.bytesOut),
    latencyMs: n(i.latencyMs),
    inputTokens: n(i.inputTokens),
    outputTokens: n(i.outputTokens),
  };
}
