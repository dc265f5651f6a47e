import { describe, expect, it } from "@jest/globals";
import { BadRequestError } from "../../functions/core/errors";
import type { Page, UsageReader } from "../../functions/core/ports";
import { buildRefusalRecord, buildUsageRecord, type UsageRecord } from "../../functions/core/usage";
import { encodeCursor, exportUsage, MAX_DAYS_PER_PAGE } from "../../functions/core/usage-export";

/** In-memory reader with the port's contract: per day, time-bounded, oldest first, positions resumable. */
function memoryReader(all: UsageRecord[]): UsageReader & { calls: string[] } {
  const calls: string[] = [];
  const sortKey = (r: UsageRecord) => `${r.time}#${r.requestId}`;
  return {
    calls,
    aggregates: async () => [],
    freshness: async (_t, now) => new Date(now).toISOString(),
    records: async (tenantId, day, q): Promise<Page<UsageRecord>> => {
      calls.push(day);
      const matching = all
        .filter((r) => r.tenantId === tenantId && r.time.slice(0, 10) === day && r.time >= q.fromTime && r.time <= q.toTime)
        .sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1))
        .filter((r) => q.after === undefined || sortKey(r) > q.after);
      const items = matching.slice(0, q.limit);
      const last = items.at(-1);
      // Like DynamoDB: a full page always has a position, even when nothing follows.
      return { items, ...(items.length === q.limit && last ? { cursor: sortKey(last) } : {}) };
    },
  };
}

const base = { tenantId: "acme", keyId: "k1", model: "iris", version: 1, status: 200, bytesIn: 1, bytesOut: 2 };
const day = (d: number, h = 12, i = 0) => Date.UTC(2026, 10, d, h, 0, 0, i);
const billable = (id: string, t: number) => buildUsageRecord({ ...base, requestId: id, receivedAt: t, finishedAt: t + 1 });

async function exportAll(reader: UsageReader, q: Record<string, string>): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await exportUsage(reader, "acme", { ...q, ...(cursor ? { cursor } : {}) });
    expect(page.records.length).toBeLessThanOrEqual(Number(q.limit ?? 100));
    ids.push(...page.records.map((r) => r.requestId));
    cursor = page.cursor;
    pages++;
  } while (cursor !== undefined);
  return { ids, pages };
}

describe("usage export", () => {
  const records = [
    billable("a", day(1, 0)),
    billable("b", day(1, 5)),
    billable("c", day(1, 5)),
    billable("d", day(2)),
    buildRefusalRecord({ ...base, requestId: "r1", receivedAt: day(2, 13) }),
    buildUsageRecord({ ...base, requestId: "s1", receivedAt: day(2, 14), finishedAt: day(2, 14), kind: "shadow" }),
    billable("e", day(4, 23)),
    billable("late", day(5, 1)),
    { ...billable("other", day(2)), tenantId: "other" },
  ];

  it("pages through every billable record of the range in order, day by day, whatever the page size", async () => {
    for (const limit of ["1", "2", "3", "100"]) {
      const { ids } = await exportAll(memoryReader(records), { from: "2026-11-01", to: "2026-11-04", limit });
      expect({ limit, ids }).toEqual({ limit, ids: ["a", "b", "c", "d", "e"] });
    }
  });

  it("adds refused and shadow records only when included", async () => {
    const q = { from: "2026-11-01", to: "2026-11-04" };
    expect((await exportAll(memoryReader(records), { ...q, include: "billable,refused" })).ids).toEqual(["a", "b", "c", "d", "r1", "e"]);
    expect((await exportAll(memoryReader(records), { ...q, include: "refused,shadow", limit: "2" })).ids).toEqual([
      "a",
      "b",
      "c",
      "d",
      "r1",
      "s1",
      "e",
    ]);
  });

  it("honours times within days: from and to are inclusive instants", async () => {
    const { ids } = await exportAll(memoryReader(records), { from: "2026-11-01T05:00:00Z", to: "2026-11-02T12:00:00Z" });
    expect(ids).toEqual(["b", "c", "d"]);
  });

  it("bounds the day queries of one page; an empty page with a cursor is not the end", async () => {
    const reader = memoryReader([billable("first", day(1)), billable("last", Date.UTC(2027, 0, 20))]);
    const first = await exportUsage(reader, "acme", { from: "2026-11-01", to: "2027-01-31", limit: "10" });
    expect(first.records.map((r) => r.requestId)).toEqual(["first"]);
    expect(first.cursor).toBeDefined();
    expect(reader.calls).toHaveLength(MAX_DAYS_PER_PAGE);
    const { ids, pages } = await exportAll(reader, { from: "2026-11-01", to: "2027-01-31", limit: "10" });
    expect(ids).toEqual(["first", "last"]);
    expect(pages).toBe(3);
  });

  it("answers the page shape", async () => {
    const page = await exportUsage(memoryReader(records), "acme", { from: "2026-11-02", to: "2026-11-02", include: "shadow" });
    expect(page).toEqual({
      tenantId: "acme",
      from: "2026-11-02T00:00:00.000Z",
      to: "2026-11-02T23:59:59.999Z",
      include: ["billable", "batch", "shadow"],
      records: [records[3], records[5]],
    });
  });

  it("rejects bad parameters with a 400 naming the parameter", async () => {
    const reader = memoryReader(records);
    const cases: Array<[Record<string, string>, string]> = [
      [{ limit: "0" }, "limit"],
      [{ limit: "1001" }, "limit"],
      [{ limit: "ten" }, "limit"],
      [{ include: "refused,everything" }, "include"],
      [{ from: "soon" }, "from"],
      [{ cursor: "%%%" }, "cursor"],
      [{ cursor: encodeCursor({ day: "2026-10-31" }) }, "cursor"],
      [{ cursor: Buffer.from('{"d":"2026-11-02","a":7}').toString("base64url") }, "cursor"],
    ];
    for (const [q, param] of cases) {
      const err = await exportUsage(reader, "acme", { from: "2026-11-01", to: "2026-11-04", ...q }).catch((e) => e);
      expect({ q, err }).toEqual({ q, err: expect.any(BadRequestError) });
      expect(err.message).toContain(`'${param}'`);
    }
  });
});
