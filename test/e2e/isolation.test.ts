import { beforeAll, describe, expect, it } from "@jest/globals";
import { ROUTES } from "../../functions/contract/routes";
import { admin, call, freshUsage, inferBody, newTenant } from "./helpers";

type T = { tenantId: string; apiKey: string; keyId: string };
const u = `${process.pid.toString(36)}${Date.now().toString(36)}`;
const infer = (key: string) => call("/v2/models/iris/infer", { key, body: inferBody() });

async function tenant(id: string): Promise<T> {
  expect((await admin().request("POST", "/admin/tenants", { tenantId: id, models: ["iris"] })).status).toBe(201);
  const k = await admin().request<any>("POST", `/admin/tenants/${id}/keys`, {});
  return { tenantId: id, apiKey: k.body.apiKey, keyId: k.body.keyId };
}

/** What an admin sees of a tenant: used to show B is unchanged after A's attempts. */
async function snapshot(t: T) {
  await freshUsage(t.tenantId);
  const rec = await admin().request<any>("GET", `/admin/tenants/${t.tenantId}`);
  const keys = await admin().request<any>("GET", `/admin/tenants/${t.tenantId}/keys`);
  const usage = await admin().request<any>("GET", `/admin/tenants/${t.tenantId}/usage`);
  const strip = (k: Record<string, unknown>) => ({ ...k, lastUsedAt: undefined });
  return { tenant: rec.body, keys: keys.body.keys.map(strip), requests: usage.body.totals.requests };
}

