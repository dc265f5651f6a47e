import { beforeEach, describe, expect, it } from "@jest/globals";
import { expectError, type TestApp, testApp } from "./app";
import { ADMIN_ARN, type RequestInit } from "./request";

let app: TestApp;
const admin = (method: string, path: string, init: RequestInit = {}) => app.request(method, path, { adminArn: ADMIN_ARN, ...init });

beforeEach(() => {
  app = testApp();
});

describe("POST /admin/tenants", () => {
  it("creates a tenant (201) with sorted, deduplicated grants and revision 1", async () => {
    const res = await admin("POST", "/admin/tenants", {
      json: { tenantId: "acme", models: ["iris", "bert", "iris"], limits: { ratePerSecond: 5 } },
    });
    expect(res.status).toBe(201);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(res.json()).toMatchObject({
      tenantId: "acme",
      name: "acme",
      models: ["bert", "iris"],
      plan: "default",
      status: "active",
      revision: 1,
      limits: { ratePerSecond: 5 },
    });
    expect(app.identity.tenants.get("acme")?.status).toBe("active");
  });

  it("is 409 for an id that exists, or existed: a deleted tenant's id is never reused", async () => {
    await admin("POST", "/admin/tenants", { json: { tenantId: "acme", models: [] } });
    expectError(await admin("POST", "/admin/tenants", { json: { tenantId: "acme", models: [] } }), 409, "conflict");
    await admin("DELETE", "/admin/tenants/acme");
    expectError(await admin("POST", "/admin/tenants", { json: { tenantId: "acme", models: [] } }), 409, "conflict");
  });

  it("is 400 for malformed JSON, unknown or privileged fields, bad ids and bad limits", async () => {
    const json = { "content-type": "application/json" };
    expectError(await admin("POST", "/admin/tenants", { body: '{"tenantId":', headers: json }), 400, "invalid_request");
    expectError(await admin("POST", "/admin/tenants", { headers: json }), 400, "invalid_request");
    for (const body of [
      { tenantId: "acme", models: [], status: "disabled" },
      { tenantId: "acme", models: [], revision: 7 },
      { tenantId: "A!", models: [] },
      { tenantId: "acme" },
      { tenantId: "acme", models: ["Not A Model"] },
      { tenantId: "acme", models: [], limits: { burst: 5 } },
      { tenantId: "acme", models: [], limits: { ratePerSecond: 0 } },
      { tenantId: "acme", models: [], limits: { tokensPerMinute: 0 } },
    ]) {
      expectError(await admin("POST", "/admin/tenants", { json: body }), 400, "invalid_request");
    }
    expect(app.identity.tenants.size).toBe(0);
  });

  it("is 415 for a body that is not JSON and 413 past the body limit", async () => {
    expectError(
      await admin("POST", "/admin/tenants", { body: "tenantId=acme", headers: { "content-type": "application/x-www-form-urlencoded" } }),
      415,
      "unsupported_media_type",
    );
    expectError(
      await admin("POST", "/admin/tenants", { json: { tenantId: "acme", models: [], name: "x".repeat(20_000) } }),
      413,
      "payload_too_large",
    );
  });
});

describe("GET /admin/tenants", () => {
  it("pages through live tenants with an opaque cursor, leaving deleted ones out", async () => {
    for (const tenantId of ["acme", "globex", "initech"]) await admin("POST", "/admin/tenants", { json: { tenantId, models: [] } });
    await admin("DELETE", "/admin/tenants/globex");
    const first = await admin("GET", "/admin/tenants", { query: { limit: "1" } });
    expect(first.status).toBe(200);
    expect(first.json().tenants.map((t: { tenantId: string }) => t.tenantId)).toEqual(["acme"]);
    const second = await admin("GET", "/admin/tenants", { query: { limit: "1", cursor: first.json().cursor } });
    expect(second.json().tenants.map((t: { tenantId: string }) => t.tenantId)).toEqual(["initech"]);
    expect(second.json().cursor).toBeUndefined();
  });

  it("is 400 for a bad limit or cursor", async () => {
    expectError(await admin("GET", "/admin/tenants", { query: { limit: "0" } }), 400, "invalid_request");
    expectError(await admin("GET", "/admin/tenants", { query: { limit: "101" } }), 400, "invalid_request");
    expectError(await admin("GET", "/admin/tenants", { query: { cursor: "bm9wZQ" } }), 400, "invalid_request");
  });
});

