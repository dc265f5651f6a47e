import { describe, expect, it } from "vitest";
import { admin, call, inferBody, newTenant } from "./helpers";

const TTL_WAIT_MS = 2600; // e2e authorizer cache TTL is 2 s
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const uid = () => `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
const infer = (key: string, model = "iris") => call(`/v2/models/${model}/infer`, { key, body: inferBody() });

describe("tenant lifecycle over HTTP", () => {
  it("create, get, list (paged), duplicate and invalid ids", async () => {
    const id = `ten-${uid()}`;
    const created = await admin().request<any>("POST", "/admin/tenants", {
      tenantId: id,
      models: ["iris", "iris"],
      name: "Ten",
      plan: "pro",
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ tenantId: id, name: "Ten", plan: "pro", models: ["iris"], status: "active" });
    expect((await admin().request("GET", `/admin/tenants/${id}`)).body).toMatchObject({ tenantId: id, name: "Ten" });
    expect((await admin().request("POST", "/admin/tenants", { tenantId: id, models: [] })).status).toBe(409);
    for (const bad of ["ab", "UPPER", "a".repeat(41), "under_score", "acme#x"])
      expect((await admin().request("POST", "/admin/tenants", { tenantId: bad, models: [] })).status).toBe(400);

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await admin().request<any>("GET", "/admin/tenants", undefined, { limit: "2", cursor });
      expect(page.status).toBe(200);
      expect(page.body.tenants.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.tenants.map((t: { tenantId: string }) => t.tenantId));
      cursor = page.body.cursor;
      pages++;
    } while (cursor && pages < 500);
    expect(seen).toContain(id);
    expect(new Set(seen).size).toBe(seen.length);
    expect((await admin().request("GET", "/admin/tenants", undefined, { cursor: "not-a-cursor" })).status).toBe(400);
    expect((await admin().request("GET", "/admin/tenants", undefined, { limit: "0" })).status).toBe(400);
  });

  it("update grants, name and plan: a new grant works once cached authorizations expire", async () => {
    const t = await newTenant(["iris"], "upd");
    expect((await infer(t.apiKey, "iris-b")).status).toBe(404);
    const res = await admin().request<any>("PATCH", `/admin/tenants/${t.tenantId}`, {
      models: ["iris", "iris-b"],
      name: "Renamed",
      plan: "gold",
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ models: ["iris", "iris-b"], name: "Renamed", plan: "gold", status: "active" });
    await sleep(TTL_WAIT_MS);
    expect((await infer(t.apiKey, "iris-b")).status).toBe(200);
    expect((await admin().request("PATCH", `/admin/tenants/${t.tenantId}`, {})).status).toBe(400);
    expect((await admin().request("PATCH", `/admin/tenants/${t.tenantId}`, { status: "active" })).status).toBe(400);
    expect((await admin().request("PATCH", `/admin/tenants/nope-${uid()}`, { name: "x" })).status).toBe(404);
  });

  it("disable → all keys refused within the TTL and no new keys; enable → keys work again", async () => {
    const t = await newTenant(["iris"], "dis");
    const second = await admin().request<any>("POST", `/admin/tenants/${t.tenantId}/keys`, {});
    expect((await infer(t.apiKey)).status).toBe(200);
    expect((await infer(second.body.apiKey)).status).toBe(200);
    const res = await admin().request<any>("POST", `/admin/tenants/${t.tenantId}/disable`);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("disabled");
    await sleep(TTL_WAIT_MS);
    expect((await infer(t.apiKey)).status).toBe(401);
    expect((await infer(second.body.apiKey)).status).toBe(401);
    expect((await admin().request("POST", `/admin/tenants/${t.tenantId}/keys`, {})).status).toBe(403);
    expect((await admin().request("POST", `/admin/tenants/${t.tenantId}/keys/${t.keyId}/rotate`, {})).status).toBe(403);
    expect((await admin().request<any>("POST", `/admin/tenants/${t.tenantId}/enable`)).body.status).toBe("active");
    await sleep(TTL_WAIT_MS);
    expect((await infer(t.apiKey)).status).toBe(200);
  });

  it("delete → keys revoked, tenant gone from get and list, id not reusable, usage kept", async () => {
    const t = await newTenant(["iris"], "del");
    expect((await infer(t.apiKey)).status).toBe(200);
    const del = await admin().request<any>("DELETE", `/admin/tenants/${t.tenantId}`);
    expect(del.status).toBe(200);
    expect(del.body).toEqual({ tenantId: t.tenantId, status: "deleted", revokedKeys: 1 });
    await sleep(TTL_WAIT_MS);
    expect((await infer(t.apiKey)).status).toBe(401);
    expect((await admin().request("GET", `/admin/tenants/${t.tenantId}`)).status).toBe(404);
    expect((await admin().request("GET", `/admin/tenants/${t.tenantId}/keys`)).status).toBe(404);
    expect((await admin().request("POST", `/admin/tenants/${t.tenantId}/keys`, {})).status).toBe(404);
    const list = await admin().request<any>("GET", "/admin/tenants", undefined, { limit: "100" });
    expect(list.text).not.toContain(`"${t.tenantId}"`);
    expect((await admin().request("POST", "/admin/tenants", { tenantId: t.tenantId, models: ["iris"] })).status).toBe(409);
    const usage = await admin().request<any>("GET", `/admin/tenants/${t.tenantId}/usage`);
    expect(usage.status).toBe(200);
    expect(usage.body.totals.requests).toBeGreaterThanOrEqual(1);
    // Deleting again is harmless: it finishes any revocation an interrupted delete left behind.
    expect((await admin().request<any>("DELETE", `/admin/tenants/${t.tenantId}`)).body.revokedKeys).toBe(0);
    expect((await admin().request("DELETE", `/admin/tenants/nope-${uid()}`)).status).toBe(404);
  });
});