describe("tenant isolation", () => {
  // `acme…` is a string prefix of `acme…-corp`: the classic prefix-match leak.
  let a: T;
  let b: T;
  beforeAll(async () => {
    a = await tenant(`acme${u}`);
    b = await tenant(`acme${u}-corp`);
    expect((await infer(a.apiKey)).status).toBe(200);
    expect((await infer(b.apiKey)).status).toBe(200);
    expect((await infer(b.apiKey)).status).toBe(200);
    // Aggregates lag the records a little: read them once they are fresh.
    await freshUsage(a.tenantId);
    await freshUsage(b.tenantId);
  });

  it("positive controls: each tenant reads its own usage, keys and record", async () => {
    const ua = await call("/v1/usage", { key: a.apiKey });
    expect(ua.status).toBe(200);
    expect(ua.body).toMatchObject({ tenantId: a.tenantId, totals: { requests: 1 } });
    const ub = await call("/v1/usage", { key: b.apiKey });
    expect(ub.body).toMatchObject({ tenantId: b.tenantId, totals: { requests: 2 } });
    const ka = await admin().request<any>("GET", `/admin/tenants/${a.tenantId}/keys`);
    expect(ka.body.keys.map((k: { keyId: string }) => k.keyId)).toEqual([a.keyId]);
    const kb = await admin().request<any>("GET", `/admin/tenants/${b.tenantId}/keys`);
    expect(kb.body.keys.map((k: { keyId: string }) => k.keyId)).toEqual([b.keyId]);
  });

  it("A cannot read B's usage through query or header variants: the tenant comes from the key only", async () => {
    for (const q of [`tenantId=${b.tenantId}`, `tenant=${b.tenantId}`, `tenantId=${b.tenantId}&tenantId=${b.tenantId}`]) {
      const res = await call(`/v1/usage?${q}`, { key: a.apiKey });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ tenantId: a.tenantId, totals: { requests: 1 } });
    }
    const hdr = await call("/v1/usage", { key: a.apiKey, headers: { "x-tenant-id": b.tenantId } });
    expect(hdr.body.tenantId).toBe(a.tenantId);
  });

  it("A cannot reach B's data through path variants (no such route) or B's key id on A's path (→ 404)", async () => {
    const before = await snapshot(b);
    for (const path of [`/v1/usage/${b.tenantId}`, `/v1/tenants/${b.tenantId}`, `/v1/tenants/${b.tenantId}/keys`, `/v1/keys/${b.keyId}`]) {
      const res = await call(path, { key: a.apiKey });
      // No such route: 404, or API Gateway's 403 "Missing Authentication Token" — never data.
      expect([403, 404]).toContain(res.status);
      expect(res.text).not.toContain(b.keyId);
    }
    // Admin paths with A's tenant id and B's key id: B's key looks absent.
    expect((await admin().request("DELETE", `/admin/tenants/${a.tenantId}/keys/${b.keyId}`)).status).toBe(404);
    expect((await admin().request("POST", `/admin/tenants/${a.tenantId}/keys/${b.keyId}/rotate`, {})).status).toBe(404);
    // Encoded separators never address another tenant.
    for (const id of [`${a.tenantId}%2F..%2F${b.tenantId}`, `${a.tenantId}%23`, `${a.tenantId}-`]) {
      const res = await admin().request("GET", `/admin/tenants/${id}/keys`);
      expect([400, 403, 404]).toContain(res.status);
    }
    expect((await infer(b.apiKey)).status).toBe(200);
    const after = await snapshot(b);
    expect({ ...after, requests: after.requests - 1 }).toEqual(before);
  });

  it("a tenant key on every admin route → 403, and nothing changes", async () => {
    const before = await snapshot(b);
    const admins = ROUTES.filter((r) => r.auth === "iam");
    expect(admins.length).toBeGreaterThanOrEqual(13);
    for (const r of admins) {
      const path = r.path
        .replace("{tenantId}", b.tenantId)
        .replace("{keyId}", b.keyId)
        .replace("{model}", "iris")
        .replace("{alias}", "prod");
      const body = r.method === "GET" || r.method === "DELETE" ? undefined : { tenantId: b.tenantId, models: ["*"], target: 2 };
      for (const key of [a.apiKey, b.apiKey]) {
        const res = await call(path, { key, method: r.method, ...(body ? { body } : {}) });
        expect(`${r.method} ${r.path}: ${res.status}`).toBe(`${r.method} ${r.path}: 403`);
        const viaHeader = await call(path, { method: r.method, headers: { "x-api-key": key }, ...(body ? { body } : {}) });
        expect(viaHeader.status).toBe(403);
      }
    }
    expect(await snapshot(b)).toEqual(before);
    expect((await infer(b.apiKey)).status).toBe(200);
  });

  it("a usage:read-only key cannot invoke (403) but reads its own usage", async () => {
    const k = await admin().request<any>("POST", `/admin/tenants/${a.tenantId}/keys`, { scopes: ["usage:read"] });
    expect((await infer(k.body.apiKey)).status).toBe(403);
    expect((await call("/v1/models/iris/invoke", { key: k.body.apiKey, raw: "{}" })).status).toBe(403);
    const usage = await call("/v1/usage", { key: k.body.apiKey });
    expect(usage.status).toBe(200);
    expect(usage.body.tenantId).toBe(a.tenantId);
    expect((await admin().request("DELETE", `/admin/tenants/${a.tenantId}/keys/${k.body.keyId}`)).status).toBe(200);
  });

  it("privileged or unknown fields in admin bodies → 400 with nothing stored", async () => {
    const fresh = await newTenant(["iris"], "priv");
    const before = await snapshot(fresh);
    const ghost = `ghost-${u}`;
    for (const extra of [{ keyHash: "x" }, { status: "active" }, { revision: 9 }, { createdAt: "2020-01-01T00:00:00Z" }, { admin: true }]) {
      expect((await admin().request("POST", "/admin/tenants", { tenantId: ghost, models: ["iris"], ...extra })).status).toBe(400);
    }
    expect((await admin().request("GET", `/admin/tenants/${ghost}`)).status).toBe(404);
    for (const extra of [
      { tenantId: b.tenantId },
      { keyHash: "x" },
      { secretHash: "x" },
      { status: "revoked" },
      { keyId: "A".repeat(16) },
    ]) {
      expect((await admin().request("POST", `/admin/tenants/${fresh.tenantId}/keys`, { name: "x", ...extra })).status).toBe(400);
      expect((await admin().request("POST", `/admin/tenants/${fresh.tenantId}/keys/${fresh.keyId}/rotate`, extra)).status).toBe(400);
    }
    for (const extra of [{ tenantId: b.tenantId }, { status: "active" }, { revision: 1 }, { keys: [] }]) {
      expect((await admin().request("PATCH", `/admin/tenants/${fresh.tenantId}`, { name: "x", ...extra })).status).toBe(400);
    }
    expect(await snapshot(fresh)).toEqual(before);
    expect(await snapshot(b)).toMatchObject({ tenant: { tenantId: b.tenantId, models: ["iris"] } });
  });
});
