import { readFileSync } from "node:fs";
import { Agent } from "node:http";
import { parseArgs } from "node:util";
import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { median } from "./load";

/**
 * `tsx bench/ddb-probe.ts --endpoint http://127.0.0.1:PORT [--agent default|keepalive]`:
 * median latency of ListTables, GetItem, PutItem and a two-item TransactWriteItems against a
 * running DynamoDB Local, then transactions/s at a few concurrencies. Used to find why
 * DynamoDB Local answered slowly on the development machine (see bench/README.md).
 */
const { values } = parseArgs({
  options: {
    endpoint: { type: "string" },
    agent: { type: "string", default: "keepalive" },
    n: { type: "string", default: "200" },
    seconds: { type: "string", default: "3" },
    pid: { type: "string" },
  },
});
if (!values.endpoint) throw new Error("--endpoint is required");
const n = Number(values.n);

const requestHandler =
  values.agent === "default" ? undefined : new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: 64 }) });
const client = new DynamoDBClient({
  endpoint: values.endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "local", secretAccessKey: "local" },
  maxAttempts: 1,
  ...(requestHandler ? { requestHandler } : {}),
});
const doc = DynamoDBDocumentClient.from(client);
const table = `probe-${Date.now()}`;
await client.send(
  new CreateTableCommand({
    TableName: table,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: [
      { AttributeName: "pk", AttributeType: "S" },
      { AttributeName: "sk", AttributeType: "S" },
    ],
    KeySchema: [
      { AttributeName: "pk", KeyType: "HASH" },
      { AttributeName: "sk", KeyType: "RANGE" },
    ],
  }),
);

/** CPU seconds the server process (--pid) has used so far: it is robust to a busy machine, latency is not. */
function serverCpu(): number {
  if (!values.pid) return Number.NaN;
  const fields = readFileSync(`/proc/${values.pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
const cpu = () => ({ server: serverCpu(), client: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6 });
const cpuPerOp = (c0: ReturnType<typeof cpu>, ops: number) => {
  const c1 = cpu();
  return `server ${(((c1.server - c0.server) / ops) * 1000).toFixed(2)} ms/op, client ${(((c1.client - c0.client) / ops) * 1000).toFixed(2)} ms/op`;
};

async function timed(label: string, op: (i: number) => Promise<unknown>, count = n): Promise<void> {
  for (let i = 0; i < Math.min(20, count); i++) await op(-i - 1); // warm-up (JIT, connections)
  const ms: number[] = [];
  const c0 = cpu();
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await op(i);
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  console.log(
    `${label.padEnd(14)} p50 ${median(ms).toFixed(2)} ms  p90 ${(ms[Math.floor(count * 0.9)] ?? 0).toFixed(2)} ms  cpu ${cpuPerOp(c0, count)}`,
  );
}

let seq = 0;
const txn = (i: number) =>
  doc.send(
    new TransactWriteCommand({
      TransactItems: [
        { Put: { TableName: table, Item: { pk: `r#${seq++}`, sk: "r", v: i }, ConditionExpression: "attribute_not_exists(pk)" } },
        {
          Update: {
            TableName: table,
            Key: { pk: `agg#${i % 8}`, sk: "a" },
            UpdateExpression: "ADD n :one",
            ExpressionAttributeValues: { ":one": 1 },
          },
        },
      ],
    }),
  );

await timed("ListTables", () => client.send(new ListTablesCommand({ Limit: 1 })));
await timed("PutItem", (i) => doc.send(new PutCommand({ TableName: table, Item: { pk: `p#${i}`, sk: "x", v: i } })));
await timed("GetItem", (i) => doc.send(new GetCommand({ TableName: table, Key: { pk: `p#${Math.abs(i)}`, sk: "x" } })));
await timed("TransactWrite", txn);
// The usage sink's shape at 32 concurrent requests: 32 conditional puts + 8 aggregate updates.
const batch = () =>
  doc.send(
    new TransactWriteCommand({
      TransactItems: [
        ...Array.from({ length: 32 }, () => ({
          Put: { TableName: table, Item: { pk: `b#${seq++}`, sk: "r", bytesIn: 100 }, ConditionExpression: "attribute_not_exists(pk)" },
        })),
        ...Array.from({ length: 8 }, (_, a) => ({
          Update: {
            TableName: table,
            Key: { pk: `bagg#${a}`, sk: "a" },
            UpdateExpression: "ADD n :n, bytesIn :b",
            ExpressionAttributeValues: { ":n": 4, ":b": 400 },
          },
        })),
      ],
    }),
  );
await timed("Txn 32+8", batch, Math.ceil(n / 4));

for (const c of [1, 4, 16]) {
  const end = performance.now() + Number(values.seconds) * 1000;
  let done = 0;
  let failed = 0;
  const t0 = performance.now();
  const c0 = cpu();
  await Promise.all(
    Array.from({ length: c }, async (_, w) => {
      while (performance.now() < end) {
        // Each worker its own aggregate item, so transactions never conflict.
        await doc
          .send(
            new TransactWriteCommand({
              TransactItems: [
                { Put: { TableName: table, Item: { pk: `c#${seq++}`, sk: "r" }, ConditionExpression: "attribute_not_exists(pk)" } },
                {
                  Update: {
                    TableName: table,
                    Key: { pk: `cagg#${w}`, sk: "a" },
                    UpdateExpression: "ADD n :one",
                    ExpressionAttributeValues: { ":one": 1 },
                  },
                },
              ],
            }),
          )
          .then(
            () => done++,
            () => failed++,
          );
      }
    }),
  );
  console.log(
    `txn c=${String(c).padEnd(3)} ${(done / ((performance.now() - t0) / 1000)).toFixed(0)} txn/s, failed ${failed}, cpu ${cpuPerOp(c0, done)}`,
  );
}
client.destroy();
