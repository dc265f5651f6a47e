import { describe, expect, it } from "@jest/globals";
import type { AdminDeps } from "../../functions/admin/deps";
import type { UsageReader, UsageSink } from "../../functions/core/ports";
import { buildUsageRecord } from "../../functions/core/usage";
import { JournalAwareUsageReader, journalAwareAdmin, type PendingRecords } from "../../infra/local/journal-aware-usage-reader";

const TABLE_AS_OF = "2026-12-07T10:00:05.000Z";

/** A table reader that notes when it was asked. */
function tableReader(calls: string[]): UsageReader {
  return {
    aggregates: async () => [],
    records: async () => {
      calls.push("table records");
      return { items: [] };
    },
    freshness: async () => {
      calls.push("table");
      return TABLE_AS_OF;
    },
  };
}

function journal(calls: string[], pending: Record<string, string>, journaled: string[] = []): PendingRecords {
  return {
    earliestPending: (tenantId) => {
      calls.push("journal");
      return pending[tenantId];
    },
    journaled: (id) => journaled.includes(id),
    shippedBetween: async (tenantId, from, to) => {
      await new Promise((r) => setTimeout(r, 5));
      calls.push(`shipped ${tenantId} ${from}..${to}`);
    },
  };
}

describe("JournalAwareUsageReader", () => {
  it("holds asOf before the tenant's earliest record still in the journal, reading the journal first", async () => {
    const calls: string[] = [];
    const reader = new JournalAwareUsageReader(tableReader(calls), journal(calls, { acme: "2026-12-07T10:00:01.000Z" }));
    expect(await reader.freshness("acme", Date.now())).toBe("2026-12-07T10:00:01.000Z");
    // A record shipped between the two reads is in the table by the time the table is read.
    expect(calls).toEqual(["journal", "table"]);
  });

  it("is the table's asOf when the tenant has nothing pending (or only records newer than it)", async () => {
    const calls: string[] = [];
    const reader = new JournalAwareUsageReader(
      tableReader(calls),
      journal(calls, { other: "2026-12-07T09:00:00.000Z", late: "2026-12-07T10:00:09.000Z" }),
    );
    expect(await reader.freshness("acme", Date.now())).toBe(TABLE_AS_OF);
    expect(await reader.freshness("late", Date.now())).toBe(TABLE_AS_OF);
  });

  it("reads records once the journal has shipped the tenant's records of the range: an answered request's record is readable", async () => {
    const calls: string[] = [];
    const reader = new JournalAwareUsageReader(tableReader(calls), journal(calls, {}));
    await reader.records("acme", "2026-12-07", { fromTime: "2026-12-07T10:00:00.000Z", toTime: "2026-12-07T11:00:00.000Z", limit: 10 });
    expect(calls).toEqual(["shipped acme 2026-12-07T10:00:00.000Z..2026-12-07T11:00:00.000Z", "table records"]);
  });
});

describe("journalAwareAdmin", () => {
  it("never repairs a record the journal holds: it will be stored, and a repair beside its pack would count it twice", async () => {
    const repaired: string[] = [];
    const repairs: UsageSink = {
      record: async (r) => {
        repaired.push(r.requestId);
        return "recorded";
      },
    };
    const deps = { usage: tableReader([]), reconciliation: { usage: repairs } } as unknown as AdminDeps;
    const wrapped = journalAwareAdmin(deps, journal([], {}, ["journaled-1"]));
    const record = (requestId: string) =>
      buildUsageRecord({
        requestId,
        receivedAt: 0,
        finishedAt: 1,
        tenantId: "acme",
        keyId: "k",
        model: "iris",
        version: 1,
        status: 502,
        bytesIn: 0,
        bytesOut: 0,
      });
    expect(await wrapped.reconciliation.usage.record(record("journaled-1"))).toBe("duplicate");
    expect(await wrapped.reconciliation.usage.record(record("lost-2"))).toBe("recorded");
    expect(repaired).toEqual(["lost-2"]);
    expect(wrapped.usage).toBeInstanceOf(JournalAwareUsageReader);
    expect(wrapped.reconciliation.records).toBe(wrapped.usage);
  });
});
