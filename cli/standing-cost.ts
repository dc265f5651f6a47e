import { poolOf } from "../infra/shared/config";
import { type ComponentVersionConfig, isComponentVersion, type PlatformConfig } from "../infra/shared/config-schema";
import { instanceSpec } from "../infra/shared/instance-specs";
import { copiesOf, instancesFor } from "../infra/shared/pool-capacity";
import { initialInstances, type PoolConfig } from "../infra/shared/pool-schema";
import { SAGEMAKER_PRICES } from "../infra/shared/sagemaker-prices";

/** What `modelgate cost` bills by: AWS's convention of 730 hours in a month. */
export const HOURS_PER_MONTH = 730;

export interface Cost {
  readonly perHour: number;
  readonly perMonth: number;
}

export interface PoolCost {
  readonly pool: string;
  readonly instanceType: string;
  readonly pricePerHour: number;
  /** Instances while every component is awake at its minimum copies (a scale-to-zero one at 1). */
  readonly standingInstances: number;
  /** Instances once every scale-to-zero component is idle at zero copies. */
  readonly floorInstances: number;
  readonly standing: Cost;
  readonly floor: Cost;
  readonly components: ReadonlyArray<{ model: string; version: number; copiesMin: number; copiesMax: number }>;
}

export interface VersionCost {
  readonly model: string;
  readonly version: number;
  readonly instanceType: string;
  readonly instances: number;
  readonly pricePerHour: number;
  readonly cost: Cost;
}

export interface CostReport {
  readonly region: string;
  readonly currency: string;
  readonly prices: { readonly source: string; readonly asOf: string };
  readonly hoursPerMonth: number;
  readonly pools: readonly PoolCost[];
  /** Versions without placement: their own variant, instanceType × instances.min. */
  readonly variants: readonly VersionCost[];
  /** The config as written: pools at standing instances plus the variants. */
  readonly standing: Cost;
  /** The same, with every scale-to-zero component idle. */
  readonly floor: Cost;
  /** The same deployed versions, each its own variant (its instance type, or its pool's, × instances.min or 1). */
  readonly onePerVersion: Cost & { readonly versions: readonly VersionCost[] };
  /** Versions left out: local-only ones, which the cloud does not deploy. */
  readonly excluded: ReadonlyArray<{ model: string; version: number; reason: string }>;
  readonly notes: readonly string[];
}

/** A price the table does not have: says which and where to add it. */
export class MissingPriceError extends Error {}

const cost = (perHour: number): Cost => ({ perHour: round(perHour), perMonth: round(perHour * HOURS_PER_MONTH) });
const round = (usd: number) => Math.round(usd * 10_000) / 10_000;

/** The standing cost of `config`'s cloud deployment in `region`, at the on-demand price table. */
export function standingCost(config: PlatformConfig, region: string): CostReport {
  const table = priceTable(region);
  const price = (instanceType: string): number => {
    const p = table[instanceType];
    if (p === undefined) {
      throw new MissingPriceError(`no on-demand price for ${instanceType} in ${region} in infra/shared/sagemaker-prices.ts; add it there`);
    }
    return p;
  };

  const excluded: Array<CostReport["excluded"][number]> = [];
  const placed = new Map<string, Array<{ model: string; v: ComponentVersionConfig }>>();
  const variants: VersionCost[] = [];
  const onePerVersion: VersionCost[] = [];
  for (const [model, m] of Object.entries(config.models)) {
    for (const v of m.versions) {
      if (v.localOnly) {
        excluded.push({ model, version: v.version, reason: "localOnly: served by the local host only, not deployed" });
        continue;
      }
      if (isComponentVersion(v)) {
        const list = placed.get(v.placement.pool) ?? [];
        list.push({ model, v });
        placed.set(v.placement.pool, list);
        const { instanceType } = poolOf(config, v);
        onePerVersion.push(versionCost(model, v.version, instanceType, 1, price(instanceType)));
      } else {
        const own = versionCost(model, v.version, v.instanceType, v.instances.min, price(v.instanceType));
        variants.push(own);
        onePerVersion.push(own);
      }
    }
  }

  const notes: string[] = [];
  const pools: PoolCost[] = [];
  for (const [pool, p] of Object.entries(config.pools)) {
    const components = placed.get(pool);
    if (!components) {
      notes.push(`pool '${pool}' hosts no deployed version, so the cloud does not create it`);
      continue;
    }
    pools.push(poolCost(pool, p, components, price(p.instanceType), notes));
  }

  const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
  const variantsPerHour = sum(variants.map((v) => v.instances * v.pricePerHour));
  return {
    region,
    currency: SAGEMAKER_PRICES.currency,
    prices: { source: SAGEMAKER_PRICES.source, asOf: SAGEMAKER_PRICES.asOf },
    hoursPerMonth: HOURS_PER_MONTH,
    pools,
    variants,
    standing: cost(sum(pools.map((p) => p.standingInstances * p.pricePerHour)) + variantsPerHour),
    floor: cost(sum(pools.map((p) => p.floorInstances * p.pricePerHour)) + variantsPerHour),
    onePerVersion: { ...cost(sum(onePerVersion.map((v) => v.instances * v.pricePerHour))), versions: onePerVersion },
    excluded,
    notes,
  };
}

