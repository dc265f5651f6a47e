import { beforeEach, describe, expect, it } from "@jest/globals";
import { expectError, IRIS_INPUT, principal, seedModels, type TestApp, testApp } from "./app";
import { ADMIN_ARN, type RequestInit } from "./request";

let app: TestApp;
const admin = (method: string, path: string, init: RequestInit = {}) => app.request(method, path, { adminArn: ADMIN_ARN, ...init });
const at = (iso: string) => Date.parse(iso);
const START = at("2026-11-20T10:00:00Z");

beforeEach(() => {
  app = testApp();
  seedModels(app);
  app.clock.now = START;
});

describe("the price book (admin API)", () => {
  it("starts a price once every gateway has read it by default, and keeps the history", async () => {
    const first = await admin("POST", "/admin/models/iris/prices", { json: { perRequest: "0.002", perSecond: "0.0001" } });
    expect(first.status).toBe(201);
    // The registry cache TTL (5 s) from now, rounded up to the second.
    expect(first.json()).toEqual({
      model: "iris",
      currency: "USD",
      effectiveFrom: "2026-11-20T10:00:05.000Z",
      components: { perRequest: "0.002", perSecond: "0.0001" },
    });
    const contract = await admin("POST", "/admin/models/iris/prices", {
      json: { tenant: "acme", perRequest: "0.001", from: "2026-11-21T00:00:00Z" },
    });
    expect(contract.status).toBe(201);
    const history = (await admin("GET", "/admin/models/iris/prices")).json();
    expect(history.currency).toBe("USD");
    expect(history.prices.map((p: { effectiveFrom: string }) => p.effectiveFrom)).toEqual([
      "2026-11-20T10:00:05.000Z",
      "2026-11-21T00:00:00.000Z",
    ]);
    app.clock.now = at("2026-11-20T12:00:00Z");
    const listed = (await admin("GET", "/admin/prices", { query: { model: "iris" } })).json().prices;
    expect(listed.map((p: { tenant?: string; status: string }) => [p.tenant ?? "list", p.status])).toEqual([
      ["list", "in force"],
      ["acme", "scheduled"],
    ]);
    // Another tenant's contract prices are left out when one tenant's are asked for.
    expect((await admin("GET", "/admin/models/iris/prices", { query: { tenant: "globex" } })).json().prices).toHaveLength(1);
  });

  it("refuses a price that starts too soon, a bad amount, an unknown model or version, and a second price at the same start", async () => {
    expectError(
      await admin("POST", "/admin/models/iris/prices", { json: { perRequest: "1", from: "2026-11-20T10:00:01Z" } }),
      400,
      "invalid_request",
    );
    const bad = await admin("POST", "/admin/models/iris/prices", { json: { perMillionInput: "0.0000000001" } });
    expectError(bad, 400, "invalid_request");
    expect(bad.json().error.message).toMatch(/perMillionInput/);
    expectError(await admin("POST", "/admin/models/iris/prices", { json: { perRequest: "-1" } }), 400, "invalid_request");
    expectError(await admin("POST", "/admin/models/iris/prices", { json: {} }), 400, "invalid_request");
    expectError(await admin("POST", "/admin/models/nope/prices", { json: { perRequest: "1" } }), 404, "not_found");
    expectError(await admin("POST", "/admin/models/iris/prices", { json: { perRequest: "1", version: 42 } }), 404, "not_found");
    const from = "2026-11-22T00:00:00Z";
    expect((await admin("POST", "/admin/models/iris/prices", { json: { perRequest: "1", from } })).status).toBe(201);
    expectError(await admin("POST", "/admin/models/iris/prices", { json: { perRequest: "2", from } }), 400, "invalid_request");
  });
});

describe("usage priced with the price in force when each request was received", () => {
  it("prices each record once, by its own time and tenant, and a price change never moves past spend", async () => {
    await admin("POST", "/admin/models/iris/prices", { json: { perRequest: "0.002", from: "2026-11-20T11:00:00Z" } });
    await admin("POST", "/admin/models/iris/prices", { json: { tenant: "acme", perRequest: "0.0015", from: "2026-11-20T11:00:00Z" } });
    await admin("POST", "/admin/models/iris/prices", { json: { perRequest: "0.003", from: "2026-11-20T12:00:00Z" } });
    const acme = principal();
    const globex = principal({ tenantId: "globex", keyId: "GlobexKey0000001" });
    const infer = async (as: typeof acme, requestId: string, iso: string) => {
      app.clock.now = at(iso);
      const res = await app.request("POST", "/v2/models/iris/infer", { as, json: IRIS_INPUT, requestId });
      expect(res.status).toBe(200);
      return app.usage.stored.get(requestId);
    };
    // Before any price: free, no cost on the record.
    expect(await infer(globex, "g0", "2026-11-20T10:30:00Z")).not.toHaveProperty("cost");
    expect(await infer(globex, "g1", "2026-11-20T11:30:00Z")).toMatchObject({ cost: "0.002", currency: "USD" });
    expect(await infer(acme, "a1", "2026-11-20T11:30:00Z")).toMatchObject({ cost: "0.0015", currency: "USD" });
    // After the list price moved: globex pays the new price; acme's contract still holds.
    expect(await infer(globex, "g2", "2026-11-20T12:30:00Z")).toMatchObject({ cost: "0.003" });
    expect(await infer(acme, "a2", "2026-11-20T12:30:00Z")).toMatchObject({ cost: "0.0015" });
    expect(app.usage.stored.get("g1")).toMatchObject({ cost: "0.002" });

    await admin("POST", "/admin/tenants", { json: { tenantId: "globex", models: ["*"] } });
    const report = await admin("GET", "/admin/tenants/globex/usage", { query: { from: "2026-11-01", to: "2026-11-30" } });
    expect(report.json()).toMatchObject({ currency: "USD", totals: { requests: 3, cost: "0.005" } });
    expect(report.json().totals).not.toHaveProperty("costNano");
  });

  it("prices LLM tokens per million, streamed and not", async () => {
    await admin("POST", "/admin/models/tinylm/prices", {
      json: { perMillionInput: "0.15", perMillionOutput: "0.6", from: "2026-11-20T10:00:10Z" },
    });
    app.clock.now = at("2026-11-20T10:01:00Z");
    const caller = principal({ models: ["tinylm"] });
    const body = { model: "tinylm", messages: [{ role: "user", content: "Hi" }] };
    await app.request("POST", "/v1/chat/completions", { as: caller, json: body, requestId: "c1" });
    await app.request("POST", "/v1/chat/completions", { as: caller, json: { ...body, stream: true }, requestId: "c2" });
    // 5 input tokens at 0.15/1M + 2 output tokens at 0.6/1M = 0.00000075 + 0.0000012 = 0.00000195
    expect(app.usage.stored.get("c1")).toMatchObject({ tokens: { input: 5, output: 2 }, cost: "0.00000195", currency: "USD" });
    expect(app.usage.stored.get("c2")).toMatchObject({ tokens: { input: 5, output: 2 }, cost: "0.00000195" });
  });
});
