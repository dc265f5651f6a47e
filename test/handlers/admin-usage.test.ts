import { beforeEach, describe, expect, it } from "@jest/globals";
import { buildUsageRecord } from "../../functions/core/usage";
import { expectError, IRIS_INPUT, principal, seedModels, type TestApp, testApp } from "./app";
import { ADMIN_ARN, type RequestInit } from "./request";

let app: TestApp;
const admin = (method: string, path: string, init: RequestInit = {}) => app.request(method, path, { adminArn: ADMIN_ARN, ...init });
const NOVEMBER = { from: "2026-11-01", to: "2026-11-30" };

beforeEach(async () => {
  app = testApp();
  seedModels(app);
  for (const tenantId of ["acme", "globex"]) await admin("POST", "/admin/tenants", { json: { tenantId, models: ["*"] } });
  for (const [tenantId, requestId] of [
    ["acme", "a1"],
    ["acme", "a2"],
    ["globex", "g1"],
  ] as const) {
    const receivedAt = Date.parse("2026-11-19T09:00:00Z");
    await app.usage.record(
      buildUsageRecord({
        requestId,
        receivedAt,
        finishedAt: receivedAt + 5,
        tenantId,
        keyId: "k",
        model: "iris",
        version: 1,
        status: 200,
        bytesIn: 1,
        bytesOut: 1,
      }),
    );
  }
});

describe("GET /admin/tenants/{tenantId}/usage and …/usage/records", () => {
  it("reads any tenant's report and records, named by the path", async () => {
    const report = await admin("GET", "/admin/tenants/acme/usage", { query: NOVEMBER });
    expect(report.status).toBe(200);
    expect(report.json()).toMatchObject({ tenantId: "acme", totals: { requests: 2 } });
    const records = await admin("GET", "/admin/tenants/globex/usage/records", { query: NOVEMBER });
    expect(records.json().records.map((r: { requestId: string }) => r.requestId)).toEqual(["g1"]);
  });

  it("keeps a deleted tenant's usage readable; 404 for a tenant that never existed", async () => {
    await admin("DELETE", "/admin/tenants/acme");
    expect((await admin("GET", "/admin/tenants/acme/usage", { query: NOVEMBER })).json().totals.requests).toBe(2);
    expectError(await admin("GET", "/admin/tenants/nobody/usage"), 404, "not_found");
    expectError(await admin("GET", "/admin/tenants/nobody/usage/records"), 404, "not_found");
  });

  it("is 400 for a bad query or tenant id", async () => {
    expectError(await admin("GET", "/admin/tenants/acme/usage", { query: { by: "minute" } }), 400, "invalid_request");
    expectError(await admin("GET", "/admin/tenants/acme/usage/records", { query: { limit: "x" } }), 400, "invalid_request");
    expectError(await admin("GET", "/admin/tenants/A/usage"), 400, "invalid_request");
  });
});

