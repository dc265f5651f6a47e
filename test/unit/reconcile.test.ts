import { describe, expect, it } from "@jest/globals";
import { type AccessRecord, MAX_LISTED_GAPS, REPAIRED_STATUS, reconcile } from "../../functions/core/access";
import { BadRequestError } from "../../functions/core/errors";
import type { AccessLog, UsageSink } from "../../functions/core/ports";
import type { UsageRecord } from "../../functions/core/usage";

const NOW = Date.parse("2026-11-28T12:00:00Z");

function access(requestId: string, secondsAgo: number): AccessRecord {
  return {
    requestId,
    time: new Date(NOW - secondsAgo * 1000).toISOString(),
    tenantId: "acme",
    keyId: "k1",
    model: "iris",
    version: 3,
    alias: "prod",
    bytesIn: 120,
  };
}

/** Access records in pages of `pageSize`, usage records in a map: what the DynamoDB adapters hold. */
function world(records: AccessRecord[], usageIds: string[], pageSize = 2) {
  const usage = new Map<string, UsageRecord>(usageIds.map((id) => [id, { requestId: id } as UsageRecord]));
  const log: AccessLog = {
    async *accessRecords(from, to) {
      const inRange = records.filter((r) => r.time >= from && r.time <= to);
      for (let i = 0; i < inRange.length; i += pageSize) yield inRange.slice(i, i + pageSize);
    },
    usageRecorded: async (ids) => new Set(ids.filter((id) => usage.has(id))),
  };
  const sink: UsageSink = {
    async record(r) {
      if (usage.has(r.requestId)) return "duplicate";
      usage.set(r.requestId, r);
      return "recorded";
    },
  };
  return { deps: { access: log, usage: sink }, usage };
}

const range = { from: "2026-11-28T00:00:00Z", to: "2026-11-28T12:00:00Z" };

describe("reconciliation", () => {
  it("reports access records without usage records, and leaves young ones as in flight", async () => {
    const { deps } = world([access("a", 600), access("b", 500), access("c", 400), access("d", 10)], ["a", "c"]);
    const report = await reconcile(deps, range, NOW);
    expect(report).toMatchObject({ accessRecords: 4, matched: 2, gaps: 1, inFlight: 1, repaired: 0 });
    expect(report.missing.map((m) => m.requestId)).toEqual(["b"]);
  });

  it("repairs each gap once with an unanswered (502) record carrying the access record's fields", async () => {
    const { deps, usage } = world([access("a", 600), access("b", 500)], ["a"]);
    const first = await reconcile(deps, { ...range, repair: true }, NOW);
    expect(first).toMatchObject({ gaps: 1, repaired: 1 });
    expect(usage.get("b")).toEqual({
      requestId: "b",
      time: access("b", 500).time,
      tenantId: "acme",
      keyId: "k1",
      model: "iris",
      version: 3,
      alias: "prod",
      status: REPAIRED_STATUS,
      latencyMs: 0,
      bytesIn: 120,
      bytesOut: 0,
    });
    const second = await reconcile(deps, { ...range, repair: true }, NOW);
    expect(second).toMatchObject({ accessRecords: 2, matched: 2, gaps: 0, repaired: 0 });
  });

  it("honours minAgeSeconds (0: every unmatched record is a gap) and only the range asked for", async () => {
    const { deps } = world([access("old", 86_400), access("young", 1)], []);
    expect(await reconcile(deps, { ...range, minAgeSeconds: 0 }, NOW)).toMatchObject({ accessRecords: 1, gaps: 1, inFlight: 0 });
  });

  it("counts every gap but lists at most MAX_LISTED_GAPS", async () => {
    const many = Array.from({ length: MAX_LISTED_GAPS + 5 }, (_, i) => access(`r${i}`, 100 + i));
    const { deps } = world(many, [], 100);
    const report = await reconcile(deps, range, NOW);
    expect(report.gaps).toBe(MAX_LISTED_GAPS + 5);
    expect(report.missing).toHaveLength(MAX_LISTED_GAPS);
  });

  it("rejects bad ranges and ages as client errors", async () => {
    const { deps } = world([], []);
    await expect(reconcile(deps, { from: "yesterday", to: range.to }, NOW)).rejects.toBeInstanceOf(BadRequestError);
    await expect(reconcile(deps, { from: range.to, to: range.from }, NOW)).rejects.toBeInstanceOf(BadRequestError);
    await expect(reconcile(deps, { ...range, minAgeSeconds: "-1" }, NOW)).rejects.toBeInstanceOf(BadRequestError);
  });
});
