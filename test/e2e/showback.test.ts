import { describe, expect, it } from "@jest/globals";
import { parseAmount } from "../../functions/core/money/amount";
import { cli } from "./cli-run";
import { admin, call, eventually, freshUsage, inferBody, newTenant } from "./helpers";

/**
 * Showback on the local host: the pool `shared` (e2e.config.ts, ml.g5.xlarge) holds iris-ic v1
 * (a copy kept loaded) and v2 (scale to zero), among others. Its cost is a simulation: the
 * copies the local host ran, at the list price of its instance type. Two tenants use the two
 * components; whatever other suites run on the pool at the same time, the tenants' attributed
 * costs and the idle cost add up to the pool's cost exactly.
 */

interface ShowbackPool {
  pool: string;
  basis: string;
  cost: string;
  idleCost: string;
  utilization: number;
  overlapped: boolean;
  tenants: Array<{ tenant: string; attributedCost: string; charged: string }>;
}
interface Showback {
  period: string;
  currency: string;
  estimate: boolean;
  pools: ShowbackPool[];
}

const sumOf = (p: Pick<ShowbackPool, "tenants" | "idleCost">) =>
  p.tenants.reduce((s, t) => s + parseAmount(t.attributedCost), parseAmount(p.idleCost));

describe("showback of the shared pool on the local host", () => {
  it("splits the simulated cost of the copies over two tenants of two components; attributed + idle = pool cost exactly", async () => {
    const a = await newTenant(["iris-ic"], "sba");
    const b = await newTenant(["iris-ic"], "sbb");
    // Tenant a: iris-ic v1 (prod), a copy kept loaded.
    for (let i = 0; i < 5; i++) {
      const res = await call("/v2/models/iris-ic/infer", { key: a.apiKey, body: inferBody() });
      expect(res.status).toBe(200);
    }
    // Tenant b: iris-ic v2 (cold), which may be at zero copies: 503 waking until its copy is loaded.
    const woke = await eventually(
      () => call("/v2/models/iris-ic/versions/cold/infer", { key: b.apiKey, body: inferBody() }),
      (r) => r.status === 200,
      30_000,
    );
    expect(woke.status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const res = await call("/v2/models/iris-ic/versions/cold/infer", { key: b.apiKey, body: inferBody() });
      expect(res.status).toBe(200);
    }
    await freshUsage(a.tenantId);
    await freshUsage(b.tenantId);

    const month = new Date().toISOString().slice(0, 7);
    const res = await admin().request<Showback>("GET", "/admin/showback", undefined, { month });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ period: month, currency: "USD", estimate: true });
    const pool = res.body.pools.find((p) => p.pool === "shared");
    if (!pool) throw new Error(`no pool 'shared' in ${res.text}`);
    expect(pool.basis).toBe("simulation");
    // The copies ran while this suite did: the pool cost something, at ml.g5.xlarge's list price.
    expect(parseAmount(pool.cost)).toBeGreaterThan(0n);
    expect(sumOf(pool)).toBe(parseAmount(pool.cost));
    expect(parseAmount(pool.idleCost)).toBeGreaterThanOrEqual(0n);
    // Model time took a share of the cost, and utilization (busy over available time, at four
    // decimals: it reads 0 once the suite's copies have run long enough) is that share.
    const attributed = pool.tenants.reduce((s, t) => s + parseAmount(t.attributedCost), 0n);
    expect(attributed).toBeGreaterThan(0n);
    expect(Math.abs(pool.utilization - Number((attributed * 10_000n) / parseAmount(pool.cost)) / 10_000)).toBeLessThanOrEqual(0.0001);

    const line = (tenant: string) => pool.tenants.find((t) => t.tenant === tenant);
    // Both tenants had model time on the pool; iris-ic has no price, so nothing was charged.
    for (const t of [a.tenantId, b.tenantId]) {
      expect(line(t)).toMatchObject({ charged: "0" });
      expect(parseAmount(line(t)?.attributedCost ?? "x")).toBeGreaterThanOrEqual(0n);
    }
    // Each tenant's share is in proportion to its model time (both components weigh the same:
    // one vCPU, no accelerator), within the one nano-unit each share is floored by.
    const latency = async (tenantId: string) => {
      const r = await admin().request<{ totals: { latencyMs: number } }>("GET", `/admin/tenants/${tenantId}/usage`);
      return BigInt(r.body.totals.latencyMs);
    };
    const [la, lb] = [await latency(a.tenantId), await latency(b.tenantId)];
    const [sa, sb] = [parseAmount(line(a.tenantId)?.attributedCost ?? "0"), parseAmount(line(b.tenantId)?.attributedCost ?? "0")];
    // sa/la ≈ sb/lb: |sa·lb − sb·la| ≤ la + lb.
    const cross = sa * lb - sb * la;
    expect(cross <= la + lb && -cross <= la + lb).toBe(true);

    // The CLI shows the same split in the JSON shape.
    const out = await cli(["cost", "--by", "tenant", "--month", month, "--json"]);
    expect(out.code).toBe(0);
    const json = JSON.parse(out.stdout) as Showback;
    expect(json).toMatchObject({ period: month, currency: "USD", estimate: true });
    const cliPool = json.pools.find((p) => p.pool === "shared");
    if (!cliPool) throw new Error(`no pool 'shared' in ${out.stdout}`);
    expect(Object.keys(cliPool)).toEqual(expect.arrayContaining(["pool", "cost", "idleCost", "utilization", "tenants"]));
    expect(sumOf(cliPool)).toBe(parseAmount(cliPool.cost));
    expect(cliPool.tenants.map((t) => t.tenant)).toEqual(expect.arrayContaining([a.tenantId, b.tenantId]));

    const table = await cli(["cost", "--by", "tenant", "--month", month]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/TENANT\s+CHARGED\s+ATTRIBUTED COST\s+MARGIN/);
    expect(table.stdout).toMatch(/POOL\s+BASIS\s+COST\s+UTILIZATION\s+IDLE COST/);
    expect(table.stdout).toContain(a.tenantId);
  });
});