describe("POST /admin/usage/reconcile", () => {
  it("finds requests of the access log without usage records, and repairs them once with `repair`", async () => {
    await app.request("POST", "/v2/models/iris/infer", { as: principal(), json: IRIS_INPUT, requestId: "served" });
    // Refused before any model (a 400 and a 404), answered by none: nothing owed.
    await app.request("POST", "/v2/models/iris/infer", { as: principal(), json: { inputs: "no" }, requestId: "bad" });
    await app.request("POST", "/v2/models/nope/infer", { as: principal(), json: IRIS_INPUT, requestId: "unknown" });
    // Not a model route: never counted.
    await admin("GET", "/admin/tenants/acme");
    // The gateway's 502 for a request whose process died between the model call and the usage write.
    app.access.log({
      requestId: "lost",
      time: "2026-11-20T09:00:00.000Z",
      httpMethod: "POST",
      resourcePath: "/v2/models/{model}/versions/{version}/infer",
      path: "/prod/v2/models/iris/versions/2/infer",
      status: 502,
      responseLength: 80,
      tenantId: "acme",
      keyId: "k",
    });
    const range = { from: "2026-11-20T00:00:00Z", to: "2026-11-20T23:59:59Z" };
    const report = await admin("POST", "/admin/usage/reconcile", { json: range });
    expect(report.status).toBe(200);
    expect(report.json()).toMatchObject({
      accessRecords: 4,
      matched: 1,
      unmetered: 2,
      gaps: 1,
      repaired: 0,
      missing: [
        { requestId: "lost", tenantId: "acme", keyId: "k", model: "iris", version: 2, status: 502, time: "2026-11-20T09:00:00.000Z" },
      ],
    });
    const repaired = await admin("POST", "/admin/usage/reconcile", { json: { ...range, repair: true } });
    expect(repaired.json()).toMatchObject({ gaps: 1, repaired: 1 });
    expect(app.usage.stored.get("lost")).toMatchObject({ status: 502, tenantId: "acme", model: "iris", version: 2, bytesOut: 80 });
    expect((await admin("POST", "/admin/usage/reconcile", { json: { ...range, repair: true } })).json()).toMatchObject({
      matched: 2,
      gaps: 0,
      repaired: 0,
    });
  });

  it("a stream answered (200) whose usage record could not be written is a gap; a request that failed closed (503) is not", async () => {
    const caller = principal({ models: ["tinylm", "iris"] });
    app.usage.failWith = new Error("throttled");
    const chat = { model: "tinylm", messages: [{ role: "user", content: "Hi" }], stream: true };
    expect((await app.request("POST", "/v1/chat/completions", { as: caller, json: chat, requestId: "streamed" })).status).toBe(200);
    expect((await app.request("POST", "/v2/models/iris/infer", { as: caller, json: IRIS_INPUT, requestId: "closed" })).status).toBe(503);
    app.usage.failWith = undefined;
    const range = { from: "2026-11-20T00:00:00Z", to: "2026-11-20T23:59:59Z", repair: true };
    const report = (await admin("POST", "/admin/usage/reconcile", { json: range })).json();
    expect(report).toMatchObject({ accessRecords: 2, unmetered: 1, gaps: 1, repaired: 1 });
    expect(report.missing).toEqual([expect.objectContaining({ requestId: "streamed", status: 200, model: "(unknown)" })]);
    expect(app.usage.stored.get("streamed")).toMatchObject({ status: 200, tenantId: "acme" });
    expect(app.usage.stored.has("closed")).toBe(false);
  });

  it("reports young requests as in flight, never as gaps; the default minimum age outlasts a 15-minute stream", async () => {
    const now = Date.now();
    const entry = (requestId: string, ageMs: number) =>
      app.access.log({
        requestId,
        time: new Date(now - ageMs).toISOString(),
        httpMethod: "POST",
        resourcePath: "/v1/chat/completions",
        path: "/v1/chat/completions",
        status: 200,
        tenantId: "acme",
        keyId: "k",
      });
    entry("streaming", 16 * 60_000);
    entry("settled", 21 * 60_000);
    const res = await admin("POST", "/admin/usage/reconcile", {
      json: { from: new Date(now - 3_600_000).toISOString(), to: new Date(now).toISOString(), repair: true },
    });
    expect(res.json()).toMatchObject({
      inFlight: 1,
      gaps: 1,
      repaired: 1,
      missing: [{ requestId: "settled", model: "(unknown)", version: 0 }],
    });
    expect(app.usage.stored.get("settled")).toMatchObject({ model: "(unknown)", status: 200 });
    expect(app.usage.stored.has("streaming")).toBe(false);
  });

  it("is 400 for unknown fields, bad times and malformed JSON", async () => {
    expectError(await admin("POST", "/admin/usage/reconcile", { json: { ...NOVEMBER, tenantId: "acme" } }), 400, "invalid_request");
    expectError(await admin("POST", "/admin/usage/reconcile", { json: { from: "soon", to: "later" } }), 400, "invalid_request");
    expectError(
      await admin("POST", "/admin/usage/reconcile", { body: "{", headers: { "content-type": "application/json" } }),
      400,
      "invalid_request",
    );
  });
});

describe("GET /admin/usage (every tenant: the console's overview)", () => {
  it("sums every tenant's aggregates by tenant, model or version, with exact cost and latency percentiles", async () => {
    const byTenant = await admin("GET", "/admin/usage", { query: { ...NOVEMBER, group: "tenant" } });
    expect(byTenant.status).toBe(200);
    const body = byTenant.json();
    expect(body).toMatchObject({ group: "tenant", granularity: "day", currency: "USD", totals: { requests: 3, cost: "0" } });
    expect(body.rows.map((r: { tenantId: string; requests: number }) => [r.tenantId, r.requests])).toEqual([
      ["acme", 2],
      ["globex", 1],
    ]);
    // Each request took 5 ms: the (2, 5] ms bucket.
    expect(body.totals.latencyP50Ms).toBeGreaterThan(2);
    expect(body.totals.latencyP99Ms).toBeLessThanOrEqual(5);
    expect(body.totals).not.toHaveProperty("lh2");
    const byModel = (await admin("GET", "/admin/usage", { query: { ...NOVEMBER, group: "model" } })).json();
    expect(byModel.rows).toEqual([expect.objectContaining({ period: "2026-11-19", model: "iris", requests: 3 })]);
    expectError(await admin("GET", "/admin/usage", { query: { group: "key" } }), 400, "invalid_request");
  });
});
