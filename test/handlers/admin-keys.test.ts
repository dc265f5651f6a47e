import { beforeEach, describe, expect, it } from "@jest/globals";
import { DEFAULT_GRACE_SECONDS } from "../../functions/core/api-keys";
import { principalFromContext } from "../../functions/core/principal";
import { authorizerEvent } from "../../infra/local/gateway/events";
import { expectError, type TestApp, testApp } from "./app";
import { ADMIN_ARN, incoming, type RequestInit } from "./request";

let app: TestApp;
const admin = (method: string, path: string, init: RequestInit = {}) => app.request(method, path, { adminArn: ADMIN_ARN, ...init });
const newKey = async (tenantId = "acme", json?: unknown) =>
  (await admin("POST", `/admin/tenants/${tenantId}/keys`, json === undefined ? {} : { json })).json();

const authorize = (apiKey: string) => app.authorizer(authorizerEvent(incoming("GET", "/v1/models", { headers: { "x-api-key": apiKey } })));

beforeEach(async () => {
  app = testApp({ maxKeysPerTenant: 3 });
  for (const tenantId of ["acme", "globex"]) await admin("POST", "/admin/tenants", { json: { tenantId, models: ["*"] } });
});

describe("POST /admin/tenants/{tenantId}/keys", () => {
  it("returns the whole key once (201, cache-control: no-store), and the authorizer accepts it", async () => {
    const res = await admin("POST", "/admin/tenants/acme/keys", { json: { name: "ci", scopes: ["invoke"], limits: { concurrency: 2 } } });
    expect(res.status).toBe(201);
    expect(res.headers["cache-control"]).toBe("no-store");
    const key = res.json();
    expect(key).toMatchObject({
      tenantId: "acme",
      name: "ci",
      scopes: ["invoke"],
      limits: { concurrency: 2 },
      prefix: `mg_live_${key.keyId}`,
    });
    expect(key.apiKey).toMatch(/^mg_live_[0-9A-Za-z]{16}_[0-9A-Za-z]{38}$/);
    const stored = app.identity.keys.get(key.keyId);
    expect(JSON.stringify(stored)).not.toContain(key.apiKey.slice(25));
    const allowed = await authorize(key.apiKey);
    expect(principalFromContext(allowed.context)).toMatchObject({
      tenantId: "acme",
      keyId: key.keyId,
      scopes: ["invoke"],
      keyLimits: { concurrency: 2 },
    });
  });

  it("needs no body: every scope by default", async () => {
    expect(await newKey()).toMatchObject({ scopes: ["invoke", "usage:read"] });
  });

  it("is 400 for malformed JSON, unknown or privileged fields, bad scopes and a past expiry", async () => {
    expectError(
      await admin("POST", "/admin/tenants/acme/keys", { body: "{", headers: { "content-type": "application/json" } }),
      400,
      "invalid_request",
    );
    for (const json of [
      { tenantId: "globex" },
      { secretHash: "00" },
      { scopes: ["admin"] },
      { scopes: [] },
      { expiresAt: "2000-01-01T00:00:00Z" },
    ]) {
      expectError(await admin("POST", "/admin/tenants/acme/keys", { json }), 400, "invalid_request");
    }
    expect(app.identity.keys.size).toBe(0);
  });

  it("is 415 for a non-JSON body and 413 past the body limit", async () => {
    expectError(
      await admin("POST", "/admin/tenants/acme/keys", { body: "name=ci", headers: { "content-type": "text/plain" } }),
      415,
      "unsupported_media_type",
    );
    expectError(await admin("POST", "/admin/tenants/acme/keys", { json: { name: "x".repeat(20_000) } }), 413, "payload_too_large");
  });

  it("is 404 for an unknown tenant, 403 for a disabled one and 409 past the live-key cap", async () => {
    expectError(await admin("POST", "/admin/tenants/nobody/keys"), 404, "not_found");
    await admin("POST", "/admin/tenants/globex/disable");
    expectError(await admin("POST", "/admin/tenants/globex/keys"), 403, "forbidden");
    for (let i = 0; i < 3; i++) await newKey();
    expect(expectError(await admin("POST", "/admin/tenants/acme/keys"), 409, "conflict")).toMatch(/3 live keys/);
  });

  it("holds the cap under concurrent creations: the tenant revision serialises them", async () => {
    const results = await Promise.all(Array.from({ length: 5 }, () => admin("POST", "/admin/tenants/acme/keys")));
    expect(results.map((r) => r.status).sort()).toEqual([201, 201, 201, 409, 409]);
    expect(await app.identity.listKeys("acme")).toHaveLength(3);
  });
});

describe("GET /admin/tenants/{tenantId}/keys", () => {
  it("lists a tenant's keys without any secret or hash", async () => {
    const key = await newKey();
    await newKey("globex");
    const res = await admin("GET", "/admin/tenants/acme/keys");
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ tenantId: "acme", keys: [expect.objectContaining({ keyId: key.keyId, status: "active" })] });
    expect(res.text).not.toMatch(/secretHash|apiKey/);
    expectError(await admin("GET", "/admin/tenants/nobody/keys"), 404, "not_found");
  });
});

