import { describe, expect, it } from "@jest/globals";
import { cli } from "./cli-run";
import { admin, call, e2ePlatform, eventually, inferBody } from "./helpers";

let n = 0;
/** A tenant created with the CLI's limit flags, and its key. */
async function limitedTenant(flags: string[]): Promise<{ tenantId: string; apiKey: string }> {
  const tenantId = `lim-${process.pid}-${Date.now().toString(36)}-${n++}`;
  const created = await cli(["tenants", "create", tenantId, "--models", "iris", ...flags]);
  expect(created).toMatchObject({ code: 0 });
  const key = await admin().request<{ apiKey: string }>("POST", `/admin/tenants/${tenantId}/keys`, {});
  return { tenantId, apiKey: key.body.apiKey };
}

const infer = (key: string) => call("/v2/models/iris/infer", { key, body: inferBody() });

describe("tenant limits through the gateway", () => {
  it("a monthly quota of 100 with 300 concurrent requests admits exactly 100; every 429 says when to retry", async () => {
    const t = await limitedTenant(["--monthly-requests", "100"]);
    expect((await cli(["tenants", "show", t.tenantId])).stdout).toMatch(/limits:\s+100 requests\/month/);
    const results = await Promise.all(Array.from({ length: 300 }, () => infer(t.apiKey)));
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 429);
    if (ok.length !== 100) {
      // Seen once in a loaded full run (98 admitted): say which answers took the missing places.
      const statuses: Record<number, number> = {};
      for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      const odd = results.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.text.slice(0, 160)}`);
      console.info("quota test answers", statuses, [...new Set(odd)].slice(0, 5));
    }
    expect(ok).toHaveLength(100);
    expect(refused).toHaveLength(200);
    for (const r of refused) {
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(r.headers.get("x-ratelimit-limit-requests")).toBe("100");
      expect(r.headers.get("x-ratelimit-remaining-requests")).toBe("0");
      expect(Number(r.headers.get("x-ratelimit-reset-requests"))).toBeGreaterThan(0);
      expect(r.body.error.type).toBeDefined();
    }
    for (const r of ok) expect(r.headers.get("x-ratelimit-limit-requests")).toBe("100");
    // The tenant can read where it stands without spending a request.
    const own = await call("/v1/usage", { key: t.apiKey });
    expect(own.status).toBe(200);
    expect(own.body.limits).toMatchObject({ tenant: { monthlyRequests: 100, now: { requests: { limit: 100, remaining: 0 } } } });
    expect(own.body.limits.key).toBeUndefined();

    // Billing sees the 100, and the refusals apart.
    const usage = await eventually(
      () => admin().request<{ totals: { requests: number; refused: number } }>("GET", `/admin/tenants/${t.tenantId}/usage`),
      (r) => r.body.totals?.requests === 100 && r.body.totals.refused === 200,
    );
    expect(usage.body.totals).toMatchObject({ requests: 100, refused: 200 });
  });

  it("50 req/s offered against 10 req/s with burst 20 admits at most burst + rate × elapsed (+10 %)", async () => {
    const t = await limitedTenant(["--rate", "10", "--burst", "20"]);
    const seconds = 5;
    const started = Date.now();
    const pending: Array<Promise<number>> = [];
    // Open loop: one request every 20 ms whatever the answers do.
    for (let i = 0; i < 50 * seconds; i++) {
      pending.push(infer(t.apiKey).then((r) => r.status));
      await new Promise((r) => setTimeout(r, 20));
    }
    const statuses = await Promise.all(pending);
    const elapsed = (Date.now() - started) / 1000;
    const admitted = statuses.filter((s) => s === 200).length;
    const bound = 20 + 10 * elapsed;
    console.info(`rate limit: offered ${statuses.length} in ${elapsed.toFixed(1)} s, admitted ${admitted}, bound ${bound.toFixed(0)}`);
    expect(admitted).toBeLessThanOrEqual(Math.ceil(bound * 1.1));
    expect(admitted).toBeGreaterThanOrEqual(20);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
  });

  it("raising a limit with `tenants update` applies once the authorizer's cached answer expires", async () => {
    const t = await limitedTenant(["--monthly-requests", "1"]);
    expect((await infer(t.apiKey)).status).toBe(200);
    expect((await infer(t.apiKey)).status).toBe(429);
    const updated = await cli(["tenants", "update", t.tenantId, "--monthly-requests", "5", "--concurrency", "4"]);
    expect(updated.stdout).toMatch(/5 requests\/month, 4 concurrent/);
    const res = await eventually(
      () => infer(t.apiKey),
      (r) => r.status === 200,
      15_000,
    );
    expect(res.headers.get("x-ratelimit-limit-requests")).toBe("5");
    expect(e2ePlatform().url).toBeTruthy();
  });

  it("a key's own limits (`keys create|update` flags) bind on top of its tenant's; rotation keeps the key's count", async () => {
    const { tenantId } = await limitedTenant([]);
    const created = await cli(["keys", "create", tenantId, "--monthly-requests", "3", "--json"]);
    expect(created).toMatchObject({ code: 0 });
    const limited = JSON.parse(created.stdout) as { keyId: string; apiKey: string; limits: unknown };
    expect(limited.limits).toEqual({ monthlyRequests: 3 });
    const other = (await admin().request<{ apiKey: string }>("POST", `/admin/tenants/${tenantId}/keys`, {})).body.apiKey;
    expect((await cli(["keys", "list", tenantId])).stdout).toMatch(new RegExp(`${limited.keyId}.*3 requests/month`));

    const results = await Promise.all(Array.from({ length: 5 }, () => infer(limited.apiKey)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 429, 429]);
    for (const r of results) expect(r.headers.get("x-ratelimit-limit-requests")).toBe("3");
    for (const r of results.filter((x) => x.status === 429)) {
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(r.body.error.message).toMatch(/monthly request quota of 3/);
    }
    const standing = await call("/v1/usage", { key: limited.apiKey });
    expect(standing.body.limits).toEqual({
      key: { monthlyRequests: 3, now: { requests: expect.objectContaining({ limit: 3, remaining: 0 }) } },
    });
    // The tenant has no limits of its own: its other key is not held back.
    for (let i = 0; i < 4; i++) expect((await infer(other)).status).toBe(200);

    // The successor charges the same counters: rotating is no way around a key's quota.
    const rotated = await cli(["keys", "rotate", tenantId, limited.keyId, "--grace", "0s", "--json"]);
    expect(rotated).toMatchObject({ code: 0 });
    const successor = JSON.parse(rotated.stdout) as { keyId: string; apiKey: string };
    expect((await infer(successor.apiKey)).status).toBe(429);

    const updated = await cli(["keys", "update", tenantId, successor.keyId, "--monthly-requests", "5"]);
    expect(updated).toMatchObject({ code: 0 });
    expect(updated.stdout).toMatch(/limits 5 requests\/month/);
    const res = await eventually(
      () => infer(successor.apiKey),
      (r) => r.status === 200,
      15_000,
    );
    expect(res.headers.get("x-ratelimit-limit-requests")).toBe("5");
    expect(res.headers.get("x-ratelimit-remaining-requests")).toBe("1");

    // Bad input is refused by the CLI before any call, and by the API when it gets through.
    expect((await cli(["keys", "update", tenantId, successor.keyId])).code).toBe(2);
    const bad = await admin().request("PATCH", `/admin/tenants/${tenantId}/keys/${successor.keyId}`, { limits: { monthlyRequests: 0 } });
    expect(bad.status).toBe(400);
    const missing = await admin().request("PATCH", `/admin/tenants/${tenantId}/keys/AAAAAAAAAAAAAAAA`, { limits: {} });
    expect(missing.status).toBe(404);
    // Another tenant's key reads exactly like a missing one.
    const stranger = await limitedTenant([]);
    const foreign = await admin().request("PATCH", `/admin/tenants/${stranger.tenantId}/keys/${successor.keyId}`, { limits: {} });
    expect(foreign.status).toBe(404);
  });
});
