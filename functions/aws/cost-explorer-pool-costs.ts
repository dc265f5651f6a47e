import { type CostExplorerClient, GetCostAndUsageCommand, type GetCostAndUsageCommandOutput } from "@aws-sdk/client-cost-explorer";
import { POOL_COST_TAG } from "../contract/sagemaker-names";
import type { PoolSeed } from "../contract/seed";
import { hourlyPriceNano, listPriceCost, MS_PER_HOUR, type PoolUnits, truncateToNano } from "../core/billing/showback";
import type { PoolCost, PoolCostSource } from "../core/billing/showback-report";
import { NANO_PER_UNIT } from "../core/money/amount";

/** SageMaker's usage type of an instance-hour of real-time hosting: `<region code>-Host:ml.g5.xlarge`. */
const HOSTING_USAGE = /Host:ml\./;
const DAY_MS = 86_400_000;

export interface CostExplorerPoolCostsOptions {
  /** The region the pools run in: which list price the estimate takes. */
  readonly region: string;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * The cloud's pool costs. Cost Explorer's GetCostAndUsage, filtered by the pool endpoint's
 * cost-allocation tag (`modelgate:pool` = endpoint name) and grouped by usage type, gives the
 * pool's unblended cost and its instance-hours (the `Host:ml.*` usage types), which are its
 * capacity. Until Cost Explorer has a cost for the tag (it must be activated in the Billing
 * console, and data appears about a day later), or when it cannot be read, the cost is an
 * estimate: the pool's configured initial instance count × the hours of the period so far ×
 * the instance type's list price, labelled so. The instance count is what the deploy started
 * the pool with, not a history: managed instance scaling may have run more or fewer.
 */
export class CostExplorerPoolCosts implements PoolCostSource {
  private readonly now: () => number;

  constructor(
    /** Called on first use: the other admin routes never build the client. */
    private readonly ce: () => CostExplorerClient,
    private readonly opts: CostExplorerPoolCostsOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  async poolCost(pool: PoolSeed, units: PoolUnits, period: { readonly from: number; readonly to: number }): Promise<PoolCost> {
    const end = Math.min(period.to, this.now());
    if (end <= period.from)
      return { costNano: 0n, currency: pool.priceCurrency, available: 0n, basis: "estimate", note: "period not started" };
    let billed: Billed | undefined;
    let why: string;
    try {
      billed = await this.billed(pool.endpointName, period.from, end);
      why = `Cost Explorer has no cost for tag ${POOL_COST_TAG}=${pool.endpointName} in the period yet (activate the tag in the Billing console; data appears about a day later)`;
    } catch (err) {
      why = `Cost Explorer could not be read (${(err as Error).name}: ${(err as Error).message})`;
    }
    const estimate = this.estimate(pool, units, period.from, end);
    if (billed && billed.costNano > 0n) {
      const note =
        billed.hoursNano > 0n ? undefined : "Cost Explorer gave no instance-hours: capacity is estimated from the initial instance count";
      return {
        costNano: billed.costNano,
        currency: billed.currency,
        // Hours × units per instance × ms per hour, from nano-hours.
        available: billed.hoursNano > 0n ? (billed.hoursNano * units.denominator * MS_PER_HOUR) / NANO_PER_UNIT : estimate.available,
        basis: "cost-explorer",
        ...(note ? { note } : {}),
      };
    }
    return { ...estimate, note: `${why}; estimated: ${estimate.note}` };
  }

  private estimate(pool: PoolSeed, units: PoolUnits, from: number, to: number): PoolCost {
    const available = BigInt(pool.initialInstances) * BigInt(to - from) * units.denominator;
    const price = pool.listPricePerHour[this.opts.region];
    if (price === undefined) {
      return {
        costNano: 0n,
        currency: pool.priceCurrency,
        available,
        basis: "estimate",
        note: `no list price for ${pool.instanceType} in ${this.opts.region} (infra/shared/sagemaker-prices.ts): cost 0`,
      };
    }
    return {
      costNano: listPriceCost(available, units.denominator, hourlyPriceNano(price)),
      currency: pool.priceCurrency,
      available,
      basis: "estimate",
      note: `${pool.initialInstances} × ${pool.instanceType} (the pool's initial instance count, not its scaling history) at the list price ${price} ${pool.priceCurrency}/h`,
    };
  }

  private async billed(endpointName: string, from: number, to: number): Promise<Billed> {
    // Cost Explorer's dates are whole days, End exclusive: the period's days up to and including today.
    const start = new Date(from).toISOString().slice(0, 10);
    const endDay = new Date(Math.ceil(to / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
    let costNano = 0n;
    let hoursNano = 0n;
    let currency = "USD";
    let token: string | undefined;
    do {
      const out: GetCostAndUsageCommandOutput = await this.ce().send(
        new GetCostAndUsageCommand({
          TimePeriod: { Start: start, End: endDay > start ? endDay : nextDay(start) },
          Granularity: "MONTHLY",
          Metrics: ["UnblendedCost", "UsageQuantity"],
          Filter: { Tags: { Key: POOL_COST_TAG, Values: [endpointName], MatchOptions: ["EQUALS"] } },
          GroupBy: [{ Type: "DIMENSION", Key: "USAGE_TYPE" }],
          ...(token ? { NextPageToken: token } : {}),
        }),
      );
      for (const result of out.ResultsByTime ?? []) {
        for (const group of result.Groups ?? []) {
          const cost = group.Metrics?.UnblendedCost;
          if (cost?.Amount) {
            costNano += truncateToNano(cost.Amount);
            if (cost.Unit) currency = cost.Unit;
          }
          const usage = group.Metrics?.UsageQuantity?.Amount;
          if (usage && group.Keys?.some((k) => HOSTING_USAGE.test(k))) hoursNano += truncateToNano(usage);
        }
      }
      token = out.NextPageToken;
    } while (token);
    return { costNano, hoursNano, currency };
  }
}

interface Billed {
  readonly costNano: bigint;
  readonly hoursNano: bigint;
  readonly currency: string;
}

const nextDay = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