describe("PATCH and DELETE /admin/tenants/{tenantId}/keys/{keyId}", () => {
  it("PATCH replaces a key's own limits; `{}` removes them", async () => {
    const { keyId } = await newKey();
    const set = await admin("PATCH", `/admin/tenants/acme/keys/${keyId}`, { json: { limits: { ratePerSecond: 2 } } });
    expect(set.status).toBe(200);
    expect(set.json()).toMatchObject({ keyId, limits: { ratePerSecond: 2 } });
    const cleared = await admin("PATCH", `/admin/tenants/acme/keys/${keyId}`, { json: { limits: {} } });
    expect(cleared.json().limits).toBeUndefined();
  });

  it("PATCH takes a tokens-per-minute limit, validated like the others", async () => {
    const { keyId } = await newKey();
    const set = await admin("PATCH", `/admin/tenants/acme/keys/${keyId}`, { json: { limits: { tokensPerMinute: 1000 } } });
    expect(set.json()).toMatchObject({ keyId, limits: { tokensPerMinute: 1000 } });
    const bad = await admin("PATCH", `/admin/tenants/acme/keys/${keyId}`, { json: { limits: { tokensPerMinute: 0.5 } } });
    expectError(bad, 400, "invalid_request");
    expect(bad.json().error.message).toContain("tokensPerMinute must be a positive integer");
  });

  it("PATCH is 400 without limits or with bad ones and for a malformed key id, 404 for another tenant's key", async () => {
    const { keyId } = await newKey();
    expectError(await admin("PATCH", `/admin/tenants/acme/keys/${keyId}`, { json: {} }), 400, "invalid_request");
    expectError(
      await admin("PATCH", `/admin/tenants/acme/keys/${keyId}`, { json: { limits: { concurrency: 5000 } } }),
      400,
      "invalid_request",
    );
    expectError(await admin("PATCH", "/admin/tenants/acme/keys/short", { json: { limits: {} } }), 400, "invalid_request");
    expectError(await admin("PATCH", `/admin/tenants/globex/keys/${keyId}`, { json: { limits: {} } }), 404, "not_found");
  });

  it("DELETE revokes the key at once; another tenant's key reads as missing and stays active", async () => {
    const key = await newKey();
    expectError(await admin("DELETE", `/admin/tenants/globex/keys/${key.keyId}`), 404, "not_found");
    expect(app.identity.keys.get(key.keyId)?.status).toBe("active");
    const res = await admin("DELETE", `/admin/tenants/acme/keys/${key.keyId}`);
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ tenantId: "acme", keyId: key.keyId, status: "revoked" });
    await expect(app.request("GET", "/v1/models", { apiKey: key.apiKey })).rejects.toThrow("Unauthorized");
  });
});

describe("POST /admin/tenants/{tenantId}/keys/{keyId}/rotate", () => {
  it("issues a successor (201, no-store) that charges the old key's limits; the old one works through the grace period", async () => {
    const old = await newKey();
    const before = Date.now();
    const res = await admin("POST", `/admin/tenants/acme/keys/${old.keyId}/rotate`);
    expect(res.status).toBe(201);
    expect(res.headers["cache-control"]).toBe("no-store");
    const next = res.json();
    expect(next).toMatchObject({ previousKeyId: old.keyId, tenantId: "acme" });
    expect(Date.parse(next.previousValidUntil) - before).toBeGreaterThanOrEqual(DEFAULT_GRACE_SECONDS * 1000 - 1000);
    expect(app.identity.keys.get(old.keyId)).toMatchObject({ replacedBy: next.keyId, expiresAt: next.previousValidUntil });
    for (const apiKey of [old.apiKey, next.apiKey]) expect((await app.request("GET", "/v1/models", { apiKey })).status).toBe(200);
    const successor = await authorize(next.apiKey);
    expect(successor.context?.limitKeyId).toBe(old.keyId);
  });

  it("is 409 for a key rotated already or revoked, 404 for another tenant's key, 400 for a bad grace period", async () => {
    const key = await newKey();
    expectError(
      await admin("POST", `/admin/tenants/acme/keys/${key.keyId}/rotate`, { json: { graceSeconds: -1 } }),
      400,
      "invalid_request",
    );
    expectError(await admin("POST", `/admin/tenants/globex/keys/${key.keyId}/rotate`), 404, "not_found");
    expect((await admin("POST", `/admin/tenants/acme/keys/${key.keyId}/rotate`, { json: { graceSeconds: 60 } })).status).toBe(201);
    expectError(await admin("POST", `/admin/tenants/acme/keys/${key.keyId}/rotate`), 409, "conflict");
    const other = await newKey();
    await admin("DELETE", `/admin/tenants/acme/keys/${other.keyId}`);
    expectError(await admin("POST", `/admin/tenants/acme/keys/${other.keyId}/rotate`), 409, "conflict");
  });
});
