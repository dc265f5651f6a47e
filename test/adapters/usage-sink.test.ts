import { randomUUID } from "node:crypto";
import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "@jest/globals";
import { recordsOf } from "../../functions/aws/usage-items";
import { DynamoUsageReader } from "../../functions/aws/usage-reader";
import { DynamoUsageSink } from "../../functions/aws/usage-sink";
import { usageTable } from "../../functions/contract/tables";
import { e2eTable, localDocumentClient } from "./dynamo";
import { usageRecordHelpers } from "./usage-records";

const doc = localDocumentClient();
const table = e2eTable(usageTable);
const { keyOf, recordItems, record, freshDayRows } = usageRecordHelpers(doc, table);

describe("DynamoUsageSink (DynamoDB Local)", () => {
  it("the same request id delivered 5 times concurrently is recorded once", async () => {
    const sink = new DynamoUsageSink(doc, table, { retentionDays: 30 });
    const tenant = `dup-${randomUUID().slice(0, 8)}`;
    const r = record(tenant);
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => sink.record(r)));
    expect(outcomes.filter((o) => o === "recorded")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "duplicate")).toHaveLength(4);
    // And again later, from another sink instance (another Lambda instance).
    expect(await new DynamoUsageSink(doc, table, { retentionDays: 30 }).record(r)).toBe("duplicate");
    const today = r.time.slice(0, 10);
    const report = await freshDayRows(tenant, today);
    expect(report.reduce((s, row) => s + row.requests, 0)).toBe(1);
  });

  it("group-commits concurrent records: 500 at once all land, aggregates equal the count", async () => {
    const sink = new DynamoUsageSink(doc, table, { retentionDays: 30 });
    const tenant = `many-${randomUUID().slice(0, 8)}`;
    const records = Array.from({ length: 500 }, () => record(tenant));
    const outcomes = await Promise.all(records.map((r) => sink.record(r)));
    expect(outcomes.every((o) => o === "recorded")).toBe(true);
    const today = records[0]?.time.slice(0, 10) ?? "";
    const rows = await freshDayRows(tenant, today);
    expect(rows.reduce((s, row) => s + row.requests, 0)).toBe(500);
    expect(rows.reduce((s, row) => s + row.bytesOut, 0)).toBe(500 * 20);
    const listed = await recordItems(tenant, today);
    // Packed: one item per commit, far fewer than records, and every record in one of them.
    expect(listed.length).toBeLessThan(100);
    expect(listed.reduce((n, i) => n + recordsOf(i).length, 0)).toBe(500);
    // Spread over the day's partitions (a busy tenant's day is not one hot partition).
    expect(new Set(listed.map((i) => i.pk)).size).toBeGreaterThan(1);
  });

  it("with a commit window, records arriving a few ms apart share one pack; each resolves only once stored", async () => {
    const sink = new DynamoUsageSink(doc, table, { retentionDays: 30, maxInFlight: 1, commitWindowMs: 400 });
    const tenant = `window-${randomUUID().slice(0, 8)}`;
    const records = Array.from({ length: 6 }, () => record(tenant));
    const outcomes: Promise<string>[] = [];
    for (const r of records) {
      outcomes.push(sink.record(r));
      await new Promise((done) => setTimeout(done, 5));
    }
    expect(await Promise.all(outcomes)).toEqual(records.map(() => "recorded"));
    const listed = await recordItems(tenant, records[0]?.time.slice(0, 10) ?? "");
    // The first record arrived alone and went at once; the five that followed waited together.
    expect(listed.map((i) => recordsOf(i).length).sort()).toEqual([1, 5]);
  });

  it("with a commit window, a record that arrives alone is committed at once, not after the window", async () => {
    const sink = new DynamoUsageSink(doc, table, { retentionDays: 30, maxInFlight: 1, commitWindowMs: 5_000 });
    const tenant = `alone-${randomUUID().slice(0, 8)}`;
    const started = Date.now();
    expect(await sink.record(record(tenant))).toBe("recorded");
    expect(Date.now() - started).toBeLessThan(2_500);
  });

  it("writes a new record into a table without indexes, so the write costs its item alone", async () => {
    const r = record(`nogsi-${randomUUID().slice(0, 8)}`);
    expect(await new DynamoUsageSink(doc, table, { retentionDays: 30, maxRecordsPerPack: 1 }).record(r)).toBe("recorded");
    const item = (await doc.send(new GetCommand({ TableName: table, Key: keyOf(r) }))).Item;
    expect(item).toMatchObject({ type: "usage-pack", n: 1, recordsJson: expect.any(String) });
    expect(recordsOf(item ?? {})).toEqual([r]);
    expect(Object.keys(item ?? {}).filter((k) => k.startsWith("gsi"))).toEqual([]);
    const described = await doc.send(new DescribeTableCommand({ TableName: table }));
    expect(described.Table?.GlobalSecondaryIndexes ?? []).toEqual([]);
  });

  it("keeps a priced record's cost and currency exactly as written", async () => {
    const r = { ...record(`cost-${randomUUID().slice(0, 8)}`), cost: "0.000000195", currency: "USD" };
    expect(await new DynamoUsageSink(doc, table, { retentionDays: 30, maxRecordsPerPack: 1 }).record(r)).toBe("recorded");
    const item = (await doc.send(new GetCommand({ TableName: table, Key: keyOf(r) }))).Item;
    expect(recordsOf(item ?? {})).toEqual([r]);
  });

  it("a one-record pack written twice, by a retry and by a repair of the same record, stays one item", async () => {
    const tenant = `twice-${randomUUID().slice(0, 8)}`;
    const r = record(tenant);
    const lambda = () => new DynamoUsageSink(doc, table, { retentionDays: 30, maxRecordsPerPack: 1 });
    expect(await lambda().record(r)).toBe("recorded");
    // A retried invocation lands in another instance; a repair rebuilds the record from the
    // access log: the same request id and received time, a new object.
    expect(await lambda().record(r)).toBe("duplicate");
    expect(await lambda().record({ ...r, latencyMs: r.latencyMs + 1 })).toBe("duplicate");
    const items = await recordItems(tenant, r.time.slice(0, 10));
    expect(items.map((i) => i.n)).toEqual([1]);
    expect((await freshDayRows(tenant, r.time.slice(0, 10))).reduce((s, row) => s + row.requests, 0)).toBe(1);
  });

  it("a commit retried after its answer was lost is recorded once: the retry meets its own pack", async () => {
    let lost = false;
    const losing = {
      send: async (command: Parameters<typeof doc.send>[0]) => {
        const out = await doc.send(command);
        if (lost) return out;
        lost = true; // The write landed; its answer never arrives.
        throw Object.assign(new Error("socket hang up"), { name: "ThrottlingException" });
      },
    } as unknown as typeof doc;
    const sink = new DynamoUsageSink(losing, table, { retentionDays: 30, maxInFlight: 1 });
    const tenant = `lost-${randomUUID().slice(0, 8)}`;
    const records = Array.from({ length: 20 }, () => record(tenant));
    expect(new Set(await Promise.all(records.map((r) => sink.record(r))))).toEqual(new Set(["recorded"]));
    const today = records[0]?.time.slice(0, 10) ?? "";
    const page = await new DynamoUsageReader(doc, table).records(tenant, today, {
      fromTime: `${today}T00:00:00.000Z`,
      toTime: `${today}T23:59:59.999Z`,
      limit: 100,
    });
    expect(page.items.map((r) => r.requestId).sort()).toEqual(records.map((r) => r.requestId).sort());
    expect((await freshDayRows(tenant, today)).reduce((s, row) => s + row.requests, 0)).toBe(20);
  });

  it("stores a TTL on records (retention) and none on aggregates", async () => {
    const sink = new DynamoUsageSink(doc, table, { retentionDays: 30 });
    const r = record(`ttl-${randomUUID().slice(0, 8)}`);
    await sink.record(r);
    const item = (await doc.send(new GetCommand({ TableName: table, Key: keyOf(r) }))).Item;
    expect(item?.expiresAt).toBe(Math.floor(Date.parse(r.time) / 1000) + 30 * 86_400);
  });

  it("fails closed when DynamoDB throttles: the record is rejected and nothing is written", async () => {
    const throttling = Object.assign(new Error("Rate of requests exceeds the allowed throughput."), { name: "ThrottlingException" });
    const failing = { send: async () => Promise.reject(throttling) } as unknown as typeof doc;
    const sink = new DynamoUsageSink(failing, table, { retentionDays: 30 });
    const r = record(`thr-${randomUUID().slice(0, 8)}`);
    await expect(sink.record(r)).rejects.toThrow(/throughput/);
    expect((await doc.send(new GetCommand({ TableName: table, Key: keyOf(r) }))).Item).toBeUndefined();
  });
});
