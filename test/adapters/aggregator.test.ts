import { randomUUID } from "node:crypto";
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from "@aws-sdk/client-dynamodb-streams";
import { describe, expect, it } from "@jest/globals";
import type { DynamoDBRecord } from "aws-lambda";
import { createAggregatorHandler } from "../../functions/aggregator/create-aggregator-handler";
import { type AggregateStore, DynamoAggregateStore } from "../../functions/aws/usage-aggregates";
import { DynamoUsageReader } from "../../functions/aws/usage-reader";
import { DynamoUsageSink } from "../../functions/aws/usage-sink";
import { tableName, usageTable } from "../../functions/contract/tables";
import { buildUsageRecord, type UsageRecord } from "../../functions/core/usage";
import { createTableInput } from "../../infra/local/bootstrap/tables";
import { lambdaRecordOf } from "../../infra/local/stream-poller";
import { e2ePlatform } from "../e2e/helpers";
import { localDocumentClient } from "./dynamo";

const doc = localDocumentClient();
const config = { endpoint: e2ePlatform().dynamodb, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } };
const dynamo = new DynamoDBClient(config);
const streams = new DynamoDBStreamsClient(config);

/** A usage table of its own (with its stream), so the platform's poller never applies its packs. */
async function freshTable(): Promise<{ table: string; streamArn: string }> {
  const platform = `agg${randomUUID().slice(0, 8)}`;
  await dynamo.send(new CreateTableCommand(createTableInput(platform, usageTable)));
  const table = tableName(platform, usageTable);
  const arn = (await dynamo.send(new DescribeTableCommand({ TableName: table }))).Table?.LatestStreamArn as string;
  return { table, streamArn: arn };
}

/** Every record on the table's stream so far, as Lambda's event source mapping would hand them over. */
async function streamRecords(streamArn: string): Promise<{ shardId: string; records: DynamoDBRecord[] }> {
  const shard = (await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }))).StreamDescription?.Shards?.[0];
  const shardId = shard?.ShardId as string;
  let it = (await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: "TRIM_HORIZON" })))
    .ShardIterator;
  const records: DynamoDBRecord[] = [];
  for (let empty = 0; it && empty < 2; ) {
    const out = await streams.send(new GetRecordsCommand({ ShardIterator: it }));
    if ((out.Records ?? []).length === 0) empty++;
    records.push(...(out.Records ?? []).map((r) => lambdaRecordOf(r, streamArn)));
    it = out.NextShardIterator;
  }
  return { shardId, records };
}

function record(tenantId: string, over: Partial<UsageRecord> = {}): UsageRecord {
  const now = Date.now();
  return {
    ...buildUsageRecord({
      requestId: randomUUID(),
      receivedAt: now,
      finishedAt: now + 3,
      tenantId,
      keyId: `k${Math.floor(Math.random() * 30)}`,
      model: "iris",
      version: 1,
      status: 200,
      bytesIn: 10,
      bytesOut: 20,
      tokens: { input: 2, output: 3 },
    }),
    ...over,
  };
}

async function totals(table: string, tenantId: string) {
  const today = new Date().toISOString().slice(0, 10);
  const rows = await new DynamoUsageReader(doc, table).aggregates(tenantId, "day", today, today);
  const sum = (f: "requests" | "bytesOut" | "inputTokens" | "outputTokens") => rows.reduce((s, r) => s + r[f], 0);
  return { requests: sum("requests"), bytesOut: sum("bytesOut"), inputTokens: sum("inputTokens"), outputTokens: sum("outputTokens") };
}