function poolCost(
  pool: string,
  p: PoolConfig,
  components: ReadonlyArray<{ model: string; v: ComponentVersionConfig }>,
  pricePerHour: number,
  notes: string[],
): PoolCost {
  const spec = instanceSpec(p.instanceType);
  const instancesAt = (copies: (c: ComponentVersionConfig) => number) => {
    if (!p.managedInstanceScaling) return initialInstances(p);
    // The config check refuses a pool whose type is not in the spec table.
    if (!spec) throw new Error(`no instance spec for ${p.instanceType}`);
    const needed = instancesFor(
      components.flatMap(({ v }) => copiesOf(v.placement, copies(v))),
      spec,
    );
    return Math.min(p.instances.max, Math.max(p.instances.min, needed));
  };
  const standingInstances = instancesAt((v) => Math.max(1, v.placement.copies.min));
  const floorInstances = instancesAt((v) => v.placement.copies.min);
  if (!p.managedInstanceScaling) {
    notes.push(
      `pool '${pool}' has no managed instance scaling: it keeps its ${initialInstances(p)} instance(s) whatever its components do`,
    );
  } else if (floorInstances === 0) {
    notes.push(`pool '${pool}': managed instance scaling releases its last instance when every component on it is at zero copies`);
  } else if (p.instances.min === 0) {
    const awake = components.filter(({ v }) => v.placement.copies.min > 0).map(({ model, v }) => `${model} v${v.version}`);
    notes.push(`pool '${pool}' could go to 0 instances, but ${awake.join(", ")} keep(s) copies (copies.min > 0)`);
  }
  return {
    pool,
    instanceType: p.instanceType,
    pricePerHour,
    standingInstances,
    floorInstances,
    standing: cost(standingInstances * pricePerHour),
    floor: cost(floorInstances * pricePerHour),
    components: components.map(({ model, v }) => ({
      model,
      version: v.version,
      copiesMin: v.placement.copies.min,
      copiesMax: v.placement.copies.max,
    })),
  };
}

function versionCost(model: string, version: number, instanceType: string, instances: number, pricePerHour: number): VersionCost {
  return { model, version, instanceType, instances, pricePerHour, cost: cost(instances * pricePerHour) };
}

function priceTable(region: string): Readonly<Record<string, number>> {
  const regions: Readonly<Record<string, Readonly<Record<string, number>>>> = SAGEMAKER_PRICES.regions;
  const table = Object.hasOwn(regions, region) ? regions[region] : undefined;
  if (!table) {
    throw new MissingPriceError(
      `no price table for region '${region}' in infra/shared/sagemaker-prices.ts (it has ${Object.keys(regions).join(", ")})`,
    );
  }
  return table;
}
