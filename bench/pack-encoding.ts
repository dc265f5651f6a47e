import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from "@aws-sdk/client-dynamodb-streams";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { packItem, recordsOf } from "../functions/aws/usage-items";
import type { UsageRecord } from "../functions/core/usage";
import { ensureTables } from "../infra/local/bootstrap/tables";
import { sampleRecord, startProbeDynamoDb } from "./probe-dynamodb";

/**
 * `tsx bench/pack-encoding.ts [--packs 300] [--rounds 2]`: what a usage pack's encoding costs,
 * with its records as a list of maps (packs before 2026-12-01) or as one JSON string
 * (`recordsJson`, now). Starts its own DynamoDB Local (the platform's JVM flags, on disk),
 * writes `packs` packs one at a time as the sink does (conditional PutItem), then reads them back
 * from the table's stream as the local event source mapping does (GetRecords, unmarshall,
 * records decoded). Prints CPU per pack of this Node process and of the JVM, for the write and
 * the stream read, for packs of 1, 10 and 50 records.
 */
const { values } = parseArgs({ options: { packs: { type: "string", default: "300" }, rounds: { type: "string", default: "2" } } });
const packs = Number(values.packs);

const ddb = await startProbeDynamoDb("pack-encoding");
const { jvm, jvmCpuMs } = ddb;
const nodeCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const common = { endpoint: ddb.endpoint, region: "us-east-1", credentials: { accessKeyId: "l", secretAccessKey: "l" } };
const client = new DynamoDBClient(common);
const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
const streams = new DynamoDBStreamsClient(common);
await ensureTables(client, "encoding");
const table = "encoding-usage";
const streamArn = (await client.send(new DescribeTableCommand({ TableName: table }))).Table?.LatestStreamArn;

/** A pack's records in either encoding: the platform reads only `recordsJson`; the list is decoded here for the comparison. */
const decode = (i: Record<string, unknown>): UsageRecord[] => (Array.isArray(i.records) ? (i.records as UsageRecord[]) : recordsOf(i));

const records = (n: number) => Array.from({ length: n }, sampleRecord);

type Encoding = "list of maps" | "JSON string";
/** A pack as the sink writes it, in either encoding. */
function pack(encoding: Encoding, n: number): Record<string, unknown> {
  const item: Record<string, unknown> = { ...packItem(records(n), 30), commitId: randomUUID() };
  if (encoding === "JSON string") return item;
  const { recordsJson, ...rest } = item;
  return { ...rest, records: JSON.parse(String(recordsJson)) };
}

async function round(encoding: Encoding, perPack: number): Promise<string> {
  const shards = (await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }))).StreamDescription?.Shards ?? [];
  let iterator = (
    await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shards.at(-1)?.ShardId, ShardIteratorType: "LATEST" }))
  ).ShardIterator;
  const [n0, j0] = [nodeCpuMs(), jvmCpuMs()];
  for (let i = 0; i < packs; i++) {
    await doc.send(new PutCommand({ TableName: table, Item: pack(encoding, perPack), ConditionExpression: "attribute_not_exists(pk)" }));
  }
  const [n1, j1] = [nodeCpuMs(), jvmCpuMs()];
  let read = 0;
  while (read < packs * perPack && iterator) {
    const out = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
    for (const r of out.Records ?? []) read += decode(unmarshall(r.dynamodb?.NewImage as never)).length;
    iterator = out.NextShardIterator;
  }
  const [n2, j2] = [nodeCpuMs(), jvmCpuMs()];
  const per = (a: number, b: number) => ((b - a) / packs).toFixed(2).padStart(6);
  return `${encoding.padEnd(12)} ${String(perPack).padStart(3)} records: write node ${per(n0, n1)} jvm ${per(j0, j1)}   stream read node ${per(n1, n2)} jvm ${per(j1, j2)}   ms cpu/pack`;
}

const encodings: Encoding[] = ["list of maps", "JSON string"];
// Warm-up: C1 compiles the write and stream paths on first use.
for (const e of encodings) await round(e, 10);
console.log(`DynamoDB Local JVM ${jvm}; ${packs} packs per case, one write at a time`);
for (let r = 1; r <= Number(values.rounds); r++) {
  for (const perPack of [1, 10, 50]) for (const e of encodings) console.log(`round ${r}  ${await round(e, perPack)}`);
}
await ddb.stop();
process.exit(0);
