import { beforeEach, describe, expect, it } from "@jest/globals";
import type { PoolSeed } from "../../functions/contract/seed";
import type { PoolCost, PoolCostSource } from "../../functions/core/billing/showback-report";
import { parseAmount } from "../../functions/core/money/amount";
import { buildUsageRecord } from "../../functions/core/usage";
import { expectError, type TestApp, testApp } from "./app";
import { ADMIN_ARN, type RequestInit } from "./request";

// One CPU pool (ml.c5.xlarge: 4 vCPUs, 16 quarter-vCPU units) with iris v1 (1 vCPU a copy: 4
// units) and iris v2 (2 vCPUs: 8 units); `other` v1 is not on it.
const pool: PoolSeed = {
  pool: "cpu",
  endpointName: "mg-pool-cpu",
  instanceType: "ml.c5.xlarge",
  instance: { accelerators: 0, vcpus: 4 },
  initialInstances: 1,
  listPricePerHour: { "us-east-1": "0.204" },
  priceCurrency: "USD",
  components: [
    { model: "iris", version: 1, componentName: "mg-iris-v1", accelerators: 0, cpus: 1 },
    { model: "iris", version: 2, componentName: "mg-iris-v2", accelerators: 0, cpus: 2 },
  ],
};

/** A pool cost source that answers a fixed cost and capacity, and remembers what it was asked. */
class FixedCosts implements PoolCostSource {
  asked: Array<{ pool: string; from: number; to: number }> = [];
  constructor(private readonly cost: PoolCost) {}
  async poolCost(p: PoolSeed, _units: unknown, period: { from: number; to: number }): Promise<PoolCost> {
    this.asked.push({ pool: p.pool, ...period });
    return this.cost;
  }
}

let app: TestApp;
let costs: FixedCosts;
const admin = (method: string, path: string, init: RequestInit = {}) => app.request(method, path, { adminArn: ADMIN_ARN, ...init });

async function record(tenantId: string, requestId: string, model: string, version: number, latencyMs: number, at = "2026-11-19T09:00:00Z") {
  const receivedAt = Date.parse(at);
  const r = buildUsageRecord({
    requestId,
    receivedAt,
    finishedAt: receivedAt + latencyMs,
    tenantId,
    keyId: "k",
    model,
    version,
    status: 200,
    bytesIn: 1,
    bytesOut: 1,
  });
  await app.usage.record({ ...r, cost: "0.01", currency: "USD" });
}

beforeEach(async () => {
  // $1 for the month; capacity 1,000,000 unit-ms.
  costs = new FixedCosts({ costNano: 1_000_000_000n, currency: "USD", available: 1_000_000n, basis: "simulation", note: "test" });
  app = testApp({ showback: { pools: { pools: async () => [pool] }, costs } });
  for (const tenantId of ["acme", "globex", "idle-co"]) await admin("POST", "/admin/tenants", { json: { tenantId, models: ["*"] } });
  await record("acme", "a1", "iris", 1, 10_000); // 10,000 ms × 4 units
  await record("acme", "a2", "other", 1, 90_000); // not on the pool
  await record("globex", "g1", "iris", 2, 30_000); // 30,000 ms × 8 units
  await record("globex", "g2", "iris", 2, 30_000, "2026-10-31T23:59:59Z"); // October
});