describe("GET, PATCH and DELETE /admin/tenants/{tenantId}", () => {
  beforeEach(async () => {
    await admin("POST", "/admin/tenants", { json: { tenantId: "acme", models: ["iris"] } });
  });

  it("reads a tenant; 404 for an unknown or deleted one, 400 for a malformed id", async () => {
    expect((await admin("GET", "/admin/tenants/acme")).json()).toMatchObject({ tenantId: "acme", revision: 1, limits: {} });
    expectError(await admin("GET", "/admin/tenants/nobody"), 404, "not_found");
    expectError(await admin("GET", "/admin/tenants/AB"), 400, "invalid_request");
    await admin("DELETE", "/admin/tenants/acme");
    expectError(await admin("GET", "/admin/tenants/acme"), 404, "not_found");
  });

  it("PATCH changes name, grants, plan and limits, bumping the revision; `limits: {}` removes them", async () => {
    const res = await admin("PATCH", "/admin/tenants/acme", {
      json: { name: "Acme Corp", models: ["*", "iris"], plan: "gold", limits: { monthlyRequests: 5 } },
    });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ name: "Acme Corp", models: ["*"], plan: "gold", revision: 2, limits: { monthlyRequests: 5 } });
    expect((await admin("PATCH", "/admin/tenants/acme", { json: { limits: {} } })).json()).toMatchObject({ revision: 3, limits: {} });
  });

  it("PATCH is 400 for an empty patch or a status change (status has its own routes), 404 for an unknown tenant", async () => {
    expectError(await admin("PATCH", "/admin/tenants/acme", { json: {} }), 400, "invalid_request");
    expectError(await admin("PATCH", "/admin/tenants/acme", { json: { status: "active" } }), 400, "invalid_request");
    expectError(await admin("PATCH", "/admin/tenants/nobody", { json: { plan: "gold" } }), 404, "not_found");
  });

  it("disable and enable switch the tenant's keys off and on at the authorizer", async () => {
    const key = await app.request("POST", "/admin/tenants/acme/keys", { adminArn: ADMIN_ARN });
    const apiKey = key.json().apiKey as string;
    const disabled = await admin("POST", "/admin/tenants/acme/disable");
    expect(disabled.json()).toMatchObject({ status: "disabled" });
    await expect(app.request("GET", "/v1/models", { apiKey })).rejects.toThrow("Unauthorized");
    expect((await admin("POST", "/admin/tenants/acme/enable")).json()).toMatchObject({ status: "active" });
    expect((await app.request("GET", "/v1/models", { apiKey })).status).toBe(200);
    expectError(await admin("POST", "/admin/tenants/nobody/disable"), 404, "not_found");
    expectError(await admin("POST", "/admin/tenants/nobody/enable"), 404, "not_found");
  });

  it("DELETE leaves a tombstone and revokes every key; repeating it is harmless; 404 for a tenant that never existed", async () => {
    await admin("POST", "/admin/tenants/acme/keys");
    await admin("POST", "/admin/tenants/acme/keys");
    const res = await admin("DELETE", "/admin/tenants/acme");
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ tenantId: "acme", status: "deleted", revokedKeys: 2 });
    expect([...app.identity.keys.values()].map((k) => k.status)).toEqual(["revoked", "revoked"]);
    expect((await admin("DELETE", "/admin/tenants/acme")).json()).toEqual({ tenantId: "acme", status: "deleted", revokedKeys: 0 });
    expectError(await admin("DELETE", "/admin/tenants/nobody"), 404, "not_found");
  });
});
