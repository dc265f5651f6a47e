import { describe, expect, it } from "@jest/globals";
import { MODEL_ROUTES } from "../../functions/contract/routes";
import {
  DEFAULT_MIN_AGE_SECONDS,
  MAX_LISTED_GAPS,
  modelMayHaveRun,
  reconcile,
  UNKNOWN_MODEL,
  usageRecorded,
} from "../../functions/core/access";
import { type AccessEntry, accessEntryOf, pathParamsOf } from "../../functions/core/access-log";
import { BadRequestError } from "../../functions/core/errors";
import type { AccessLog, UsageReader, UsageSink } from "../../functions/core/ports";
import type { UsageRecord } from "../../functions/core/usage";

const NOW = Date.parse("2026-11-28T12:00:00Z");
const HOUR = 3600;

function entry(requestId: string, secondsAgo: number, over: Partial<AccessEntry> = {}): AccessEntry {
  return {
    requestId,
    time: new Date(NOW - secondsAgo * 1000).toISOString(),
    httpMethod: "POST",
    resourcePath: "/v2/models/{model}/versions/{version}/infer",
    path: "/prod/v2/models/iris/versions/3/infer",
    status: 200,
    responseLength: 64,
    tenantId: "acme",
    keyId: "k1",
    ...over,
  };
}

/**
 * The access log in pages of `pageSize`; usage records behind UsageReader.records, read a small
 * page at a time (so lookups page too), counting its reads.
 */
function world(entries: AccessEntry[], recordedIds: string[], pageSize = 2) {
  const usage = new Map<string, UsageRecord>();
  for (const id of recordedIds) {
    const e = entries.find((x) => x.requestId === id);
    if (e) usage.set(id, { requestId: id, time: e.time, tenantId: e.tenantId } as UsageRecord);
  }
  const log: AccessLog = {
    async *entries(from, to) {
      const inRange = entries.filter((r) => r.time >= from && r.time <= to);
      for (let i = 0; i < inRange.length; i += pageSize) yield inRange.slice(i, i + pageSize);
    },
  };
  const reads: string[] = [];
  const records: Pick<UsageReader, "records"> = {
    async records(tenantId, day, q) {
      reads.push(`${tenantId} ${day}`);
      const all = [...usage.values()]
        .filter((r) => r.tenantId === tenantId && r.time.slice(0, 10) === day && r.time >= q.fromTime && r.time <= q.toTime)
        .sort((a, b) => (a.time < b.time ? -1 : 1));
      const start = q.after ? Number(q.after) : 0;
      const items = all.slice(start, start + Math.min(q.limit, 3));
      return { items, ...(start + 3 < all.length ? { cursor: String(start + 3) } : {}) };
    },
  };
  const sink: UsageSink = {
    async record(r) {
      if (usage.has(r.requestId)) return "duplicate";
      usage.set(r.requestId, r);
      return "recorded";
    },
  };
  return { deps: { access: log, records, usage: sink, modelRoutes: MODEL_ROUTES }, usage, reads };
}

const range = { from: "2026-11-28T00:00:00Z", to: "2026-11-28T12:00:00Z" };

