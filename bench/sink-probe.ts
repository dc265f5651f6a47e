import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DynamoUsageSink } from "../functions/aws/usage-sink";
import { tableName, usageTable } from "../functions/contract/tables";
import { ensureTables } from "../infra/local/bootstrap/tables";
import { median } from "./load";
import { sampleRecord } from "./probe-dynamodb";

/**
 * `tsx bench/sink-probe.ts --endpoint http://127.0.0.1:PORT [--concurrency 32] [--in-flight 4]`:
 * records/s and commit latency of the usage sink alone against a running DynamoDB Local,
 * `concurrency` callers recording back to back, as the gateway's requests do.
 */
const { values } = parseArgs({
  options: {
    endpoint: { type: "string" },
    concurrency: { type: "string", default: "32" },
    "in-flight": { type: "string", default: "4" },
    seconds: { type: "string", default: "5" },
    /** DynamoDB Local's JVM, to report its CPU time per record (robust on a busy machine). */
    pid: { type: "string" },
  },
});
if (!values.endpoint) throw new Error("--endpoint is required");
const client = new DynamoDBClient({
  endpoint: values.endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "local", secretAccessKey: "local" },
});
const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
await ensureTables(client, "sinkprobe");
const sink = new DynamoUsageSink(doc, tableName("sinkprobe", usageTable), {
  retentionDays: 30,
  maxInFlight: Number(values["in-flight"]),
});

/** CPU seconds used so far by this process and by the JVM (--pid). */
function cpu(): { node: number; jvm: number } {
  const u = process.cpuUsage();
  const stat = values.pid ? (readFileSync(`/proc/${values.pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? []) : [];
  return { node: (u.user + u.system) / 1e6, jvm: values.pid ? (Number(stat[11]) + Number(stat[12])) / 100 : Number.NaN };
}

async function run(seconds: number): Promise<void> {
  const c0 = cpu();
  const end = performance.now() + seconds * 1000;
  const ms: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Number(values.concurrency) }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        await sink.record(sampleRecord());
        ms.push(performance.now() - s);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const c1 = cpu();
  const perRecord = (a: number, b: number) => (((b - a) / ms.length) * 1000).toFixed(2);
  console.log(
    `${(ms.length / secs).toFixed(0)} records/s, commit wait p50 ${median(ms).toFixed(1)} ms (${values.concurrency} callers, ${values["in-flight"]} in flight); ` +
      `cpu per record: jvm ${perRecord(c0.jvm, c1.jvm)} ms, node ${perRecord(c0.node, c1.node)} ms`,
  );
}
await run(2); // warm-up
await run(Number(values.seconds));
client.destroy();
