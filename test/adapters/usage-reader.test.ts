import { randomUUID } from "node:crypto";
import { describe, expect, it } from "@jest/globals";
import { DynamoUsageReader } from "../../functions/aws/usage-reader";
import { DynamoUsageSink } from "../../functions/aws/usage-sink";
import { usageTable } from "../../functions/contract/tables";
import { RECORD_SHARDS, recordShard } from "../../functions/contract/usage-keys";
import { buildUsageRecord, type UsageRecord } from "../../functions/core/usage";
import { e2eTable, localDocumentClient } from "./dynamo";

const doc = localDocumentClient();
const table = e2eTable(usageTable);
const DAY = "2026-11-28";

function record(tenantId: string, second: number, requestId: string = randomUUID()): UsageRecord {
  const at = Date.parse(`${DAY}T10:00:00.000Z`) + second * 1000;
  return buildUsageRecord({
    requestId,
    receivedAt: at,
    finishedAt: at + 2,
    tenantId,
    keyId: "k1",
    model: "iris",
    version: 1,
    status: 200,
    bytesIn: 1,
    bytesOut: 2,
  });
}

describe("DynamoUsageReader.records (DynamoDB Local)", () => {
  it("pages a day's records in position order across its partitions", async () => {
    const tenant = `pages-${randomUUID().slice(0, 8)}`;
    const fresh = Array.from({ length: 40 }, (_, i) => record(tenant, i));
    const sink = new DynamoUsageSink(doc, table, { retentionDays: 30, maxRecordsPerPack: 1 });
    expect(new Set(await Promise.all(fresh.map((r) => sink.record(r))))).toEqual(new Set(["recorded"]));
    expect(new Set(fresh.map((r) => recordShard(r.requestId))).size).toBeGreaterThan(RECORD_SHARDS / 2);
    const all = [...fresh].sort((a, b) => (`${a.time}#${a.requestId}` < `${b.time}#${b.requestId}` ? -1 : 1));
    const reader = new DynamoUsageReader(doc, table);
    const range = { fromTime: `${DAY}T10:00:03.000Z`, toTime: `${DAY}T10:00:30.000Z` };
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await reader.records(tenant, DAY, { ...range, limit: 7, after });
      expect(page.items.length).toBeLessThanOrEqual(7);
      seen.push(...page.items.map((r) => r.requestId));
      after = page.cursor;
      pages++;
    } while (after !== undefined && pages < 20);
    const expected = all.filter((r) => r.time >= range.fromTime && r.time <= range.toTime).map((r) => r.requestId);
    expect(expected).toHaveLength(28);
    expect(seen).toEqual(expected);
  });
});