describe("aggregator on DynamoDB Local's stream", () => {
  it("applies a batch exactly once: delivered twice, bisected, or killed mid-batch and restarted", async () => {
    const { table, streamArn } = await freshTable();
    const tenant = `agg-${randomUUID().slice(0, 8)}`;
    const sink = new DynamoUsageSink(doc, table, { retentionDays: 30, maxInFlight: 1 });
    const records = Array.from({ length: 300 }, () => record(tenant));
    expect(new Set(await Promise.all(records.map((r) => sink.record(r))))).toEqual(new Set(["recorded"]));
    const { shardId, records: batch } = await streamRecords(streamArn);
    expect(batch.length).toBeGreaterThan(1);
    expect(batch.length).toBeLessThan(300); // packed: far fewer items than records

    const store = new DynamoAggregateStore(doc, table);
    // Small transactions: a pack of 30 keys (60 aggregates) is split into several sub-transactions.
    let applied = 0;
    const dying: AggregateStore = {
      checkpoint: (s) => store.checkpoint(s),
      apply: async (s, e, tx) => {
        if (++applied > 3) throw new Error("killed");
        return store.apply(s, e, tx);
      },
    };
    const killed = await createAggregatorHandler({ store: dying, maxItemsPerTransaction: 10 })({ Records: batch, shardId });
    expect(killed.batchItemFailures).toHaveLength(1);
    expect((await totals(table, tenant)).requests).toBeGreaterThan(0);
    expect((await totals(table, tenant)).requests).toBeLessThan(300);

    const handler = createAggregatorHandler({ store, maxItemsPerTransaction: 10 });
    // The restarted function gets the batch again from the failed record on, then all of it twice.
    const from = batch.findIndex((r) => r.dynamodb?.SequenceNumber === killed.batchItemFailures[0]?.itemIdentifier);
    expect(from).toBeGreaterThanOrEqual(0);
    expect((await handler({ Records: batch.slice(from), shardId })).batchItemFailures).toEqual([]);
    expect((await handler({ Records: batch, shardId })).batchItemFailures).toEqual([]);
    const half = Math.ceil(batch.length / 2);
    await handler({ Records: batch.slice(0, half), shardId });
    await handler({ Records: batch.slice(half), shardId });
    expect(await totals(table, tenant)).toEqual({ requests: 300, bytesOut: 300 * 20, inputTokens: 600, outputTokens: 900 });
    // Fresh once everything written was applied, though nothing new arrives on the stream.
    const asOf = await new DynamoUsageReader(doc, table).freshness(tenant, Date.now());
    expect(Date.parse(asOf)).toBeGreaterThan(Date.parse(records.at(-1)?.time ?? ""));
  });

  it("reports stale aggregates until the stream is applied", async () => {
    const { table, streamArn } = await freshTable();
    const tenant = `stale-${randomUUID().slice(0, 8)}`;
    await new DynamoUsageSink(doc, table, { retentionDays: 30 }).record(record(tenant));
    const reader = new DynamoUsageReader(doc, table);
    const before = Date.now();
    expect(Date.parse(await reader.freshness(tenant, Date.now()))).toBeLessThan(before);
    const { shardId, records } = await streamRecords(streamArn);
    await createAggregatorHandler({ store: new DynamoAggregateStore(doc, table) })({ Records: records, shardId });
    expect(Date.parse(await reader.freshness(tenant, Date.now()))).toBeGreaterThanOrEqual(before - 1000);
  });

  it("skips counts that are not non-negative safe integers under the cap, and the batch goes on", async () => {
    const { table, streamArn } = await freshTable();
    const tenant = `bad-${randomUUID().slice(0, 8)}`;
    const sink = new DynamoUsageSink(doc, table, { retentionDays: 30, maxRecordsPerPack: 1 });
    // DynamoDB refuses numbers above 1e125 itself; a string stands for a non-numeric count.
    const bad = [-5, Number.MAX_SAFE_INTEGER, 1.5, "many" as unknown as number];
    for (const input of bad) await sink.record(record(tenant, { tokens: { input, output: 1 } }));
    await sink.record(record(tenant));
    const { shardId, records } = await streamRecords(streamArn);
    const result = await createAggregatorHandler({ store: new DynamoAggregateStore(doc, table) })({ Records: records, shardId });
    expect(result.batchItemFailures).toEqual([]);
    expect(await totals(table, tenant)).toEqual({ requests: 5, bytesOut: 100, inputTokens: 2, outputTokens: 7 });
  });
});
