import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { BatchWriteCommand, DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { afterAll, describe, expect, it } from "@jest/globals";
import { createTableInput } from "../../infra/local/bootstrap/tables";
import { startDynamoDbLocal } from "../../infra/local/services/dynamodb-local";
import { tableName, usageTable } from "../../infra/shared/tables";

/** Runs `npm start`'s entry on a data dir, resolved once it is ready. */
function start(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "infra/local/main.ts", "--port", "0", "--data-dir", dataDir, "--config", "test/e2e/e2e.config.ts"],
    { env: { ...process.env, POWERTOOLS_LOG_LEVEL: "ERROR" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = /modelgate ready on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (m?.[1]) resolve({ child, url: m[1] });
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
  });
}

const DAY = new Date().toISOString().slice(0, 10);
const OLD = 7;
const PACKED = 3;

/**
 * A usage table as earlier versions left it: single REQ# records with the aggregates written
 * with them (before packs), and a pack indexed by gsi1 whose records the aggregator had applied
 * (before REC# partitions). No stream: the oldest version had none.
 */
async function writeTodaysLayout(dataDir: string): Promise<void> {
  const db = await startDynamoDbLocal(join(dataDir, "dynamodb"));
  try {
    const client = new DynamoDBClient({
      endpoint: db.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
    });
    const { StreamSpecification: _none, ...oldTable } = createTableInput("mge2e", usageTable);
    await client.send(new CreateTableCommand(oldTable));
    const doc = DynamoDBDocumentClient.from(client);
    const time = `${DAY}T00:00:01.000Z`;
    const fields = (requestId: string, at: string) => ({
      requestId,
      time: at,
      tenantId: "demo",
      keyId: "oldkey",
      model: "iris",
      version: 1,
      status: 200,
      latencyMs: 3,
      bytesIn: 10,
      bytesOut: 20,
    });
    const records = Array.from({ length: OLD }, (_, i) => ({
      pk: `REQ#old-${i}`,
      sk: "REQ",
      type: "usage",
      gsi1pk: `TENANT#demo#DAY#${DAY}`,
      gsi1sk: `${time}#old-${i}`,
      ...fields(`old-${i}`, time),
    }));
    const aggregate = (g: "DAY" | "HOUR", period: string) => ({
      pk: "AGG#demo#S1",
      sk: `${g}#${period}#iris#1#oldkey`,
      type: "aggregate",
      tenantId: "demo",
      granularity: g === "DAY" ? "day" : "hour",
      period,
      model: "iris",
      version: 1,
      keyId: "oldkey",
      requests: OLD,
      errors: 0,
      bytesIn: 10 * OLD,
      bytesOut: 20 * OLD,
      latencyMs: 3 * OLD,
    });
    const packTime = `${DAY}T00:00:02.000Z`;
    const pack = {
      pk: "REQ#packed-0",
      sk: "REQ",
      type: "usage-pack",
      tenantId: "demo",
      gsi1pk: `TENANT#demo#DAY#${DAY}`,
      gsi1sk: `${packTime}#packed-0`,
      records: Array.from({ length: PACKED }, (_, i) => fields(`packed-${i}`, packTime)),
      n: PACKED,
    };
    // Its records were applied from the stream: counted in the aggregates and in freshness.
    const applied = { pk: "FRESH#demo", sk: `MIN#${packTime.slice(0, 16)}`, type: "usage-applied", applied: PACKED };
    const counts = (requests: number) => ({ requests, bytesIn: 10 * requests, bytesOut: 20 * requests, latencyMs: 3 * requests });
    const items = [
      ...records,
      pack,
      applied,
      aggregate("DAY", DAY),
      aggregate("HOUR", `${DAY}T00`),
      { ...aggregate("DAY", DAY), pk: "AGG#demo#S2", ...counts(PACKED) },
      { ...aggregate("HOUR", `${DAY}T00`), pk: "AGG#demo#S2", ...counts(PACKED) },
    ];
    await doc.send(
      new BatchWriteCommand({ RequestItems: { [tableName("mge2e", usageTable)]: items.map((Item) => ({ PutRequest: { Item } })) } }),
    );
  } finally {
    await db.stop();
  }
}

async function freshUsage(url: string, key: string): Promise<{ asOf: string; totals: { requests: number; bytesOut: number } }> {
  const since = new Date().toISOString();
  for (const end = Date.now() + 30_000; ; ) {
    const res = await fetch(`${url}/v1/usage`, { headers: { authorization: `Bearer ${key}` } });
    const body = (await res.json()) as { asOf: string; totals: { requests: number; bytesOut: number } };
    if (body.asOf >= since) return body;
    if (Date.now() > end) throw new Error(`not fresh: ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("a data dir written before packs and the stream, and before REC# partitions", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "modelgate-migrate-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("still starts (the usage table gets its stream) and reports the same totals, then counts new requests on top", async () => {
    await writeTodaysLayout(dataDir);
    const { child, url } = await start(dataDir);
    try {
      const key = JSON.parse(readFileSync(join(dataDir, "credentials.json"), "utf8")).apiKey as string;
      expect((await freshUsage(url, key)).totals).toMatchObject({ requests: OLD + PACKED, bytesOut: 20 * (OLD + PACKED) });
      const body = JSON.stringify({ inputs: [{ name: "input", shape: [1, 4], datatype: "FP32", data: [5.1, 3.5, 1.4, 0.2] }] });
      const res = await fetch(`${url}/v2/models/iris/infer`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body,
      });
      expect(res.status).toBe(200);
      expect((await freshUsage(url, key)).totals.requests).toBe(OLD + PACKED + 1);
      const records = await fetch(`${url}/v1/usage/records?from=${DAY}&to=${DAY}&limit=100`, {
        headers: { authorization: `Bearer ${key}` },
      });
      const listed = ((await records.json()) as { records: Array<{ requestId: string }> }).records;
      expect(listed).toHaveLength(OLD + PACKED + 1);
      expect(listed.map((r) => r.requestId)).toEqual(expect.arrayContaining(["old-0", "packed-0", `packed-${PACKED - 1}`]));
    } finally {
      await new Promise((r) => {
        child.once("exit", r);
        child.kill("SIGTERM");
      });
    }
  }, 300_000);
});
