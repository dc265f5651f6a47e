import { randomUUID } from "node:crypto";
import { type DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { recordsOf } from "../../functions/aws/usage-items";
import { DynamoUsageReader } from "../../functions/aws/usage-reader";
import { RECORD_SHARDS, recordPk, recordShard } from "../../functions/contract/usage-keys";
import { buildUsageRecord, type UsageRecord } from "../../functions/core/usage";
import { recordPosition } from "../../functions/core/usage-query";

/** What the usage sink and journal tests read and write on the e2e platform's usage table. */
export function usageRecordHelpers(doc: DynamoDBDocumentClient, table: string) {
  /** The key of the pack a record is the earliest of (a one-record pack's). */
  const keyOf = (r: UsageRecord) => ({
    pk: recordPk(r.tenantId, r.time.slice(0, 10), recordShard(r.requestId)),
    sk: recordPosition(r.time, r.requestId),
  });

  /** Every item in the tenant's record partitions of `day`. */
  async function recordItems(tenant: string, day: string) {
    const perShard = await Promise.all(
      Array.from({ length: RECORD_SHARDS }, (_, shard) =>
        doc.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: "pk = :pk",
            ExpressionAttributeValues: { ":pk": recordPk(tenant, day, shard) },
          }),
        ),
      ),
    );
    return perShard.flatMap((out) => out.Items ?? []);
  }

  /** The request ids stored for the tenant on `day`, one entry per stored copy, sorted. */
  async function storedIds(tenant: string, day: string): Promise<string[]> {
    return (await recordItems(tenant, day)).flatMap((i) => recordsOf(i).map((r) => r.requestId)).sort();
  }

  function record(tenantId: string, requestId = randomUUID()) {
    const now = Date.now();
    return buildUsageRecord({
      requestId,
      receivedAt: now,
      finishedAt: now + 3,
      tenantId,
      keyId: "k1",
      model: "iris",
      version: 1,
      status: 200,
      bytesIn: 10,
      bytesOut: 20,
    });
  }

  /** Day aggregates of the tenant once the platform's aggregator has applied everything written so far. */
  async function freshDayRows(tenant: string, today: string) {
    const reader = new DynamoUsageReader(doc, table);
    const since = new Date().toISOString();
    const end = Date.now() + 30_000;
    while ((await reader.freshness(tenant, Date.now())) < since) {
      if (Date.now() > end) throw new Error("aggregates not fresh after 30 s");
      await new Promise((r) => setTimeout(r, 100));
    }
    return reader.aggregates(tenant, "day", today, today);
  }

  return { keyOf, recordItems, storedIds, record, freshDayRows };
}
