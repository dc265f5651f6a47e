import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterEach, describe, expect, it, jest } from "@jest/globals";
import type { AggregatorEvent } from "../../functions/aggregator/create-aggregator-handler";
import { packItem } from "../../functions/aws/usage-items";
import { tableName, usageTable } from "../../functions/contract/tables";
import { buildUsageRecord } from "../../functions/core/usage";
import { ensureTables } from "../../infra/local/bootstrap/tables";
import { type StreamPoller, startStreamPoller } from "../../infra/local/stream-poller";
import { notifyTableWrites, TableWrites } from "../../infra/local/table-writes";
import { e2ePlatform } from "../e2e/helpers";
import { localDocumentClient } from "./dynamo";

const doc = localDocumentClient();
const config = { endpoint: e2ePlatform().dynamodb, region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } };
const dynamo = new DynamoDBClient(config);
const streams = new DynamoDBStreamsClient(config);

const pack = () => {
  const now = Date.now();
  const r = buildUsageRecord({
    requestId: randomUUID(),
    receivedAt: now,
    finishedAt: now + 1,
    tenantId: "acme",
    keyId: "k1",
    model: "iris",
    version: 1,
    status: 200,
    bytesIn: 1,
    bytesOut: 2,
  });
  return packItem([r], 30);
};

let poller: StreamPoller | undefined;
afterEach(async () => {
  await poller?.stop();
  poller = undefined;
  jest.restoreAllMocks();
});

describe("local stream poller (DynamoDB Local's stream)", () => {
  it("delivers every pack written after it started on an empty shard, once, without a failed read", async () => {
    const [platform, other] = [`poll${randomUUID().slice(0, 8)}`, `poll${randomUUID().slice(0, 8)}`];
    await ensureTables(dynamo, platform);
    await ensureTables(dynamo, other);
    const table = tableName(platform, usageTable);
    const errors = jest.spyOn(console, "error").mockImplementation(() => undefined);
    const delivered: string[] = [];
    const handler = async (e: AggregatorEvent) => {
      delivered.push(...e.Records.map((r) => String(r.dynamodb?.NewImage?.sk?.S)));
      return { batchItemFailures: [], state: {} };
    };
    poller = await startStreamPoller({
      dynamo,
      streams,
      tableName: table,
      handler,
      batchingWindowMs: 100,
      startAfter: async () => undefined,
      onDiscard: () => undefined,
    });
    // DynamoDB Local numbers stream records across all its tables: an iterator taken at
    // TRIM_HORIZON of an empty shard points before the shard's first record once another table
    // was written in between, and GetRecords refuses it as trimmed (nothing is lost).
    await new Promise((r) => setTimeout(r, 500));
    for (let i = 0; i < 3; i++) await doc.send(new PutCommand({ TableName: tableName(other, usageTable), Item: pack() }));
    const written = Array.from({ length: 60 }, pack);
    for (let i = 0; i < written.length; i += 6)
      await Promise.all(written.slice(i, i + 6).map((item) => doc.send(new PutCommand({ TableName: table, Item: item }))));
    const deadline = Date.now() + 5_000;
    while (delivered.length < written.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    // A second pass of the poller's read loop must not deliver them again.
    await new Promise((r) => setTimeout(r, 600));
    expect(delivered.sort()).toEqual(written.map((i) => String(i.sk)).sort());
    expect(errors.mock.calls.map((c) => String(c[0]))).toEqual([]);
  });

  it("told of this process's writes, reads an idle shard rarely, a told write at once, and stops without waiting out a pause", async () => {
    const platform = `poll${randomUUID().slice(0, 8)}`;
    await ensureTables(dynamo, platform);
    const table = tableName(platform, usageTable);
    const writes = new TableWrites();
    // Written as the platform writes: a document client whose writes are told.
    const told = DynamoDBDocumentClient.from(new DynamoDBClient(config));
    notifyTableWrites(told, writes);
    const counted = new DynamoDBStreamsClient(config);
    let reads = 0;
    counted.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "GetRecordsCommand") reads++;
        return next(args);
      },
      { step: "initialize" },
    );
    const delivered: { sk: string; at: number }[] = [];
    poller = await startStreamPoller({
      dynamo,
      streams: counted,
      tableName: table,
      handler: async (e) => {
        for (const r of e.Records) delivered.push({ sk: String(r.dynamodb?.NewImage?.sk?.S), at: Date.now() });
        return { batchItemFailures: [], state: {} };
      },
      batchingWindowMs: 100,
      writes,
      idlePollMs: 5_000,
      startAfter: async () => undefined,
      onDiscard: () => undefined,
    });
    const deliveredWithin = async (sk: string, ms: number) => {
      const deadline = Date.now() + ms;
      while (!delivered.some((d) => d.sk === sk) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      return delivered.find((d) => d.sk === sk);
    };
    const first = pack();
    await told.send(new PutCommand({ TableName: table, Item: first }));
    expect(await deliveredWithin(String(first.sk), 10_000)).toBeDefined();

    // Four idle seconds: at Lambda's cadence (4 a second) 16 reads; backing off, a handful.
    const before = reads;
    await new Promise((r) => setTimeout(r, 4_000));
    expect(reads - before).toBeLessThanOrEqual(8);

    // Now deep in a pause of up to 5 s: a told write is read at once.
    const second = pack();
    const writtenAt = Date.now();
    await told.send(new PutCommand({ TableName: table, Item: second }));
    const got = await deliveredWithin(String(second.sk), 10_000);
    expect((got?.at ?? Number.POSITIVE_INFINITY) - writtenAt).toBeLessThan(2_000);

    await new Promise((r) => setTimeout(r, 1_500));
    const stopping = Date.now();
    await poller.stop();
    poller = undefined;
    expect(Date.now() - stopping).toBeLessThan(1_000);
    expect(delivered.map((d) => d.sk)).toEqual([String(first.sk), String(second.sk)]);
  });
});
