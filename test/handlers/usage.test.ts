import { beforeEach, describe, expect, it } from "@jest/globals";
import { buildRefusalRecord, buildUsageRecord, type UsageKind } from "../../functions/core/usage";
import { expectError, IRIS_INPUT, principal, seedModels, type TestApp, testApp } from "./app";

let app: TestApp;
const acme = principal({ tenantId: "acme", keyId: "AcmeKey000000001" });
const globex = principal({ tenantId: "globex", keyId: "GlobexKey0000001" });
const NOVEMBER = { from: "2026-11-01", to: "2026-11-30" };

async function record(tenantId: string, requestId: string, at: string, kind: UsageKind = "billable", status = 200) {
  const base = { requestId, receivedAt: Date.parse(at), tenantId, keyId: `${tenantId}-key`, model: "iris", version: 1, bytesIn: 10 };
  await app.usage.record(
    kind === "refused"
      ? buildRefusalRecord(base)
      : buildUsageRecord({ ...base, kind, finishedAt: Date.parse(at) + 20, status, bytesOut: 5, tokens: { input: 3, output: 4 } }),
  );
}

beforeEach(async () => {
  app = testApp();
  seedModels(app);
  await record("acme", "a1", "2026-11-18T09:00:00.000Z");
  await record("acme", "a2", "2026-11-19T09:00:00.000Z", "billable", 500);
  await record("acme", "a3", "2026-11-19T10:00:00.000Z", "refused");
  await record("acme", "a4", "2026-11-19T11:00:00.000Z", "shadow");
  await record("globex", "g1", "2026-11-19T09:30:00.000Z");
});

describe("GET /v1/usage", () => {
  it("reports the calling tenant's aggregates, billable apart from refusals and shadow copies", async () => {
    const res = await app.request("GET", "/v1/usage", { as: acme, query: NOVEMBER });
    expect(res.status).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ tenantId: "acme", granularity: "day", group: "version", limits: {} });
    expect(body.totals).toMatchObject({
      requests: 2,
      errors: 1,
      refused: 1,
      shadowRequests: 1,
      inputTokens: 6,
      outputTokens: 8,
      bytesIn: 20,
    });
    expect(body.rows.map((r: { period: string; requests: number }) => [r.period, r.requests])).toEqual([
      ["2026-11-18", 1],
      ["2026-11-19", 1],
    ]);
  });

  it("ignores any tenant named in the request: the authorizer context decides", async () => {
    const res = await app.request("GET", "/v1/usage", {
      as: globex,
      query: { ...NOVEMBER, tenantId: "acme" },
      headers: { "x-tenant-id": "acme" },
    });
    expect(res.json()).toMatchObject({ tenantId: "globex", totals: { requests: 1 } });
  });

  it("groups by hour and by key, and filters by model", async () => {
    const byKey = await app.request("GET", "/v1/usage", { as: acme, query: { ...NOVEMBER, group: "key", by: "hour" } });
    expect(byKey.json().rows[0]).toMatchObject({ period: "2026-11-18T09", keyId: "acme-key", requests: 1 });
    const none = await app.request("GET", "/v1/usage", { as: acme, query: { ...NOVEMBER, model: "other" } });
    expect(none.json().rows).toEqual([]);
  });

  it("includes where the caller stands against its limits, charging nothing", async () => {
    const limited = principal({ limits: { monthlyRequests: 10 }, keyLimits: { ratePerSecond: 5 } });
    await app.request("POST", "/v2/models/iris/infer", { as: limited, json: IRIS_INPUT });
    const res = await app.request("GET", "/v1/usage", { as: limited, query: NOVEMBER });
    const limits = res.json().limits;
    expect(limits.tenant).toMatchObject({ monthlyRequests: 10, now: { requests: { limit: 10 } } });
    expect(limits.key).toMatchObject({ ratePerSecond: 5 });
  });

  it("is 403 without the usage:read scope and 401 without a caller", async () => {
    expectError(await app.request("GET", "/v1/usage", { as: principal({ scopes: ["invoke"] }) }), 403, "forbidden");
    expectError(await app.request("GET", "/v1/usage"), 401, "unauthorized");
  });

  it("is 400 for a bad granularity, group, time or range", async () => {
    const bad: Record<string, string>[] = [
      { by: "week" },
      { group: "tenant" },
      { from: "yesterday" },
      { from: "2026-11-20", to: "2026-11-01" },
      { from: "2020-01-01", to: "2026-01-01" },
      { from: "2026-09-01", to: "2026-11-30", by: "hour" },
    ];
    for (const query of bad) {
      expectError(await app.request("GET", "/v1/usage", { as: acme, query }), 400, "invalid_request");
    }
  });
});

describe("GET /v1/usage/records", () => {
  it("pages through the caller's billable records, oldest first", async () => {
    const first = await app.request("GET", "/v1/usage/records", { as: acme, query: { ...NOVEMBER, limit: "1" } });
    expect(first.status).toBe(200);
    expect(first.json().records.map((r: { requestId: string }) => r.requestId)).toEqual(["a1"]);
    const cursor = first.json().cursor;
    expect(cursor).toEqual(expect.any(String));
    const ids: string[] = [];
    let next: string | undefined = cursor;
    while (next) {
      const page = await app.request("GET", "/v1/usage/records", { as: acme, query: { ...NOVEMBER, limit: "1", cursor: next } });
      ids.push(...page.json().records.map((r: { requestId: string }) => r.requestId));
      next = page.json().cursor;
    }
    expect(ids).toEqual(["a2"]);
  });

  it("adds refusals and shadow copies only when asked", async () => {
    const res = await app.request("GET", "/v1/usage/records", { as: acme, query: { ...NOVEMBER, include: "refused,shadow" } });
    expect(res.json()).toMatchObject({ include: ["billable", "batch", "refused", "shadow"] });
    expect(res.json().records.map((r: { requestId: string }) => r.requestId)).toEqual(["a1", "a2", "a3", "a4"]);
  });

  it("never shows another tenant's records, whatever the query says", async () => {
    const res = await app.request("GET", "/v1/usage/records", { as: globex, query: { ...NOVEMBER, tenantId: "acme" } });
    expect(res.json().records.map((r: { tenantId: string }) => r.tenantId)).toEqual(["globex"]);
  });

  it("is 429 with Retry-After once the tenant loops on reads, leaving other tenants' reads alone", async () => {
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<TestApp["request"]>> | undefined;
    for (let i = 0; i < 25 && !refused; i++) {
      const res = await app.request("GET", "/v1/usage/records", { as: acme, query: NOVEMBER });
      statuses.push(res.status);
      if (res.status === 429) refused = res;
    }
    if (!refused) throw new Error(`25 reads in a row were all admitted: ${statuses.join(",")}`);
    expectError(refused, 429, "rate_limited");
    expect(Number(refused.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect((await app.request("GET", "/v1/usage/records", { as: globex, query: NOVEMBER })).status).toBe(200);
  });

  it("is 400 for a bad limit, include or cursor and 403 without usage:read", async () => {
    const bad: Record<string, string>[] = [{ limit: "0" }, { limit: "1001" }, { include: "everything" }, { cursor: "not-a-cursor" }];
    for (const query of bad) {
      expectError(await app.request("GET", "/v1/usage/records", { as: acme, query: { ...NOVEMBER, ...query } }), 400, "invalid_request");
    }
    expectError(await app.request("GET", "/v1/usage/records", { as: principal({ scopes: ["invoke"] }) }), 403, "forbidden");
  });
});
