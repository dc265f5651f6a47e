import { Sha256 } from "@aws-crypto/sha256-js";
import { describe, expect, it } from "@jest/globals";
import { SignatureV4 } from "@smithy/signature-v4";
import type { APIGatewayAuthorizerResult } from "aws-lambda";
import { ROUTES } from "../../functions/contract/routes";
import { AuthorizerRunner, allows } from "../../infra/local/gateway/authorizer-runner";
import type { IncomingRequest } from "../../infra/local/gateway/events";
import { Router } from "../../infra/local/gateway/router";
import { SignatureReplayGuard, verifySigV4 } from "../../infra/local/gateway/sigv4";
import { TokenBucket } from "../../infra/local/gateway/throttle";

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

describe("authorizer cache (issue 12 item 5)", () => {
  /** Allows exactly the tokens in `valid`, counting calls. */
  function counting(valid: (token: string) => boolean) {
    const counter = { calls: 0 };
    const runner = new AuthorizerRunner(
      async (event) => {
        counter.calls++;
        const token = /^Bearer\s+(\S+)\s*$/i.exec(event.headers?.authorization ?? "")?.[1] ?? "";
        if (!valid(token)) throw new Error("Unauthorized");
        return allowAll({ tenantId: token });
      },
      300,
      () => 0,
    );
    return { counter, runner };
  }
  const get = (authorization: string) => incoming("GET", "/v1/models", { authorization });

  it("whitespace and scheme-case variants of one credential share one entry", async () => {
    const { counter, runner } = counting((t) => t === "mg_live_abc_secret1");
    for (const h of [
      "Bearer mg_live_abc_secret1",
      "Bearer   mg_live_abc_secret1",
      "bearer\tmg_live_abc_secret1",
      "BEARER mg_live_abc_secret1  ",
    ]) {
      expect((await runner.authorize(get(h))).kind).toBe("allow");
    }
    expect(counter.calls).toBe(1);
  });

  it("a wrong secret for a cached key id is not a hit: the authorizer refuses it", async () => {
    const { counter, runner } = counting((t) => t === "mg_live_abc_secret1");
    expect((await runner.authorize(get("Bearer mg_live_abc_secret1"))).kind).toBe("allow");
    expect(await runner.authorize(get("Bearer mg_live_abc_WRONG"))).toEqual({ kind: "unauthorized" });
    expect(counter.calls).toBe(2);
  });

  it("is an LRU: past 10,000 entries the least recently used goes, the rest stay", async () => {
    const { counter, runner } = counting(() => true);
    for (let i = 0; i < 10_000; i++) await runner.authorize(get(`Bearer k${i}`));
    await runner.authorize(get("Bearer k0")); // k0 is now the most recently used
    expect(counter.calls).toBe(10_000);
    await runner.authorize(get("Bearer k10000")); // evicts k1, the least recently used
    expect(counter.calls).toBe(10_001);
    await runner.authorize(get("Bearer k0"));
    await runner.authorize(get("Bearer k2"));
    await runner.authorize(get("Bearer k9999"));
    expect(counter.calls).toBe(10_001);
    await runner.authorize(get("Bearer k1"));
    expect(counter.calls).toBe(10_002);
  });
});

describe("SigV4 verification", () => {
  const cred = { accessKeyId: "AKIALOCALTEST", secretAccessKey: "s3cret" };
  async function signed(secret = cred.secretAccessKey, body = '{"a":1}', headers: Record<string, string> = { host: "127.0.0.1:8080" }) {
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
      headers: { ...headers, "content-type": "application/json" },
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
  it("allows AWS's 5 minutes of clock skew, not more", async () => {
    const req = incoming("POST", "/admin/tenants", await signed(), '{"a":1}');
    expect((await verifySigV4(req, cred, Date.now() + 4 * 60_000)).ok).toBe(true);
    expect(await verifySigV4(req, cred, Date.now() + 6 * 60_000)).toEqual({ ok: false, reason: "signature expired or date invalid" });
    expect((await verifySigV4(req, cred, Date.now() - 6 * 60_000)).ok).toBe(false);
  });
  it("requires the host header to be signed", async () => {
    const headers = await signed(cred.secretAccessKey, '{"a":1}', { "x-other": "1" });
    expect(headers.authorization).not.toMatch(/SignedHeaders=[^,]*host/);
    expect(await verifySigV4(incoming("POST", "/admin/tenants", { ...headers, host: "127.0.0.1:8080" }, '{"a":1}'), cred)).toEqual({
      ok: false,
      reason: "the host header must be signed",
    });
  });
  it("refuses a signature it already accepted within the window, and forgets it after", async () => {
    let now = Date.now();
    const guard = new SignatureReplayGuard(10_000, () => now);
    const req = incoming("POST", "/admin/tenants", await signed(), '{"a":1}');
    expect((await verifySigV4(req, cred, now, guard)).ok).toBe(true);
    expect(await verifySigV4(req, cred, now, guard)).toEqual({ ok: false, reason: "replayed signature" });
    // Another request (other body) is not a replay.
    expect(
      (await verifySigV4(incoming("POST", "/admin/tenants", await signed(cred.secretAccessKey, '{"a":2}'), '{"a":2}'), cred, now, guard))
        .ok,
    ).toBe(true);
    // Once its date is out of the window it is refused for that reason, and the guard forgets it.
    now += 6 * 60_000;
    expect(guard.accept("f".repeat(64), new Date(now))).toBe(true);
    expect((guard as unknown as { seen: Map<string, number> }).seen.size).toBe(1);
  });
  it("keeps at most its capacity of signatures, forgetting the oldest first", () => {
    const now = Date.now();
    const guard = new SignatureReplayGuard(3, () => now);
    for (const sig of ["a", "b", "c", "d"]) expect(guard.accept(sig, new Date(now))).toBe(true);
    expect(guard.accept("d", new Date(now))).toBe(false);
    expect(guard.accept("a", new Date(now))).toBe(true);
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
