import { describe, expect, it } from "@jest/globals";
import { BadRequestError, RateLimitedError, ServiceUnavailableError } from "../../functions/core/errors";
import type { LimitStore } from "../../functions/core/limits/tenant-limits";
import type { UsageReader } from "../../functions/core/ports";
import {
  AGGREGATE_SHARDS,
  addCounters,
  aggregateKeysOf,
  buildRefusalRecord,
  buildUsageRecord,
  countersOf,
  emptyCounters,
  shadowRequestId,
  summarize,
  type UsageRow,
} from "../../functions/core/usage";
import { admitUsageRead, USAGE_READ_LIMITS, usageReadSubject, usageReport } from "../../functions/core/usage-query";
import { MemoryLimitStore } from "../support/memory-limit-store";

const base = { tenantId: "acme", keyId: "k", model: "iris", version: 1, status: 200, bytesIn: 10, bytesOut: 20 };
const at = Date.UTC(2026, 10, 28, 13, 5);

function row(over: Partial<UsageRow>): UsageRow {
  return { period: "2026-11-28", model: "iris", version: 1, keyId: "k1", ...emptyCounters(), requests: 1, ...over };
}

describe("usage records and aggregates", () => {
  it("builds a record with latency and UTC time; billable stays implicit", () => {
    const r = buildUsageRecord({ ...base, requestId: "r1", receivedAt: at, finishedAt: at + 42, alias: "prod" });
    expect(r).toMatchObject({ time: "2026-11-28T13:05:00.000Z", latencyMs: 42, alias: "prod" });
    expect("kind" in r).toBe(false);
    expect(buildUsageRecord({ ...base, requestId: "r1", receivedAt: at, finishedAt: at, kind: "billable" })).toEqual(
      buildUsageRecord({ ...base, requestId: "r1", receivedAt: at, finishedAt: at }),
    );
  });

  it("builds refusal records: 429, version 0 by default, nothing transferred", () => {
    const r = buildRefusalRecord({ requestId: "r2", receivedAt: at, tenantId: "acme", keyId: "k", model: "iris", bytesIn: 99 });
    expect(r).toEqual({
      requestId: "r2",
      time: "2026-11-28T13:05:00.000Z",
      tenantId: "acme",
      keyId: "k",
      model: "iris",
      version: 0,
      kind: "refused",
      status: 429,
      latencyMs: 0,
      bytesIn: 99,
      bytesOut: 0,
    });
    expect(shadowRequestId("r2")).not.toBe("r2");
  });

  it("counts each kind on its own counters: only billable records add to requests, errors, bytes, latency, tokens", () => {
    const tokens = { input: 3, output: 4 };
    const billable = countersOf(buildUsageRecord({ ...base, requestId: "a", receivedAt: at, finishedAt: at + 5, status: 502, tokens }));
    expect(billable).toEqual({
      ...emptyCounters(),
      requests: 1,
      errors: 1,
      bytesIn: 10,
      bytesOut: 20,
      latencyMs: 5,
      inputTokens: 3,
      outputTokens: 4,
      // Its latency in the histogram's (2, 5] ms bucket.
      lh2: 1,
    });
    const refused = countersOf(buildRefusalRecord({ ...base, requestId: "b", receivedAt: at }));
    expect(refused).toEqual({ ...emptyCounters(), refused: 1 });
    const shadow = countersOf(
      buildUsageRecord({ ...base, requestId: "c", receivedAt: at, finishedAt: at + 7, status: 500, tokens, kind: "shadow" }),
    );
    expect(shadow).toEqual({
      ...emptyCounters(),
      shadowRequests: 1,
      shadowErrors: 1,
      shadowLatencyMs: 7,
      shadowInputTokens: 3,
      shadowOutputTokens: 4,
    });
    const sum = [billable, refused, shadow].reduce((t, c) => addCounters(t, c), emptyCounters());
    expect(sum).toMatchObject({ requests: 1, errors: 1, refused: 1, shadowRequests: 1, latencyMs: 5 });
  });

  it("puts each record in one day and one hour aggregate of a stable shard, keyed by API key", () => {
    const r = buildUsageRecord({
      ...base,
      requestId: "r1",
      receivedAt: Date.UTC(2026, 10, 28, 13),
      finishedAt: Date.UTC(2026, 10, 28, 13),
    });
    const keys = aggregateKeysOf(r);
    expect(keys.map((k) => `${k.granularity}:${k.period}:${k.keyId}`)).toEqual(["day:2026-11-28:k", "hour:2026-11-28T13:k"]);
    expect(keys[0]?.shard).toBe(aggregateKeysOf(r)[0]?.shard);
    const shards = new Set(Array.from({ length: 200 }, (_, i) => aggregateKeysOf({ ...r, requestId: `r${i}` })[0]?.shard));
    expect(shards.size).toBe(AGGREGATE_SHARDS);
  });

  it("sums shard rows per period/model/version with totals (the default group)", () => {
    const r = { ...row({}), requests: 2, errors: 1, latencyMs: 5 };
    const report = summarize("acme", { from: "a", to: "b", granularity: "day" }, [
      r,
      { ...r, requests: 3, keyId: "k2" },
      { ...r, version: 2 },
    ]);
    expect(report.group).toBe("version");
    expect(report.rows).toHaveLength(2);
    expect(report.rows[0]).toMatchObject({ period: "2026-11-28", model: "iris", version: 1, requests: 5 });
    expect(report.rows[0]).not.toHaveProperty("keyId");
    expect(report.totals.requests).toBe(7);
    expect(report.totals.errors).toBe(3);
  });

  it("groups the same rows by model or by key at read time", () => {
    const rows = [
      row({ keyId: "k1", version: 1, requests: 2 }),
      row({ keyId: "k2", version: 2, requests: 3, refused: 4 }),
      row({ keyId: "k1", version: 2, requests: 1, shadowRequests: 6 }),
      row({ keyId: "k1", model: "iris-b", requests: 10 }),
      row({ keyId: "k3", requests: 100 }),
      row({ period: "2026-11-29", keyId: "k2", requests: 7 }),
    ];
    const range = { from: "a", to: "b", granularity: "day" as const };
    const byModel = summarize("acme", { ...range, group: "model" }, rows);
    expect(byModel.rows.map((r) => [r.period, r.model, r.version, r.requests])).toEqual([
      ["2026-11-28", "iris", undefined, 106],
      ["2026-11-28", "iris-b", undefined, 10],
      ["2026-11-29", "iris", undefined, 7],
    ]);
    const byKey = summarize("acme", { ...range, group: "key" }, rows);
    expect(byKey.rows.map((r) => [r.period, r.keyId, r.requests, r.refused, r.shadowRequests])).toEqual([
      ["2026-11-28", "k1", 13, 0, 6],
      ["2026-11-28", "k2", 3, 4, 0],
      ["2026-11-28", "k3", 100, 0, 0],
      ["2026-11-29", "k2", 7, 0, 0],
    ]);
    expect(byKey.rows[0]).not.toHaveProperty("model");
    // Grouping never changes the totals.
    const byVersion = summarize("acme", { ...range, group: "version" }, rows);
    expect(byModel.totals).toEqual(byKey.totals);
    expect(byVersion.totals).toEqual(byKey.totals);
    expect(byKey.totals).toMatchObject({ requests: 123, refused: 4, shadowRequests: 6 });
  });

  it("validates usage queries with 400s naming the parameter, and defaults to the current month", async () => {
    const calls: string[][] = [];
    const reader: UsageReader = {
      aggregates: async (...a: string[]) => {
        calls.push(a);
        return [row({ model: "iris" }), row({ model: "iris-b", requests: 5 })];
      },
      records: async () => ({ items: [] }),
      freshness: async (_t, now) => new Date(now - 1500).toISOString(),
    };
    const bad = async (q: Record<string, string>, param: string) => {
      const err = await usageReport(reader, "acme", q).catch((e) => e);
      expect(err).toBeInstanceOf(BadRequestError);
      expect(err.message).toContain(`'${param}'`);
    };
    await bad({ from: "yesterday" }, "from");
    await bad({ to: "2026-13-01" }, "to");
    await bad({ from: "2026-02-01", to: "2026-01-01" }, "from");
    await bad({ by: "week" }, "by");
    await bad({ group: "tenant" }, "group");
    const report = await usageReport(reader, "acme", {}, Date.UTC(2026, 10, 28, 9));
    expect(calls.at(-1)).toEqual(["acme", "day", "2026-11-01", "2026-11-28"]);
    expect(report).toMatchObject({ from: "2026-11-01T00:00:00.000Z", to: "2026-11-28T09:00:00.000Z", group: "version" });
    // The report says how fresh its aggregates are, as the reader judged it at `now`.
    expect(report.asOf).toBe("2026-11-28T08:59:58.500Z");
    // A bare `to` date is that whole day; `by=hour` reads hour periods.
    const hourly = await usageReport(reader, "acme", { from: "2026-11-02", to: "2026-11-03", by: "hour", model: "iris-b" });
    expect(calls.at(-1)).toEqual(["acme", "hour", "2026-11-02T00", "2026-11-03T23"]);
    expect(hourly.totals.requests).toBe(5);
  });

  it("caps hourly ranges at 31 days (day ranges at 400), before reading anything", async () => {
    let reads = 0;
    const reader: UsageReader = {
      aggregates: async () => {
        reads++;
        return [];
      },
      records: async () => ({ items: [] }),
      freshness: async () => new Date().toISOString(),
    };
    const err = await usageReport(reader, "acme", { from: "2025-01-01", to: "2026-01-31", by: "hour", group: "key" }).catch((e) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err.message).toMatch(/at most 31 days with by=hour/);
    await expect(usageReport(reader, "acme", { from: "2026-01-01", to: "2026-02-01", by: "hour" })).rejects.toThrow(/31 days/);
    expect(reads).toBe(0);
    await usageReport(reader, "acme", { from: "2026-01-01", to: "2026-01-31", by: "hour" });
    await usageReport(reader, "acme", { from: "2025-01-01", to: "2026-01-31", by: "day" });
    expect(reads).toBe(2);
  });
});

describe("usage reads are rate-limited per tenant", () => {
  it("admits a burst, then answers 429 with Retry-After; tenants do not share the budget", async () => {
    const store = new MemoryLimitStore();
    const now = Date.UTC(2026, 10, 28, 9);
    const read = (tenantId: string, i: number) => admitUsageRead(store, tenantId, { now, requestId: `r${i}` });
    for (let i = 0; i < (USAGE_READ_LIMITS.burst ?? 0); i++) await read("acme", i);
    const err = await read("acme", 99).catch((e) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(err.message).toMatch(/usage reads are limited/);
    await expect(read("other", 0)).resolves.toBeUndefined();
    // The subject can never be an API key's (key ids are base62).
    expect(usageReadSubject("acme")).toBe("acme/usage-reads");
  });

  it("fails closed (503) when the limit store cannot answer", async () => {
    const broken = { ...new MemoryLimitStore(), admit: async () => Promise.reject(new Error("throttled")) } as unknown as LimitStore;
    await expect(admitUsageRead(broken, "acme", { now: 0, requestId: "r" })).rejects.toBeInstanceOf(ServiceUnavailableError);
  });
});