describe("GET /admin/showback", () => {
  it("splits the pool's cost by model time × the copy's vCPUs; attributed + idle = cost exactly", async () => {
    const res = await admin("GET", "/admin/showback", { query: { month: "2026-11" } });
    expect(res.status).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ period: "2026-11", currency: "USD", estimate: true });
    expect(costs.asked).toEqual([{ pool: "cpu", from: Date.UTC(2026, 10, 1), to: Date.UTC(2026, 11, 1) }]);
    const [p] = body.pools;
    // acme 40,000 unit-ms, globex 240,000 of 1,000,000: $0.04 and $0.24, idle $0.72.
    expect(p).toEqual({
      pool: "cpu",
      endpointName: "mg-pool-cpu",
      basis: "simulation",
      note: "test",
      cost: "1",
      idleCost: "0.72",
      utilization: 0.28,
      overlapped: false,
      tenants: [
        { tenant: "acme", attributedCost: "0.04", charged: "0.01" },
        { tenant: "globex", attributedCost: "0.24", charged: "0.01" },
      ],
    });
    const parts = p.tenants.reduce(
      (s: bigint, t: { attributedCost: string }) => s + parseAmount(t.attributedCost),
      parseAmount(p.idleCost),
    );
    expect(parts).toBe(parseAmount(p.cost));
  });

  it("defaults to the current month (the clock's) and refuses a month that is not YYYY-MM", async () => {
    const res = await admin("GET", "/admin/showback");
    expect(res.json().period).toBe("2026-11");
    expectError(await admin("GET", "/admin/showback", { query: { month: "2026-13" } }), 400, "invalid_request");
    expectError(await admin("GET", "/admin/showback", { query: { month: "last" } }), 400, "invalid_request");
  });

  it("answers 404 on a host with no source of pool costs", async () => {
    app = testApp();
    expectError(await admin("GET", "/admin/showback"), 404, "not_found");
  });
});

describe("GET /admin/pools", () => {
  it("lists each pool's instances and its components with their copy ranges, sorted, without list prices", async () => {
    const withRanges: PoolSeed = {
      ...pool,
      instances: { min: 1, initial: 1, max: 2 },
      components: [
        { model: "iris", version: 2, componentName: "mg-iris-v2", accelerators: 0, cpus: 2, copies: { min: 0, initial: 1, max: 3 } },
        { model: "chat", version: 1, componentName: "mg-chat-v1", accelerators: 1, cpus: 4, copies: { min: 1, initial: 1, max: 1 } },
      ],
    };
    app = testApp({ showback: { pools: { pools: async () => [withRanges, { ...pool, pool: "a-first", components: [] }] }, costs } });
    const res = await admin("GET", "/admin/pools");
    expect(res.status).toBe(200);
    const body = res.json();
    expect(body.pools.map((p: { pool: string }) => p.pool)).toEqual(["a-first", "cpu"]);
    expect(body.pools[1]).toEqual({
      pool: "cpu",
      endpointName: "mg-pool-cpu",
      instanceType: "ml.c5.xlarge",
      instance: { accelerators: 0, vcpus: 4 },
      initialInstances: 1,
      instances: { min: 1, initial: 1, max: 2 },
      components: [
        { model: "chat", version: 1, componentName: "mg-chat-v1", accelerators: 1, cpus: 4, copies: { min: 1, initial: 1, max: 1 } },
        { model: "iris", version: 2, componentName: "mg-iris-v2", accelerators: 0, cpus: 2, copies: { min: 0, initial: 1, max: 3 } },
      ],
    });
  });

  it("adds what runs now where the host tells it, and still lists a pool whose state cannot be read", async () => {
    const withComponents: PoolSeed = {
      ...pool,
      components: [
        { model: "iris", version: 2, componentName: "mg-iris-v2", accelerators: 0, cpus: 2 },
        { model: "chat", version: 1, componentName: "mg-chat-v1", accelerators: 1, cpus: 4 },
      ],
    };
    const broken: PoolSeed = { ...pool, pool: "gpu", endpointName: "mg-pool-gpu", components: [] };
    const state = {
      live: async (p: PoolSeed) => {
        if (p.pool === "gpu") throw new Error("DescribeEndpoint: throttled");
        return { instances: 2, copies: { "mg-iris-v2": 3 } };
      },
    };
    app = testApp({ showback: { pools: { pools: async () => [withComponents, broken] }, costs, state } });
    const body = (await admin("GET", "/admin/pools")).json();
    expect(body.pools[0]).toMatchObject({
      pool: "cpu",
      runningInstances: 2,
      components: [{ componentName: "mg-chat-v1" }, { componentName: "mg-iris-v2", runningCopies: 3 }],
    });
    expect(body.pools[0].components[0]).not.toHaveProperty("runningCopies");
    expect(body.pools[1]).toMatchObject({ pool: "gpu" });
    expect(body.pools[1]).not.toHaveProperty("runningInstances");
  });

  it("answers 404 on a host with no pool catalog", async () => {
    app = testApp({});
    const res = await admin("GET", "/admin/pools");
    expect(res.status).toBe(404);
  });
});
