import { beforeEach, describe, expect, it } from "@jest/globals";
import { monthOf } from "../../functions/core/limits/math";
import { limitSubject, type TenantLimits } from "../../functions/core/limits/tenant-limits";
import { expectError, IRIS_INPUT, principal, seedModels, type TestApp, testApp } from "./app";
import { ADMIN_ARN, type RequestInit } from "./request";

// Monthly budgets at the routes: the refusal shapes, the headers, the admin API and GET /v1/usage.
// Requests reserve their maximum cost once the inference path passes `costEstimateNano`; here
// the budget is spent directly through the limit store, as earlier requests would have.

const UNIT = 1_000_000_000;
let app: TestApp;
const budget: TenantLimits = { monthlyBudget: 2 * UNIT };
const admin = (method: string, path: string, init: RequestInit = {}) => app.request(method, path, { adminArn: ADMIN_ARN, ...init });

/** Spends `nano` of acme's tenant budget in the month of `now`. */
async function spend(nano: number, now = app.clock.now) {
  const a = await app.limits.charge(limitSubject("acme"), budget, { now, requestId: `spend-${nano}`, costEstimateNano: nano });
  expect(a.admitted).toBe(true);
}

beforeEach(() => {
  app = testApp();
  seedModels(app);
});

describe("monthly budgets at the routes", () => {
  it("admitted responses carry x-budget-limit and x-budget-remaining (the tighter of tenant and key)", async () => {
    await spend(UNIT / 4);
    const caller = principal({ models: ["iris"], limits: budget, keyLimits: { monthlyBudget: 5 * UNIT } });
    const res = await app.request("POST", "/v2/models/iris/infer", { as: caller, json: IRIS_INPUT });
    expect(res.status).toBe(200);
    expect(res.headers).toMatchObject({ "x-budget-limit": "2", "x-budget-remaining": "1.75" });
  });

  it("a spent budget is 429 budget_exceeded on KServe routes, with Retry-After to the next UTC month, and the model is not called", async () => {
    await spend(2 * UNIT);
    const caller = principal({ models: ["iris"], limits: budget });
    const res = await app.request("POST", "/v2/models/iris/infer", { as: caller, json: IRIS_INPUT, requestId: "r-budget" });
    expectError(res, 429, "budget_exceeded");
    expect(res.json().error.message).toBe("monthly budget of 2 is spent (2 spent or reserved)");
    expect(res.headers["retry-after"]).toBe(String(Math.ceil((monthOf(app.clock.now).resetMs - app.clock.now) / 1000)));
    expect(res.headers).toMatchObject({ "x-budget-limit": "2", "x-budget-remaining": "0" });
    expect(app.model.calls).toEqual([]);
  });

  it("a spent budget is OpenAI's 429 insufficient_quota on the OpenAI routes", async () => {
    await spend(2 * UNIT);
    const caller = principal({ models: ["tinylm"], limits: budget });
    const res = await app.request("POST", "/v1/chat/completions", {
      as: caller,
      json: { model: "tinylm", messages: [{ role: "user", content: "hi" }] },
    });
    expect(res.status).toBe(429);
    expect(res.json()).toEqual({
      error: {
        message: "monthly budget of 2 is spent (2 spent or reserved)",
        type: "insufficient_quota",
        param: null,
        code: "insufficient_quota",
        request_id: res.headers["x-request-id"],
      },
    });
    expect(Number(res.headers["retry-after"])).toBeGreaterThan(0);
    expect(app.model.calls).toEqual([]);
  });

  it("GET /v1/usage shows each budget, what is spent and what remains, as decimal strings", async () => {
    await spend(UNIT / 2, Date.now());
    const caller = principal({ limits: budget });
    const res = await app.request("GET", "/v1/usage", { as: caller, query: { from: "2026-11-01", to: "2026-11-30" } });
    expect(res.status).toBe(200);
    expect(res.json().limits.tenant).toEqual({
      monthlyBudget: "2",
      now: { monthlyBudget: { limit: "2", spent: "0.5", remaining: "1.5", resetSeconds: expect.any(Number) } },
    });
  });

  it("the admin API takes monthlyBudget as a decimal string and shows it so, for tenants and keys", async () => {
    const created = await admin("POST", "/admin/tenants", {
      json: { tenantId: "acme", models: ["*"], limits: { monthlyBudget: "25.00" } },
    });
    expect(created.status).toBe(201);
    expect(created.json().limits).toEqual({ monthlyBudget: "25" });
    expect((await admin("GET", "/admin/tenants/acme")).json().limits).toEqual({ monthlyBudget: "25" });
    expectError(await admin("PATCH", "/admin/tenants/acme", { json: { limits: { monthlyBudget: "25.001" } } }), 400, "invalid_request");
    const key = await admin("POST", "/admin/tenants/acme/keys", { json: { limits: { monthlyBudget: "3.5" } } });
    expect(key.status).toBe(201);
    expect(key.json().limits).toEqual({ monthlyBudget: "3.5" });
    const keyId = key.json().keyId as string;
    const patched = await admin("PATCH", `/admin/tenants/acme/keys/${keyId}`, { json: { limits: { monthlyBudget: "4" } } });
    expect(patched.json().limits).toEqual({ monthlyBudget: "4" });
    const listed = await admin("GET", "/admin/tenants/acme/keys");
    expect(listed.json().keys[0].limits).toEqual({ monthlyBudget: "4" });
    const bad = await admin("PATCH", `/admin/tenants/acme/keys/${keyId}`, { json: { limits: { monthlyBudget: "-4" } } });
    expect(expectError(bad, 400, "invalid_request")).toBeTruthy();
    expect(bad.json().error.message).toBe('limits: monthlyBudget must not be negative, got "-4"');
  });
});
