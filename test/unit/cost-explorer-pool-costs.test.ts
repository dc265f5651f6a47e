import type { CostExplorerClient, GetCostAndUsageCommandInput, GetCostAndUsageCommandOutput } from "@aws-sdk/client-cost-explorer";
import { describe, expect, it } from "@jest/globals";
import { CostExplorerPoolCosts } from "../../functions/aws/cost-explorer-pool-costs";
import type { PoolSeed } from "../../functions/contract/seed";
import { poolUnits } from "../../functions/core/billing/showback";

const pool: PoolSeed = {
  pool: "shared",
  endpointName: "mg-pool-shared",
  instanceType: "ml.g5.xlarge",
  instance: { accelerators: 1, vcpus: 4 },
  initialInstances: 2,
  listPricePerHour: { "us-east-1": "1.408" },
  priceCurrency: "USD",
  components: [{ model: "iris", version: 1, componentName: "mg-iris-v1", accelerators: 1, cpus: 1 }],
};
const units = poolUnits(pool);
const DECEMBER = { from: Date.UTC(2026, 11, 1), to: Date.UTC(2027, 0, 1) };
// Ten days into December.
const now = () => Date.UTC(2026, 11, 11);

/** A Cost Explorer that answers `pages` in turn (or throws `error`), and keeps what it was sent. */
function fakeCe(pages: Array<Partial<GetCostAndUsageCommandOutput>>, error?: Error) {
  const sent: GetCostAndUsageCommandInput[] = [];
  const client = {
    send: async (cmd: { input: GetCostAndUsageCommandInput }) => {
      sent.push(cmd.input);
      if (error) throw error;
      return pages[sent.length - 1] ?? {};
    },
  } as unknown as CostExplorerClient;
  return { client, sent };
}

const group = (usageType: string, cost: string, quantity: string) => ({
  Keys: [usageType],
  Metrics: { UnblendedCost: { Amount: cost, Unit: "USD" }, UsageQuantity: { Amount: quantity, Unit: "Hrs" } },
});

describe("CostExplorerPoolCosts", () => {
  it("reads the pool's cost by its cost-allocation tag, and its instance-hours as capacity", async () => {
    const { client, sent } = fakeCe([
      { ResultsByTime: [{ Groups: [group("USE1-Host:ml.g5.xlarge", "337.92", "240")] }], NextPageToken: "p2" },
      { ResultsByTime: [{ Groups: [group("USE1-Host:VolumeUsage.gp2", "0.1234567891", "3.5")] }] },
    ]);
    const cost = await new CostExplorerPoolCosts(() => client, { region: "us-east-1", now }).poolCost(pool, units, DECEMBER);
    expect(sent[0]).toMatchObject({
      TimePeriod: { Start: "2026-12-01", End: "2026-12-11" },
      Filter: { Tags: { Key: "modelgate:pool", Values: ["mg-pool-shared"] } },
      GroupBy: [{ Type: "DIMENSION", Key: "USAGE_TYPE" }],
    });
    expect(sent[1]?.NextPageToken).toBe("p2");
    expect(cost).toEqual({
      // Cut to the nano-unit: 337.92 + 0.123456789.
      costNano: 338_043_456_789n,
      currency: "USD",
      // 240 instance-hours of 16 units each.
      available: 240n * 16n * 3_600_000n,
      basis: "cost-explorer",
    });
  });

  it("estimates at the initial instances × hours × list price while Cost Explorer has nothing, and says why", async () => {
    const { client } = fakeCe([{ ResultsByTime: [{ Groups: [] }] }]);
    const cost = await new CostExplorerPoolCosts(() => client, { region: "us-east-1", now }).poolCost(pool, units, DECEMBER);
    // 2 instances × 240 h × $1.408.
    expect(cost).toMatchObject({ costNano: 675_840_000_000n, basis: "estimate", available: 2n * 240n * 3_600_000n * 16n });
    expect(cost.note).toMatch(/no cost for tag modelgate:pool=mg-pool-shared .*activate the tag/);
    expect(cost.note).toMatch(/initial instance count, not its scaling history/);
  });

  it("estimates too when Cost Explorer cannot be read", async () => {
    const denied = Object.assign(new Error("not authorized"), { name: "AccessDeniedException" });
    const { client } = fakeCe([], denied);
    const cost = await new CostExplorerPoolCosts(() => client, { region: "us-east-1", now }).poolCost(pool, units, DECEMBER);
    expect(cost.basis).toBe("estimate");
    expect(cost.note).toMatch(/could not be read \(AccessDeniedException: not authorized\)/);
  });

  it("costs nothing for a month that has not begun", async () => {
    const { client, sent } = fakeCe([]);
    const january = { from: Date.UTC(2027, 0, 1), to: Date.UTC(2027, 1, 1) };
    const cost = await new CostExplorerPoolCosts(() => client, { region: "us-east-1", now }).poolCost(pool, units, january);
    expect(cost).toMatchObject({ costNano: 0n, available: 0n });
    expect(sent).toEqual([]);
  });
});
