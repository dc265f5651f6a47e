import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, describe, expect, it } from "@jest/globals";
import { identityTable } from "../../functions/contract/tables";
import { e2eTable, localDocumentClient } from "../adapters/dynamo";
import { admin, call, inferBody, newTenant } from "./helpers";

const TTL_WAIT_MS = 2600; // e2e authorizer cache TTL is 2 s
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const infer = (key: string) => call("/v2/models/iris/infer", { key, body: inferBody() });

/** Every secret this file sees, checked against every API response and stored item. */
const secrets = new Set<string>();
const responses: string[] = [];
async function adminReq<T = any>(method: string, path: string, body?: unknown) {
  const res = await admin().request<T>(method, path, body);
  responses.push(res.text);
  const k = (res.body as { apiKey?: string } | undefined)?.apiKey;
  if (k) secrets.add(k);
  return res;
}
const secretPart = (apiKey: string) => apiKey.slice("mg_live_".length + 17, -6);

describe("API key lifecycle over HTTP", () => {
  it("create → works; listed with prefix, name, dates and lastUsedAt, never the hash or secret", async () => {
    const t = await newTenant(["iris"], "keys");
    secrets.add(t.apiKey);
    const created = await adminReq("POST", `/admin/tenants/${t.tenantId}/keys`, { name: "ci", scopes: ["invoke"] });
    expect(created.status).toBe(201);
    expect(created.headers.get("cache-control")).toBe("no-store");
    expect(created.body).toMatchObject({ keyId: expect.any(String), apiKey: expect.stringMatching(/^mg_live_/), name: "ci" });
    expect((await infer(created.body.apiKey)).status).toBe(200);

    const list = await adminReq("GET", `/admin/tenants/${t.tenantId}/keys`);
    expect(list.status).toBe(200);
    const mine = list.body.keys.find((k: { keyId: string }) => k.keyId === created.body.keyId);
    expect(mine).toMatchObject({
      prefix: `mg_live_${created.body.keyId}`,
      name: "ci",
      status: "active",
      scopes: ["invoke"],
      createdAt: expect.any(String),
      lastUsedAt: expect.any(String),
    });
    expect(list.text).not.toMatch(/secretHash|apiKey|keyHash/);
    expect(list.body.keys).toHaveLength(2);
  });

  it("lastUsedAt is written at most once a minute, not per request", async () => {
    const t = await newTenant(["iris"], "lastused");
    secrets.add(t.apiKey);
    expect((await infer(t.apiKey)).status).toBe(200);
    const first = (await adminReq("GET", `/admin/tenants/${t.tenantId}/keys`)).body.keys[0].lastUsedAt;
    expect(first).toEqual(expect.any(String));
    await sleep(TTL_WAIT_MS); // past the authorizer cache, so the authorizer runs again
    expect((await infer(t.apiKey)).status).toBe(200);
    expect((await adminReq("GET", `/admin/tenants/${t.tenantId}/keys`)).body.keys[0].lastUsedAt).toBe(first);
  });

  it("revoke → refused within the TTL; revoked keys are listed as revoked", async () => {
    const t = await newTenant(["iris"], "revoke");
    secrets.add(t.apiKey);
    expect((await infer(t.apiKey)).status).toBe(200);
    const res = await adminReq("DELETE", `/admin/tenants/${t.tenantId}/keys/${t.keyId}`);
    expect(res.status).toBe(200);
    await sleep(TTL_WAIT_MS);
    expect((await infer(t.apiKey)).status).toBe(401);
    expect((await adminReq("GET", `/admin/tenants/${t.tenantId}/keys`)).body.keys[0]).toMatchObject({ status: "revoked" });
  });

  it("expired → refused", async () => {
    const t = await newTenant(["iris"], "expire");
    secrets.add(t.apiKey);
    const expiresAt = new Date(Date.now() + 4000).toISOString();
    const k = await adminReq("POST", `/admin/tenants/${t.tenantId}/keys`, { expiresAt });
    expect(k.status).toBe(201);
    expect((await infer(k.body.apiKey)).status).toBe(200);
    await sleep(Date.parse(expiresAt) - Date.now() + TTL_WAIT_MS);
    expect((await infer(k.body.apiKey)).status).toBe(401);
    const listed = (await adminReq("GET", `/admin/tenants/${t.tenantId}/keys`)).body.keys;
    expect(listed.find((x: { keyId: string }) => x.keyId === k.body.keyId).status).toBe("expired");
    expect((await adminReq("POST", `/admin/tenants/${t.tenantId}/keys`, { expiresAt: "2001-01-01T00:00:00Z" })).status).toBe(400);
  });

  it("rotation: both keys work during the grace period, the old one is refused after it", async () => {
    const t = await newTenant(["iris"], "rotate");
    secrets.add(t.apiKey);
    const rotated = await adminReq("POST", `/admin/tenants/${t.tenantId}/keys/${t.keyId}/rotate`, { graceSeconds: 3 });
    expect(rotated.status).toBe(201);
    expect(rotated.body).toMatchObject({ previousKeyId: t.keyId, previousValidUntil: expect.any(String), apiKey: expect.any(String) });
    expect((await infer(t.apiKey)).status).toBe(200);
    expect((await infer(rotated.body.apiKey)).status).toBe(200);
    // A key is rotated once: a second rotation of the old key is a conflict.
    expect((await adminReq("POST", `/admin/tenants/${t.tenantId}/keys/${t.keyId}/rotate`, {})).status).toBe(409);
    await sleep(Date.parse(rotated.body.previousValidUntil) - Date.now() + TTL_WAIT_MS);
    expect((await infer(t.apiKey)).status).toBe(401);
    expect((await infer(rotated.body.apiKey)).status).toBe(200);
    const keys = (await adminReq("GET", `/admin/tenants/${t.tenantId}/keys`)).body.keys;
    expect(keys.find((k: { keyId: string }) => k.keyId === t.keyId)).toMatchObject({ status: "expired", replacedBy: rotated.body.keyId });
    expect(keys.find((k: { keyId: string }) => k.keyId === rotated.body.keyId)).toMatchObject({ status: "active", rotatedFrom: t.keyId });
  });

  it("caps live keys per tenant at 10, keys in their rotation grace included; revoking makes room; one rotation at the cap", async () => {
    const t = await newTenant(["iris"], "cap");
    secrets.add(t.apiKey);
    const made = await Promise.all(Array.from({ length: 9 }, () => adminReq("POST", `/admin/tenants/${t.tenantId}/keys`, {})));
    expect(made.map((r) => r.status)).toEqual(Array(9).fill(201));
    const over = await adminReq("POST", `/admin/tenants/${t.tenantId}/keys`, {});
    expect(over.status).toBe(409);
    expect(over.body.error.message).toMatch(/10 live keys.*limit is 10/);
    const rotated = await adminReq("POST", `/admin/tenants/${t.tenantId}/keys/${t.keyId}/rotate`, { graceSeconds: 60 });
    expect(rotated.status).toBe(201);
    // The old key still works for 60 s: 11 valid keys, so neither a new key nor a chained rotation.
    expect((await adminReq("POST", `/admin/tenants/${t.tenantId}/keys/${rotated.body.keyId}/rotate`, {})).status).toBe(409);
    expect((await adminReq("DELETE", `/admin/tenants/${t.tenantId}/keys/${made[0]?.body.keyId}`)).status).toBe(200);
    expect((await adminReq("POST", `/admin/tenants/${t.tenantId}/keys`, {})).status).toBe(409);
    expect((await adminReq("DELETE", `/admin/tenants/${t.tenantId}/keys/${made[1]?.body.keyId}`)).status).toBe(200);
    expect((await adminReq("POST", `/admin/tenants/${t.tenantId}/keys`, {})).status).toBe(201);
  });

  it("concurrent creations cannot exceed the cap", async () => {
    const t = await newTenant(["iris"], "race");
    secrets.add(t.apiKey);
    const results = await Promise.all(Array.from({ length: 14 }, () => adminReq("POST", `/admin/tenants/${t.tenantId}/keys`, {})));
    expect(results.every((r) => r.status === 201 || r.status === 409)).toBe(true);
    const created = results.filter((r) => r.status === 201).length;
    expect(created).toBeGreaterThan(0);
    expect(created).toBeLessThanOrEqual(9);
    const live = (await adminReq("GET", `/admin/tenants/${t.tenantId}/keys`)).body.keys.filter(
      (k: { status: string }) => k.status === "active",
    );
    expect(live).toHaveLength(1 + created);
  });

  it("4 KB, non-ASCII, empty and wrong-length keys → 401, never 500", async () => {
    const good = [...secrets][0] ?? "";
    for (const key of ["x".repeat(4096), `mg_live_${"é".repeat(50)}`, good.replace(/.$/, "é"), `${good}0`, good.slice(0, -1)]) {
      const res = await call("/v2/models/iris/infer", { body: inferBody(), headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(401);
      const raw = await call("/v2/models/iris/infer", { body: inferBody(), headers: { "x-api-key": key } });
      expect(raw.status).toBe(401);
    }
  });

  afterAll(async () => {
    // No API response except the one creating a key, and no stored item, contains a secret.
    const doc = localDocumentClient();
    const items: unknown[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await doc.send(new ScanCommand({ TableName: e2eTable(identityTable), ExclusiveStartKey: start }));
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    const stored = JSON.stringify(items);
    expect(secrets.size).toBeGreaterThan(20);
    for (const s of secrets) {
      expect(stored).not.toContain(secretPart(s));
      const shown = responses.filter((r) => r.includes(secretPart(s)));
      expect(shown.length).toBeLessThanOrEqual(1);
    }
  });
});
