import { beforeAll, describe, expect, it } from "@jest/globals";
import { generateApiKey } from "../../functions/core/key-format";
import { sendWholeBodyThenRead } from "../local/raw-http";
import { admin, call, e2ePlatform, inferBody, newTenant } from "./helpers";

function expectJsonError(res: { status: number; body: any; text: string }, status: number) {
  expect(res.status).toBe(status);
  expect(res.body.error).toMatchObject({ type: expect.any(String), message: expect.any(String), request_id: expect.any(String) });
  expect(res.text).not.toMatch(/\bat .*\.ts:\d+/); // never a stack trace
}

describe("refusals are JSON errors with the right status", () => {
  let irisOnly: { apiKey: string; tenantId: string; keyId: string };
  beforeAll(async () => {
    irisOnly = await newTenant(["iris"], "refuse");
  });

  it.each([
    ["missing", undefined],
    ["malformed", "hello"],
    ["bad checksum", `${e2ePlatform().apiKey.slice(0, -1)}${e2ePlatform().apiKey.endsWith("0") ? "1" : "0"}`],
    ["unknown", generateApiKey().apiKey],
  ])("%s key → 401", async (_, key) => {
    expectJsonError(await call("/v2/models/iris/infer", { key, body: inferBody() }), 401);
  });

  it("revoked key → 401 within the authorizer cache TTL", async () => {
    const t = await newTenant(["iris"], "revoke");
    expect((await call("/v2/models/iris/infer", { key: t.apiKey, body: inferBody() })).status).toBe(200);
    expect((await admin().request("DELETE", `/admin/tenants/${t.tenantId}/keys/${t.keyId}`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2500)); // e2e TTL is 2 s
    expectJsonError(await call("/v2/models/iris/infer", { key: t.apiKey, body: inferBody() }), 401);
  });

  it("model not granted → 404, answered exactly like a model that does not exist", async () => {
    const ungranted = await call("/v2/models/iris-b/infer", { key: irisOnly.apiKey, body: inferBody() });
    const missing = await call("/v2/models/no-such-model/infer", { key: irisOnly.apiKey, body: inferBody() });
    expectJsonError(ungranted, 404);
    expectJsonError(missing, 404);
    expect(ungranted.body.error.message.replace("iris-b", "M")).toBe(missing.body.error.message.replace("no-such-model", "M"));
    for (const path of ["/v2/models/iris-b", "/v2/models/iris-b/ready"]) expectJsonError(await call(path, { key: irisOnly.apiKey }), 404);
  });

  it("unknown model, version or alias → 404", async () => {
    expectJsonError(await call("/v2/models/nope/infer", { key: e2ePlatform().apiKey, body: inferBody() }), 404);
    expectJsonError(await call("/v2/models/iris/versions/9/infer", { key: e2ePlatform().apiKey, body: inferBody() }), 404);
    expectJsonError(await call("/v2/models/iris/versions/nope/infer", { key: e2ePlatform().apiKey, body: inferBody() }), 404);
    expectJsonError(await call("/v1/models/iris/invoke?alias=nope", { key: e2ePlatform().apiKey, raw: "{}" }), 404);
  });

  it("malformed JSON, a KServe shape error, or a tensor the model cannot take → 400", async () => {
    expectJsonError(
      await call("/v2/models/iris/infer", { key: e2ePlatform().apiKey, raw: "{not json", headers: { "content-type": "application/json" } }),
      400,
    );
    expectJsonError(await call("/v2/models/iris/infer", { key: e2ePlatform().apiKey, body: { inputs: "x" } }), 400);
    const wrongShape = { inputs: [{ name: "input", shape: [1, 3], datatype: "FP32", data: [1, 2, 3] }] };
    const res = await call("/v2/models/iris/infer", { key: e2ePlatform().apiKey, body: wrongShape });
    expectJsonError(res, 400);
    expect(res.headers.get("x-model-version")).toBe("1");
  });

  it("a body over the configured limit → 413; a non-JSON content type on KServe → 415", async () => {
    const big = { inputs: [{ name: "input", shape: [5000, 4], datatype: "FP32", data: new Array(20_000).fill(1.2345678) }] };
    expectJsonError(await call("/v2/models/iris/infer", { key: e2ePlatform().apiKey, body: big }), 413);
    expectJsonError(
      await call("/v2/models/iris/infer", { key: e2ePlatform().apiKey, raw: "a=b", headers: { "content-type": "text/plain" } }),
      415,
    );
  });

  it("unknown paths → 403 (API Gateway's missing-authentication-token); a tenant key on an admin route → 403", async () => {
    expectJsonError(await call("/v9/whatever", { key: e2ePlatform().apiKey }), 403);
    expectJsonError(await call("/admin/tenants", { key: e2ePlatform().apiKey, body: { tenantId: "x", models: [] } }), 403);
    expectJsonError(await call(`/admin/tenants/${irisOnly.tenantId}`, { key: irisOnly.apiKey }), 403);
  });

  it("a usage:read-only key cannot invoke, but reads usage", async () => {
    const key = await admin().request<{ apiKey: string }>("POST", `/admin/tenants/${irisOnly.tenantId}/keys`, { scopes: ["usage:read"] });
    expect(key.status).toBe(201);
    expectJsonError(await call("/v2/models/iris/infer", { key: key.body.apiKey, body: inferBody() }), 403);
    expect((await call("/v1/usage", { key: key.body.apiKey })).status).toBe(200);
  });

  it("admin bodies with privileged or unknown fields → 400 and nothing stored", async () => {
    const res = await admin().request("POST", "/admin/tenants", { tenantId: "sneaky-tenant", models: ["iris"], keyHash: "x" });
    expectJsonError(res, 400);
    expect((await admin().request("GET", "/admin/tenants/sneaky-tenant")).status).toBe(404);
    const key = await admin().request("POST", `/admin/tenants/${irisOnly.tenantId}/keys`, { tenantId: "other" });
    expectJsonError(key, 400);
  });

  it("a large body sent to a refused route reads its 4xx every time, never a reset", async () => {
    const port = Number(new URL(e2ePlatform().url).port);
    const head = (method: string, path: string, auth = "") =>
      `${method} ${path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: ${8 << 20}\r\n\r\n`;
    const cases: Array<[string, number]> = [
      [head("PATCH", "/admin/tenants/1"), 403], // no signature
      [head("POST", "/v2/models/iris/infer"), 401], // no key
      [head("POST", "/v2/models/iris/infer", "Authorization: Bearer mg_live_nope\r\n"), 401], // malformed key
      [head("POST", "/no/such/route"), 403],
    ];
    for (const [request, status] of cases) {
      const outcomes = await Promise.all(Array.from({ length: 8 }, () => sendWholeBodyThenRead(port, request, 8 << 20)));
      expect({ request: request.split("\r\n")[0], outcomes }).toEqual({
        request: request.split("\r\n")[0],
        outcomes: Array.from({ length: 8 }, () => ({ status, reset: false })),
      });
    }
  });
});
