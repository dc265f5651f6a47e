import { describe, expect, it } from "vitest";
import { BadRequestError } from "../../functions/core/errors";
import { AGGREGATE_SHARDS, aggregateKeysOf, buildUsageRecord, summarize } from "../../functions/core/usage";
import { usageReport } from "../../functions/core/usage-query";

const base = { tenantId: "acme", keyId: "k", model: "iris", version: 1, status: 200, bytesIn: 10, bytesOut: 20 };

describe("usage records and aggregates", () => {
  it("builds a record with latency and UTC time", () => {
    const r = buildUsageRecord({
      ...base,
      requestId: "r1",
      receivedAt: Date.UTC(2026, 10, 28, 13, 5),
      finishedAt: Date.UTC(2026, 10, 28, 13, 5) + 42,
      alias: "prod",
    });
    expect(r).toMatchObject({ time: "2026-11-28T13:05:00.000Z", latencyMs: 42, alias: "prod" });
  });

  it("puts each record in one day and one hour aggregate of a stable shard", () => {
    const r = buildUsageRecord({
      ...base,
      requestId: "r1",
      receivedAt: Date.UTC(2026, 10, 28, 13),
      finishedAt: Date.UTC(2026, 10, 28, 13),
    });
    const keys = aggregateKeysOf(r);
    expect(keys.map((k) => `${k.granularity}:${k.period}`)).toEqual(["day:2026-11-28", "hour:2026-11-28T13"]);
    expect(keys[0]?.shard).toBe(aggregateKeysOf(r)[0]?.shard);
    const shards = new Set(Array.from({ length: 200 }, (_, i) => aggregateKeysOf({ ...r, requestId: `r${i}` })[0]?.shard));
    expect(shards.size).toBe(AGGREGATE_SHARDS);
  });

  it("sums shard rows per period/model/version with totals", () => {
    const row = {
      period: "2026-11-28",
      model: "iris",
      version: 1,
      requests: 2,
      errors: 1,
      bytesIn: 1,
      bytesOut: 1,
      latencyMs: 5,
      inputTokens: 0,
      outputTokens: 0,
    };
    const report = summarize("acme", { from: "a", to: "b", granularity: "day" }, [row, { ...row, requests: 3 }, { ...row, version: 2 }]);
    expect(report.rows).toHaveLength(2);
    expect(report.rows[0]?.requests).toBe(5);
    expect(report.totals.requests).toBe(7);
    expect(report.totals.errors).toBe(3);
  });

  it("validates usage queries with 400s, and defaults to the current month", async () => {
    const calls: string[][] = [];
    const reader = {
      aggregates: async (...a: string[]) => {
        calls.push(a);
        return [];
      },
    };
    await expect(usageReport(reader, "acme", { from: "yesterday" })).rejects.toThrow(BadRequestError);
    await expect(usageReport(reader, "acme", { from: "2026-02-01", to: "2026-01-01" })).rejects.toThrow(BadRequestError);
    await expect(usageReport(reader, "acme", { by: "week" })).rejects.toThrow(BadRequestError);
    await usageReport(reader, "acme", {}, Date.UTC(2026, 10, 28, 9));
    expect(calls.at(-1)).toEqual(["acme", "day", "2026-11-01", "2026-11-28"]);
  });
});
