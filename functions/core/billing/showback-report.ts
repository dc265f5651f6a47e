import type { PoolSeed } from "../../contract/seed";
import { formatAmount } from "../money/amount";
import type { IdentityAdmin, UsageReader } from "../ports";
import { allTenantIds } from "../tenants";
import {
  type MonthPeriod,
  type PoolSplit,
  type PoolUnits,
  poolUnits,
  splitPoolCost,
  type TenantShareInput,
  tenantOnPool,
  utilization,
} from "./showback";

/**
 * Where a pool's cost comes from: `cost-explorer` (the cloud's bill, by the pool's
 * cost-allocation tag), `estimate` (the cloud until the tag has data: instances × hours × list
 * price), `simulation` (the local host: the copies it ran × hours × list price).
 */
export type PoolCostBasis = "cost-explorer" | "estimate" | "simulation";

/** A pool's cost for a period and the capacity it had, from a PoolCostSource. */
export interface PoolCost {
  readonly costNano: bigint;
  readonly currency: string;
  /** Capacity in the pool's unit-milliseconds (functions/core/billing/showback.ts). */
  readonly available: bigint;
  readonly basis: PoolCostBasis;
  /** How the figure was made, when it is not the bill itself (an estimate's assumptions). */
  readonly note?: string;
}

/** The port a host implements: Cost Explorer in the cloud, the copies it ran on the local host. */
export interface PoolCostSource {
  /** The pool's cost over [from, to) (epoch ms; `to` may be in the future: the source stops at now). */
  poolCost(pool: PoolSeed, units: PoolUnits, period: { readonly from: number; readonly to: number }): Promise<PoolCost>;
}

/** The pools the registry holds (written by the seed from the config). */
export interface PoolCatalog {
  pools(): Promise<readonly PoolSeed[]>;
}

export interface ShowbackDeps {
  readonly pools: PoolCatalog;
  readonly costs: PoolCostSource;
  readonly identity: Pick<IdentityAdmin, "listTenants">;
  readonly usage: Pick<UsageReader, "aggregates">;
  /** The platform currency: what tenants are charged in. */
  readonly currency: string;
}

export interface ShowbackJson {
  readonly period: string;
  /** The pools' cost currency (SageMaker's list prices and Cost Explorer: USD). */
  readonly currency: string;
  /** True when any pool's cost is an estimate or a simulation, not the bill. */
  readonly estimate: boolean;
  /** The currency `charged` is in, when it is not `currency`: then no margin can be taken. */
  readonly chargedCurrency?: string;
  readonly pools: ReadonlyArray<{
    readonly pool: string;
    readonly endpointName: string;
    readonly basis: PoolCostBasis;
    readonly note?: string;
    readonly cost: string;
    readonly idleCost: string;
    readonly utilization: number;
    /** Busy time exceeded the capacity counted: shares are of the busy time. */
    readonly overlapped: boolean;
    readonly tenants: ReadonlyArray<{ readonly tenant: string; readonly attributedCost: string; readonly charged: string }>;
  }>;
}

/** Showback of every pool for one month: its cost, split over tenants by model time, and idle. */
export async function showback(deps: ShowbackDeps, period: MonthPeriod): Promise<ShowbackJson> {
  const pools = await deps.pools.pools();
  const tenants = pools.length === 0 ? [] : await allTenantIds(deps.identity);
  // One read of each tenant's day rows for the month serves every pool.
  const rows = new Map(
    await Promise.all(tenants.map(async (t) => [t, await deps.usage.aggregates(t, "day", period.firstDay, period.lastDay)] as const)),
  );
  const out: Array<ShowbackJson["pools"][number]> = [];
  const currencies = new Set<string>();
  let estimate = false;
  for (const pool of [...pools].sort((a, b) => (a.pool < b.pool ? -1 : 1))) {
    const units = poolUnits(pool);
    const cost = await deps.costs.poolCost(pool, units, { from: period.from, to: period.to });
    currencies.add(cost.currency);
    if (cost.basis !== "cost-explorer") estimate = true;
    const shares: TenantShareInput[] = tenants.map((tenantId) => ({ tenantId, ...tenantOnPool(rows.get(tenantId) ?? [], units) }));
    const split: PoolSplit = splitPoolCost({ costNano: cost.costNano, available: cost.available, tenants: shares });
    out.push({
      pool: pool.pool,
      endpointName: pool.endpointName,
      basis: cost.basis,
      ...(cost.note ? { note: cost.note } : {}),
      cost: formatAmount(split.costNano),
      idleCost: formatAmount(split.idleNano),
      utilization: utilization(split.busy, split.available),
      overlapped: split.overlapped,
      tenants: split.tenants.map((t) => ({
        tenant: t.tenantId,
        attributedCost: formatAmount(t.attributedNano),
        charged: formatAmount(t.chargedNano),
      })),
    });
  }
  const currency = currencies.size === 1 ? ([...currencies][0] ?? deps.currency) : deps.currency;
  return {
    period: period.month,
    currency,
    estimate,
    ...(currency !== deps.currency ? { chargedCurrency: deps.currency } : {}),
    pools: out,
  };
}

/**
 * What a pool runs now, as its host tells it: its instances, and the copies of each component by
 * component name. A figure the host cannot tell (an endpoint not yet created, a failed read) is absent.
 */
export interface LivePool {
  readonly instances?: number;
  readonly copies: Readonly<Record<string, number>>;
}

/** Where live pool state comes from (cloud: SageMaker's Describe calls; local: the emulator's components). */
export interface PoolStateSource {
  live(pool: PoolSeed): Promise<LivePool>;
}

type InventoryComponent = PoolSeed["components"][number] & { readonly runningCopies?: number };

/** The pools as the console's Pools page lists them (GET /admin/pools): by name, components by model and version. */
export interface PoolInventoryJson {
  readonly pools: ReadonlyArray<
    Omit<PoolSeed, "listPricePerHour" | "priceCurrency" | "components"> & {
      /** Instances running now, when the host can tell. */
      readonly runningInstances?: number;
      readonly components: readonly InventoryComponent[];
    }
  >;
}

/**
 * What runs where: each pool's instances and the components placed on it, from the catalog the
 * seed wrote, with what runs now where the host tells it (`live`, by pool name). List prices stay
 * out (showback prices the pools); costs and utilization are showback's.
 */
export function poolInventory(pools: readonly PoolSeed[], live: ReadonlyMap<string, LivePool> = new Map()): PoolInventoryJson {
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return {
    pools: [...pools]
      .sort((a, b) => byName(a.pool, b.pool))
      .map(({ listPricePerHour: _prices, priceCurrency: _currency, components, ...pool }) => {
        const now = live.get(pool.pool);
        return {
          ...pool,
          ...(now?.instances !== undefined ? { runningInstances: now.instances } : {}),
          components: [...components]
            .sort((a, b) => byName(a.model, b.model) || a.version - b.version)
            .map((c) => {
              const copies = now?.copies[c.componentName];
              return copies !== undefined ? { ...c, runningCopies: copies } : c;
            }),
        };
      }),
  };
}
