import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import type { PoolSeed } from "../../functions/contract/seed";
import {
  listPriceCost,
  monthPeriod,
  poolUnits,
  splitPoolCost,
  tenantOnPool,
  truncateToNano,
  utilization,
} from "../../functions/core/billing/showback";
import { emptyCounters, type UsageRow } from "../../functions/core/usage";
import { CopyLog, LocalPoolCosts } from "../../infra/local/copy-log";

const gpuPool: PoolSeed = {
  pool: "shared",
  endpointName: "mg-pool-shared",
  instanceType: "ml.g5.12xlarge",
  instance: { accelerators: 4, vcpus: 48 },
  initialInstances: 1,
  listPricePerHour: { "us-east-1": "7.09" },
  priceCurrency: "USD",
  components: [
    { model: "chat", version: 1, componentName: "mg-chat-v1", accelerators: 2, cpus: 8 },
    { model: "iris", version: 1, componentName: "mg-iris-v1", accelerators: 0, cpus: 1.5 },
  ],
};

const row = (model: string, version: number, latencyMs: number, costNano = 0): UsageRow => ({
  ...emptyCounters(),
  period: "2026-12-01",
  model,
  version,
  keyId: "k",
  requests: 1,
  latencyMs,
  costNano,
});

describe("pool units", () => {
  it("weighs a copy by its share of an instance: accelerators, or vCPUs (in quarters) for a CPU-only copy", () => {
    const u = poolUnits(gpuPool);
    // max(4,1) accelerators × 48 vCPUs × 4 quarters per instance.
    expect(u.denominator).toBe(768n);
    // 2 of 4 accelerators: half an instance.
    expect(u.weights.get("chat/1")).toBe(384n);
    // 1.5 of 48 vCPUs: 1/32 of an instance.
    expect(u.weights.get("iris/1")).toBe(24n);
    expect(u.weightsByComponent.get("mg-iris-v1")).toBe(24n);
  });

  it("on a CPU pool, the unit is a quarter vCPU", () => {
    const u = poolUnits({ instance: { accelerators: 0, vcpus: 8 }, components: [{ ...gpuPool.components[1], cpus: 2 } as never] });
    expect(u.denominator).toBe(32n);
    expect(u.weights.get("iris/1")).toBe(8n);
  });

  it("counts a tenant's billable latency × weight on the pool's versions only, and what it was charged there", () => {
    const u = poolUnits(gpuPool);
    const rows = [row("chat", 1, 100, 5), row("iris", 1, 40, 7), row("other", 1, 1000, 11), { ...row("chat", 1, 0), shadowLatencyMs: 500 }];
    expect(tenantOnPool(rows, u)).toEqual({ busy: 100n * 384n + 40n * 24n, chargedNano: 12n });
  });
});

describe("splitPoolCost", () => {
  it("gives each tenant cost × busy / available (floor) and the rest to idle", () => {
    const s = splitPoolCost({
      costNano: 1000n,
      available: 300n,
      tenants: [
        { tenantId: "b", busy: 100n, chargedNano: 0n },
        { tenantId: "a", busy: 50n, chargedNano: 9n },
        { tenantId: "quiet", busy: 0n, chargedNano: 0n },
      ],
    });
    expect(s.tenants.map((t) => [t.tenantId, t.attributedNano])).toEqual([
      ["a", 166n],
      ["b", 333n],
    ]);
    expect(s.idleNano).toBe(501n);
    expect(s.overlapped).toBe(false);
  });

  it("divides by the busy time when it exceeds the available time, and says so", () => {
    const s = splitPoolCost({
      costNano: 10n,
      available: 3n,
      tenants: [
        { tenantId: "a", busy: 3n, chargedNano: 0n },
        { tenantId: "b", busy: 3n, chargedNano: 0n },
      ],
    });
    expect(s.overlapped).toBe(true);
    expect(s.tenants.map((t) => t.attributedNano)).toEqual([5n, 5n]);
    expect(s.idleNano).toBe(0n);
  });

  it("puts all of an unused pool's cost in idle", () => {
    const s = splitPoolCost({ costNano: 77n, available: 0n, tenants: [] });
    expect(s).toMatchObject({ idleNano: 77n, busy: 0n, tenants: [] });
  });

  it("adds up to the pool's cost exactly, idle never negative, shares in proportion (property)", () => {
    const tenant = fc.record({
      tenantId: fc.stringMatching(/^[a-z]{3,8}$/),
      busy: fc.bigInt({ min: 0n, max: 10n ** 15n }),
      chargedNano: fc.bigInt({ min: 0n, max: 10n ** 12n }),
    });
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 18n }),
        fc.bigInt({ min: 0n, max: 10n ** 16n }),
        fc.uniqueArray(tenant, { selector: (t) => t.tenantId, maxLength: 12 }),
        (costNano, available, tenants) => {
          const s = splitPoolCost({ costNano, available, tenants });
          const attributed = s.tenants.reduce((sum, t) => sum + t.attributedNano, 0n);
          expect(attributed + s.idleNano).toBe(costNano);
          expect(s.idleNano >= 0n).toBe(true);
          // bigint: no Math.max.
          const divisor = s.overlapped ? s.busy : available;
          for (const t of s.tenants) {
            expect(t.attributedNano >= 0n).toBe(true);
            // floor(cost × busy / divisor): within one nano-unit of the exact share.
            if (divisor > 0n) {
              expect(t.attributedNano * divisor <= costNano * t.busy).toBe(true);
              expect((t.attributedNano + 1n) * divisor > costNano * t.busy).toBe(true);
            }
          }
          // With no overlap, idle is at least the unused capacity's share.
          if (!s.overlapped && available > 0n) expect(s.idleNano * available >= costNano * (available - s.busy)).toBe(true);
          // The rounding remainder is below one nano-unit per tenant.
          if (s.overlapped) expect(s.idleNano < BigInt(Math.max(1, s.tenants.length))).toBe(true);
        },
      ),
    );
  });
});