describe("reconciliation from the gateway's access log", () => {
  it("reports model-route requests without usage records; young ones stay in flight; other routes and statuses owe nothing", async () => {
    const { deps } = world(
      [
        entry("a", 2 * HOUR),
        entry("b", 2 * HOUR, { status: 502 }),
        entry("c", 2 * HOUR, { status: 504 }),
        entry("d", 60),
        entry("bad-request", 2 * HOUR, { status: 400 }),
        entry("not-ready", 2 * HOUR, { status: 503 }),
        entry("refused", 2 * HOUR, { status: 429 }),
        entry("no-caller", 2 * HOUR, { status: 502, tenantId: undefined, keyId: undefined } as Partial<AccessEntry>),
        entry("metadata", 2 * HOUR, { httpMethod: "GET", resourcePath: "/v2/models/{model}" }),
        entry("admin", 2 * HOUR, { resourcePath: "/admin/tenants", path: "/admin/tenants" }),
      ],
      ["a"],
    );
    const report = await reconcile(deps, range, NOW);
    expect(report).toMatchObject({ accessRecords: 8, matched: 1, unmetered: 4, gaps: 2, inFlight: 1, repaired: 0 });
    expect(report.missing.map((m) => m.requestId)).toEqual(["b", "c"]);
  });

  it("statuses after which the model may have run", () => {
    expect([200, 201, 499, 502, 504].every(modelMayHaveRun)).toBe(true);
    expect([400, 401, 403, 404, 413, 415, 424, 429, 500, 503].some(modelMayHaveRun)).toBe(false);
  });

  it("repairs each gap once with what the log knows: model and version (or alias) from the path, the gateway's status", async () => {
    const { deps, usage } = world(
      [
        entry("numbered", 2 * HOUR, { status: 502 }),
        entry("aliased", 2 * HOUR, { status: 504, path: "/prod/v2/models/iris/versions/canary/infer" }),
        entry("raw", 2 * HOUR, { resourcePath: "/v1/models/{model}/invoke", path: "/v1/models/echo/invoke" }),
        entry("chat", 2 * HOUR, { resourcePath: "/v1/chat/completions", path: "/prod/v1/chat/completions" }),
      ],
      [],
    );
    const first = await reconcile(deps, { ...range, repair: true }, NOW);
    expect(first).toMatchObject({ gaps: 4, repaired: 4 });
    expect(usage.get("numbered")).toEqual({
      requestId: "numbered",
      time: entry("numbered", 2 * HOUR).time,
      tenantId: "acme",
      keyId: "k1",
      model: "iris",
      version: 3,
      status: 502,
      latencyMs: 0,
      bytesIn: 0,
      bytesOut: 64,
    });
    expect(usage.get("aliased")).toMatchObject({ model: "iris", version: 0, alias: "canary", status: 504 });
    expect(usage.get("raw")).toMatchObject({ model: "echo", version: 0, status: 200 });
    expect(usage.get("chat")).toMatchObject({ model: UNKNOWN_MODEL, version: 0 });
    const second = await reconcile(deps, { ...range, repair: true }, NOW);
    expect(second).toMatchObject({ accessRecords: 4, matched: 4, gaps: 0, repaired: 0 });
  });

  it("waits past the longest request by default (a 14-minute stream); minAgeSeconds 0 makes every unmatched request a gap", async () => {
    expect(DEFAULT_MIN_AGE_SECONDS).toBeGreaterThan(15 * 60);
    const { deps } = world([entry("stream", 16 * 60), entry("old", 21 * 60), entry("young", 1)], []);
    expect(await reconcile(deps, range, NOW)).toMatchObject({ gaps: 1, inFlight: 2 });
    expect(await reconcile(deps, { ...range, minAgeSeconds: 0 }, NOW)).toMatchObject({ gaps: 3, inFlight: 0 });
  });

  it("counts every gap but lists at most MAX_LISTED_GAPS", async () => {
    const many = Array.from({ length: MAX_LISTED_GAPS + 5 }, (_, i) => entry(`r${i}`, 2 * HOUR + i));
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

describe("which requests have usage records (UsageReader.records only)", () => {
  it("groups by tenant and day, pages through each group, and tells tenants apart", async () => {
    const day1 = Date.parse("2026-11-27T23:59:59.500Z");
    const at = (ms: number) => new Date(ms).toISOString();
    const entries = [
      ...Array.from({ length: 7 }, (_, i) => entry(`acme-${i}`, 0, { time: at(day1 - i * 1000) })),
      entry("acme-next-day", 0, { time: at(day1 + 1000) }),
      entry("globex-1", 0, { time: at(day1), tenantId: "globex" }),
    ];
    const recorded = ["acme-0", "acme-1", "acme-2", "acme-4", "acme-5", "acme-6", "acme-next-day"];
    const w = world(entries, recorded);
    const found = await usageRecorded(
      w.deps.records,
      entries.map((e) => ({ requestId: e.requestId, time: e.time, tenantId: e.tenantId ?? "" })),
    );
    expect([...found].sort()).toEqual(recorded.sort());
    // Six records of acme's first day in pages of three; one read for each other group.
    expect(w.reads).toEqual(["acme 2026-11-27", "acme 2026-11-27", "acme 2026-11-28", "globex 2026-11-27"]);
  });
});

describe("access log lines", () => {
  it("reads API Gateway's strings and its '-' for absent values", () => {
    expect(
      accessEntryOf({
        requestId: "r1",
        requestTimeEpoch: "1764331200000",
        httpMethod: "POST",
        resourcePath: "/v1/chat/completions",
        path: "/prod/v1/chat/completions",
        status: "502",
        responseLength: "-",
        tenantId: "acme",
        keyId: "-",
      }),
    ).toEqual({
      requestId: "r1",
      time: "2025-11-28T12:00:00.000Z",
      httpMethod: "POST",
      resourcePath: "/v1/chat/completions",
      path: "/prod/v1/chat/completions",
      status: 502,
      tenantId: "acme",
    });
    expect(accessEntryOf({ requestId: "r1", requestTimeEpoch: 1, httpMethod: "GET", resourcePath: "/x", status: 200 })).toMatchObject({
      time: "1970-01-01T00:00:00.001Z",
      path: "/x",
    });
    for (const broken of [{}, { requestId: "r", requestTimeEpoch: "soon", httpMethod: "GET", resourcePath: "/", status: "200" }])
      expect(accessEntryOf(broken)).toBeUndefined();
  });

  it("matches a path to its route template from the end (with or without the stage)", () => {
    const t = "/v2/models/{model}/versions/{version}/infer";
    expect(pathParamsOf(t, "/prod/v2/models/iris/versions/3/infer")).toEqual({ model: "iris", version: "3" });
    expect(pathParamsOf(t, "/v2/models/ir%69s/versions/prod/infer")).toEqual({ model: "iris", version: "prod" });
    expect(pathParamsOf(t, "/v2/models/iris/infer")).toBeUndefined();
    expect(pathParamsOf("/v1/chat/completions", "/v1/chat/completions")).toEqual({});
  });
});
