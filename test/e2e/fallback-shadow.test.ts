import { describe, expect, it } from "@jest/globals";
import { admin, call, eventually, inferBody, newTenant } from "./helpers";

/** iris-fx (e2e.config.ts): v1 answers 500, v2 is iris, v3 answers after 1.5 s, v4 is unreachable. */
async function setAlias(alias: string, body: Record<string, unknown>): Promise<void> {
  const current = await admin().request<{ revision: number }>("GET", `/admin/models/iris-fx/aliases/${alias}`);
  const res = await admin().request("PUT", `/admin/models/iris-fx/aliases/${alias}`, {
    ...body,
    expectedRevision: current.status === 200 ? current.body.revision : 0,
  });
  if (res.status !== 200) throw new Error(`alias ${alias}: ${res.status} ${res.text}`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function timed(key: string, alias: string, routingKey: string) {
  const t0 = performance.now();
  const res = await call(`/v2/models/iris-fx/versions/${alias}/infer`, {
    key,
    body: inferBody(),
    headers: { "x-routing-key": routingKey },
  });
  return { res, ms: performance.now() - t0 };
}

describe("fallback", () => {
  it("a primary that answers 5xx is covered by the fallback, and the headers say which version answered", async () => {
    const tenant = await newTenant(["iris-fx"]);
    await setAlias("fb", { target: 1, fallback: 2 });
    await setAlias("nofb", { target: 1 });
    const res = await eventually(
      () => call("/v2/models/iris-fx/versions/fb/infer", { key: tenant.apiKey, body: inferBody() }),
      (r) => r.headers.get("x-model-fallback-from") === "1",
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("x-model-version")).toBe("2");
    expect(res.headers.get("x-model-fallback-from")).toBe("1");
    expect(res.body.outputs).toBeDefined();
    // Without a fallback the same failure reaches the client.
    const bare = await call("/v2/models/iris-fx/versions/nofb/infer", { key: tenant.apiKey, body: inferBody() });
    expect(bare.status).toBe(502);
    expect(bare.headers.get("x-model-version")).toBe("1");
  });

  it("a primary whose container is not reachable is covered by the fallback", async () => {
    const tenant = await newTenant(["iris-fx"]);
    await setAlias("fb-down", { target: 4, fallback: 2 });
    const res = await eventually(
      () => call("/v2/models/iris-fx/versions/fb-down/infer", { key: tenant.apiKey, body: inferBody() }),
      (r) => r.status === 200,
    );
    expect(res.headers.get("x-model-version")).toBe("2");
    expect(res.headers.get("x-model-fallback-from")).toBe("4");
  });

  it("a client error (bad input) is not retried on the fallback", async () => {
    const tenant = await newTenant(["iris-fx"]);
    await setAlias("fb-2", { target: 2, fallback: 1 });
    // Raw passthrough: the model itself answers 400 to a tensor of the wrong shape.
    const res = await eventually(
      () =>
        call("/v1/models/iris-fx/invoke?alias=fb-2", {
          key: tenant.apiKey,
          body: { inputs: [{ name: "input", shape: [1, 3], datatype: "FP32", data: [1, 2, 3] }] },
        }),
      (r) => r.headers.get("x-model-alias") === "fb-2",
    );
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.headers.get("x-model-fallback-from")).toBeNull();
  });
});

describe("shadow traffic", () => {
  it("a slow or failing shadow leaves the client's latency and status unchanged, and its usage is separate", async () => {
    const tenant = await newTenant(["iris-fx"]);
    await setAlias("plain", { target: 2 });
    await setAlias("shadow-slow", { target: 2, shadow: { version: 3, percent: 100 } });
    await setAlias("shadow-fail", { target: 2, shadow: { version: 1, percent: 100 } });
    await new Promise((r) => setTimeout(r, 700)); // the registry cache (500 ms in e2e) sees the new aliases
    const N = 15;
    const plain: number[] = [];
    const slow: number[] = [];
    const failing: number[] = [];
    const statuses: number[] = [];
    // Interleaved, sequential: the three paths see the same machine at the same moments.
    for (let i = 0; i < N; i++) {
      const a = await timed(tenant.apiKey, "plain", `k${i}`);
      const b = await timed(tenant.apiKey, "shadow-slow", `k${i}`);
      const c = await timed(tenant.apiKey, "shadow-fail", `k${i}`);
      plain.push(a.ms);
      slow.push(b.ms);
      failing.push(c.ms);
      statuses.push(a.res.status, b.res.status, c.res.status);
      expect(b.res.headers.get("x-model-version")).toBe("2");
    }
    expect(statuses.every((s) => s === 200)).toBe(true);
    const report = { plainP50: median(plain), slowShadowP50: median(slow), failingShadowP50: median(failing) };
    console.info(`shadow latency (ms, median of ${N}): ${JSON.stringify(report)}`);
    // The slow shadow takes 1.5 s: a client that waited for it could not be under that.
    expect(report.slowShadowP50).toBeLessThan(1000);
    expect(report.slowShadowP50).toBeLessThan(report.plainP50 * 2 + 150);
    expect(report.failingShadowP50).toBeLessThan(report.plainP50 * 2 + 150);

    const usage = await eventually(
      () => call("/v1/usage?group=version", { key: tenant.apiKey }),
      (r) => r.body?.totals?.shadowRequests === 2 * N,
      20_000,
    );
    expect(usage.body.totals.requests).toBe(3 * N);
    expect(usage.body.totals.shadowRequests).toBe(2 * N);
    expect(usage.body.totals.shadowErrors).toBe(N);
    const byVersion = new Map<number, { requests: number; shadowRequests: number }>(
      usage.body.rows.map((r: { version: number; requests: number; shadowRequests: number }) => [r.version, r]),
    );
    expect(byVersion.get(2)).toMatchObject({ requests: 3 * N, shadowRequests: 0 });
    expect(byVersion.get(3)).toMatchObject({ requests: 0, shadowRequests: N });
    expect(byVersion.get(1)).toMatchObject({ requests: 0, shadowRequests: N });
  });
});
