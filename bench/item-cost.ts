import { parseArgs } from "node:util";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { BatchWriteCommand, DynamoDBDocumentClient, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { ensureTables } from "../infra/local/bootstrap/tables";
import { startProbeDynamoDb } from "./probe-dynamodb";

/**
 * `tsx bench/item-cost.ts [--rounds 2] [--calls 20]`: what one written item costs DynamoDB
 * Local's JVM, by how it is written. Starts its own DynamoDB Local (the platform's JVM flags,
 * `-dbPath` on disk), creates the usage table, and writes 25-item calls one after another:
 * BatchWriteItem puts with and without an index entry and of a two-attribute item, and
 * TransactWriteItems puts with and without a condition. Prints JVM CPU and wall time per item.
 * The question it answers: can a different item layout make metering cheap on DynamoDB Local?
 */
const { values } = parseArgs({ options: { rounds: { type: "string", default: "2" }, calls: { type: "string", default: "20" } } });
const ITEMS = 25;
const calls = Number(values.calls);

const ddb = await startProbeDynamoDb("item-cost");
const { jvm, jvmCpuMs } = ddb;
const client = new DynamoDBClient({ endpoint: ddb.endpoint, region: "us-east-1", credentials: { accessKeyId: "l", secretAccessKey: "l" } });
const doc = DynamoDBDocumentClient.from(client);
await ensureTables(client, "cost");
const table = "cost-usage";

let seq = 0;
/** An access-record-sized item body. */
const body = (i: number) => ({
  requestId: `r${i}`,
  time: new Date().toISOString(),
  tenantId: "t",
  keyId: "k",
  model: "iris",
  version: 1,
  bytesIn: 100,
  expiresAt: 2e9,
});
const batch = (item: (i: number) => Record<string, unknown>) => () =>
  doc.send(
    new BatchWriteCommand({ RequestItems: { [table]: Array.from({ length: ITEMS }, () => ({ PutRequest: { Item: item(seq++) } })) } }),
  );
const txn = (item: (i: number) => Record<string, unknown>, condition?: string) => () =>
  doc.send(
    new TransactWriteCommand({
      TransactItems: Array.from({ length: ITEMS }, () => ({
        Put: { TableName: table, Item: item(seq++), ...(condition ? { ConditionExpression: condition } : {}) },
      })),
    }),
  );

const variants: Record<string, () => Promise<unknown>> = {
  "BatchWriteItem, with gsi1 entry": batch((i) => ({
    pk: `ACCESS#r${i}`,
    sk: "ACCESS",
    gsi1pk: `ACCESS#d#S${i % 4}`,
    gsi1sk: `t#${i}`,
    ...body(i),
  })),
  "BatchWriteItem, no index entry": batch((i) => ({ pk: `ACCESS#d#S${i % 4}`, sk: `t#${i}`, ...body(i) })),
  "BatchWriteItem, two attributes": batch((i) => ({ pk: `A#${i}`, sk: "A" })),
  "TransactWriteItems, conditional, gsi1": txn(
    (i) => ({ pk: `REQ#r${i}`, sk: "REQ", gsi1pk: "TENANT#t#DAY#d", gsi1sk: `t#${i}`, ...body(i) }),
    "attribute_not_exists(pk)",
  ),
  "TransactWriteItems, plain, no index": txn((i) => ({ pk: `REQ#r${i}`, sk: "REQ", ...body(i) })),
};

// Warm-up: C1 compiles the write path on first use.
for (const write of Object.values(variants)) for (let k = 0; k < calls; k++) await write();
console.log(`DynamoDB Local JVM ${jvm}; ${ITEMS}-item calls, ${calls} per round, one at a time`);
for (let round = 1; round <= Number(values.rounds); round++) {
  for (const [name, write] of Object.entries(variants)) {
    const cpu0 = jvmCpuMs();
    const t0 = performance.now();
    for (let k = 0; k < calls; k++) await write();
    const items = calls * ITEMS;
    console.log(
      `round ${round}  ${name.padEnd(40)} JVM ${((jvmCpuMs() - cpu0) / items).toFixed(1)} ms cpu/item  ${((performance.now() - t0) / items).toFixed(1)} ms wall/item`,
    );
  }
}
await ddb.stop();
process.exit(0);
