import { Sha256 } from "@aws-crypto/sha256-js";
import { describe, expect, it } from "@jest/globals";
import { SignatureV4 } from "@smithy/signature-v4";
import type { APIGatewayAuthorizerResult } from "aws-lambda";
import { AuthorizerRunner, allows } from "../../infra/local/gateway/authorizer-runner";
import type { IncomingRequest } from "../../infra/local/gateway/events";
import { Router } from "../../infra/local/gateway/router";
import { verifySigV4 } from "../../infra/local/gateway/sigv4";
import { TokenBucket } from "../../infra/local/gateway/throttle";
import { ROUTES } from "../../infra/shared/routes";

const router = new Router(ROUTES);

function incoming(method: string, path: string, headers: Record<string, string> = {}, body = ""): IncomingRequest {
  const m = router.match(method, path);
  if (!m || "methodMismatch" in m) throw new Error(`no route ${method} ${path}`);
  return {
    requestId: "r",
    receivedAt: 0,
    method,
    path,
    query: new URLSearchParams(),
    headers,
    body: Buffer.from(body),
    sourceIp: "127.0.0.1",
    ...m,
  };
}

const allowAll = (ctx: Record<string, string> = {}): APIGatewayAuthorizerResult => ({
  principalId: "p",
  policyDocument: {
    Version: "2012-10-17",
    Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: "arn:aws:execute-api:us-east-1:000000000000:local/v1/*/*" }],
  },
  context: ctx,
});

describe("route matching", () => {
  it("extracts path parameters and tells a wrong method from an unknown path", () => {
    expect(router.match("POST", "/v2/models/iris/versions/prod/infer")).toMatchObject({
      pathParameters: { model: "iris", version: "prod" },
    });
    expect(router.match("DELETE", "/v2/models/iris/infer")).toEqual({ methodMismatch: true });
    expect(router.match("GET", "/nope")).toBeUndefined();
  });
});

describe("authorizer runner (API Gateway semantics)", () => {
  it("with caching off, x-api-key alone reaches the authorizer", async () => {
    let calls = 0;
    const runner = new AuthorizerRunner(async () => {
      calls++;
      return allowAll();
    }, 0);
    expect((await runner.authorize(incoming("GET", "/v1/models", { "x-api-key": "k" }))).kind).toBe("allow");
    expect(calls).toBe(1);
  });

  it("no identity source → 401 without calling the authorizer", async () => {
    let calls = 0;
    const runner = new AuthorizerRunner(async () => {
      calls++;
      return allowAll();
    }, 60);
    expect(await runner.authorize(incoming("GET", "/v1/models"))).toEqual({ kind: "unauthorized" });
    expect(calls).toBe(0);
  });

  it("caches results per identity value for the TTL, then calls again", async () => {
    let now = 0;
    let calls = 0;
    const runner = new AuthorizerRunner(
      async () => {
        calls++;
        return allowAll({ tenantId: "t" });
      },
      60,
      () => now,
    );
    const req = incoming("GET", "/v1/models", { authorization: "Bearer k1" });
    expect(await runner.authorize(req)).toMatchObject({ kind: "allow", context: { tenantId: "t" } });
    await runner.authorize(incoming("POST", "/v2/models/iris/infer", { authorization: "Bearer k1" }));
    expect(calls).toBe(1);
    await runner.authorize(incoming("GET", "/v1/models", { authorization: "Bearer k2" }));
    expect(calls).toBe(2);
    now = 61_000;
    await runner.authorize(req);
    expect(calls).toBe(3);
  });

  it("'Unauthorized' → 401, a Deny or a policy not covering the method → 403, other errors → error", async () => {
    const req = incoming("GET", "/v1/models", { authorization: "Bearer k" });
    expect(
      await new AuthorizerRunner(async () => {
        throw new Error("Unauthorized");
      }, 0).authorize(req),
    ).toEqual({ kind: "unauthorized" });
    const deny = allowAll();
    (deny.policyDocument.Statement[0] as { Effect: string }).Effect = "Deny";
    expect(await new AuthorizerRunner(async () => deny, 0).authorize(req)).toEqual({ kind: "denied" });
    const narrow = allowAll();
    (narrow.policyDocument.Statement[0] as { Resource: string }).Resource = "arn:aws:execute-api:us-east-1:000000000000:local/v1/POST/v2/*";
    expect(allows(narrow, "arn:aws:execute-api:us-east-1:000000000000:local/v1/GET/v1/models")).toBe(false);
    expect(
      await new AuthorizerRunner(async () => {
        throw new Error("boom");
      }, 0).authorize(req),
    ).toEqual({ kind: "error" });
  });
});

describe("SigV4 verification", () => {
  const cred = { accessKeyId: "AKIALOCALTEST", secretAccessKey: "s3cret" };
  async function signed(secret = cred.secretAccessKey, body = '{"a":1}') {
    const signer = new SignatureV4({
      credentials: { ...cred, secretAccessKey: secret },
      region: "us-east-1",
      service: "execute-api",
      sha256: Sha256,
    });
    const r = await signer.sign({
      method: "POST",
      protocol: "http:",
      hostname: "127.0.0.1",
      port: 8080,
      path: "/admin/tenants",
      query: {},
      headers: { host: "127.0.0.1:8080", "content-type": "application/json" },
      body,
    });
    return Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
  }
  it("accepts a request signed with the admin credential", async () => {
    expect(await verifySigV4(incoming("POST", "/admin/tenants", await signed(), '{"a":1}'), cred)).toEqual({
      ok: true,
      accessKeyId: cred.accessKeyId,
    });
  });
  it("refuses a wrong secret, a tampered body, a bearer token and a stale date", async () => {
    expect((await verifySigV4(incoming("POST", "/admin/tenants", await signed("wrong"), '{"a":1}'), cred)).ok).toBe(false);
    expect((await verifySigV4(incoming("POST", "/admin/tenants", await signed(), '{"a":2}'), cred)).ok).toBe(false);
    expect((await verifySigV4(incoming("POST", "/admin/tenants", { authorization: "Bearer mg_live_x" }), cred)).ok).toBe(false);
    const old = await signed();
    expect((await verifySigV4(incoming("POST", "/admin/tenants", old, '{"a":1}'), cred, Date.now() + 20 * 60_000)).ok).toBe(false);
  });
});

describe("stage throttling", () => {
  it("admits a burst, then the steady rate, and says when to retry", () => {
    let now = 0;
    const bucket = new TokenBucket(10, 20, () => now);
    let admitted = 0;
    for (let i = 0; i < 50; i++) if (bucket.take().ok) admitted++;
    expect(admitted).toBe(20);
    const refused = bucket.take();
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    now = 1000;
    admitted = 0;
    for (let i = 0; i < 50; i++) if (bucket.take().ok) admitted++;
    expect(admitted).toBe(10);
  });
});