describe("list prices and periods", () => {
  it("prices unit-milliseconds of an instance at its hourly list price, floored", () => {
    // Half an ml.g5.12xlarge for one hour at $7.09: $3.545.
    expect(listPriceCost(384n * 3_600_000n, 768n, 7_090_000_000n)).toBe(3_545_000_000n);
    expect(listPriceCost(0n, 768n, 7_090_000_000n)).toBe(0n);
  });

  it("reads a month as UTC bounds and days", () => {
    expect(monthPeriod("2026-02")).toEqual({
      month: "2026-02",
      from: Date.UTC(2026, 1, 1),
      to: Date.UTC(2026, 2, 1),
      firstDay: "2026-02-01",
      lastDay: "2026-02-28",
    });
    expect(monthPeriod("2026-13")).toBeUndefined();
    expect(monthPeriod("2026-1")).toBeUndefined();
  });

  it("cuts Cost Explorer's decimals to the nano-unit", () => {
    expect(truncateToNano("12.3456789012")).toBe(12_345_678_901n);
    expect(truncateToNano("0.0000000009")).toBe(0n);
    expect(truncateToNano("744")).toBe(744_000_000_000n);
    expect(() => truncateToNano("1e-5")).toThrow(RangeError);
  });

  it("shows utilization with four decimals", () => {
    expect(utilization(1n, 3n)).toBe(0.3333);
    expect(utilization(5n, 0n)).toBe(0);
  });
});

describe("the local host's copy log (a simulation of the pool's cost)", () => {
  const dir = mkdtempSync(join(tmpdir(), "modelgate-copies-"));

  it("integrates copy-time within the period; an open copy runs to the end, a restart closes what a killed host left open", () => {
    const log = new CopyLog(join(dir, "a.jsonl"));
    log.hostStarted(0);
    log.copies("mg-chat-v1", 1, 1_000);
    log.copies("mg-iris-v1", 1, 2_000);
    log.copies("mg-iris-v1", 0, 5_000);
    // Killed: chat's copy is left open until the next start.
    log.hostStarted(10_000);
    log.copies("mg-iris-v1", 1, 11_000);
    expect(Object.fromEntries(log.copyMs(0, 20_000))).toEqual({ "mg-chat-v1": 9_000, "mg-iris-v1": 3_000 + 9_000 });
    expect(Object.fromEntries(log.copyMs(4_000, 12_000))).toEqual({ "mg-chat-v1": 6_000, "mg-iris-v1": 1_000 + 1_000 });
  });

  it("prices the copies at their share of the pool's instance type, labelled a simulation", async () => {
    const log = new CopyLog(join(dir, "b.jsonl"));
    log.copies("mg-chat-v1", 1, 0);
    log.copies("mg-chat-v1", 0, 3_600_000);
    const units = poolUnits(gpuPool);
    const cost = await new LocalPoolCosts(log, "us-east-1", () => 10_000_000).poolCost(gpuPool, units, { from: 0, to: 86_400_000 });
    expect(cost).toMatchObject({ costNano: 3_545_000_000n, available: 384n * 3_600_000n, basis: "simulation", currency: "USD" });
  });
});
