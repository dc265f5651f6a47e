import { describe, expect, it } from "@jest/globals";
import { call, freshUsage, inferBody, newTenant } from "./helpers";

describe("usage metering", () => {
  it("200 concurrent requests → usage counts exactly 200, per version", async () => {
    const t = await newTenant(["iris"], "meter");
    const results = await Promise.all(
      Array.from({ length: 200 }, () => call("/v2/models/iris/infer", { key: t.apiKey, body: inferBody() })),
    );
    expect(results.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.text}`)).toEqual([]);
    await freshUsage(t.tenantId);
    const usage = await call("/v1/usage", { key: t.apiKey });
    expect(usage.status).toBe(200);
    expect(Date.parse(usage.body.asOf)).toBeGreaterThan(Date.now() - 60_000);
    expect(usage.body.tenantId).toBe(t.tenantId);
    expect(usage.body).toMatchObject({ granularity: "day", group: "version", totals: { requests: 200, refused: 0, shadowRequests: 0 } });
    expect(usage.body.rows).toEqual([expect.objectContaining({ model: "iris", version: 1, requests: 200, errors: 0 })]);
  });

  it("counts model errors (they reached the model) but not refusals before it", async () => {
    const t = await newTenant(["iris"], "meter-err");
    const wrongShape = { inputs: [{ name: "input", shape: [1, 3], datatype: "FP32", data: [1, 2, 3] }] };
    expect((await call("/v2/models/iris/infer", { key: t.apiKey, body: wrongShape })).status).toBe(400);
    expect((await call("/v2/models/iris/infer", { key: t.apiKey, body: { inputs: [] } })).status).toBe(400);
    expect((await call("/v2/models/nope/infer", { key: t.apiKey, body: inferBody() })).status).toBe(404);
    await freshUsage(t.tenantId);
    const usage = await call("/v1/usage", { key: t.apiKey });
    // Validation and lookup refusals never reach a model or a limit: not recorded at all.
    expect(usage.body.totals).toMatchObject({ requests: 1, errors: 1, refused: 0 });
  });

  it("filters by model and validates the range", async () => {
    const t = await newTenant(["iris", "iris-b"], "meter-f");
    await call("/v2/models/iris/infer", { key: t.apiKey, body: inferBody() });
    await call("/v2/models/iris-b/infer", { key: t.apiKey, body: inferBody() });
    await freshUsage(t.tenantId);
    const onlyB = await call("/v1/usage?model=iris-b", { key: t.apiKey });
    expect(onlyB.body.totals.requests).toBe(1);
    expect((await call("/v1/usage?from=2026-13-01", { key: t.apiKey })).status).toBe(400);
    const hourly = await call("/v1/usage?by=hour", { key: t.apiKey });
    expect(hourly.body.totals.requests).toBe(2);
    expect(hourly.body.rows[0].period).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}$/);
  });
});
