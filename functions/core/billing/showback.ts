import type { PoolSeed } from "../../contract/seed";
import { NANO_PER_UNIT, parseAmount } from "../money/amount";
import type { UsageRow } from "../usage";

/**
 * Showback of shared pools: a pool's cost for a period, split over the tenants whose requests
 * ran on it by their share of its model time, with the capacity nobody used as its own line.
 *
 * Units. Model time is weighted by what a copy holds of an instance: its accelerators on an
 * accelerated instance type, its vCPUs (in quarters, SageMaker's grain) on a CPU one or for a
 * CPU-only component. To keep every quantity an integer, a pool's unit is 1/`denominator` of
 * one instance, with denominator = max(accelerators, 1) × vCPUs × 4 per instance: a copy of
 * `a` accelerators weighs a × vCPUs × 4 units (a/accelerators of an instance), a CPU-only copy
 * of `c` vCPUs weighs 4c × max(accelerators, 1) units (c/vCPUs of an instance). Busy and
 * available time are both unit-milliseconds.
 *
 * The split (`splitPoolCost`): tenant t gets ⌊cost × busy_t / available⌋ and idle is what is
 * left, so the parts add up to the cost exactly. When the busy time exceeds the available time
 * (requests overlapped on a copy, or the available time is an estimate below what ran) the
 * divisor is the busy time instead: idle is then only the rounding remainder, and `overlapped`
 * says so.
 */

/** Milliseconds in an hour: list prices are per instance-hour. */
export const MS_PER_HOUR = 3_600_000n;

/** A pool's unit and each component's weight in it. */
export interface PoolUnits {
  /** Units in one instance. */
  readonly denominator: bigint;
  /** Units one copy of the component holds, by `model/version`. */
  readonly weights: ReadonlyMap<string, bigint>;
  /** The same, by inference component name. */
  readonly weightsByComponent: ReadonlyMap<string, bigint>;
}

export const versionId = (model: string, version: number) => `${model}/${version}`;

/** The unit of `pool` and the weight of each of its components (see the module comment). */
export function poolUnits(pool: Pick<PoolSeed, "instance" | "components">): PoolUnits {
  const accelerators = BigInt(Math.max(0, Math.trunc(pool.instance.accelerators)));
  const quarters = (n: number) => BigInt(Math.round(n * 4));
  const perInstanceAcc = accelerators > 0n ? accelerators : 1n;
  const denominator = perInstanceAcc * quarters(pool.instance.vcpus);
  const weights = new Map<string, bigint>();
  const weightsByComponent = new Map<string, bigint>();
  for (const c of pool.components) {
    const w =
      accelerators > 0n && c.accelerators > 0
        ? BigInt(Math.trunc(c.accelerators)) * quarters(pool.instance.vcpus)
        : quarters(c.cpus) * perInstanceAcc;
    weights.set(versionId(c.model, c.version), w);
    weightsByComponent.set(c.componentName, w);
  }
  return { denominator, weights, weightsByComponent };
}

/**
 * A tenant's busy time on a pool, in unit-milliseconds, and what it was charged there, from its
 * aggregate rows (a day or an hour each; any mix of shards and keys): Σ latencyMs × weight over
 * the billable requests of the pool's versions. Shadow copies are the operator's trial, not the
 * tenant's: their time is not attributed (it shows in idle).
 */
export function tenantOnPool(rows: readonly UsageRow[], units: PoolUnits): { busy: bigint; chargedNano: bigint } {
  let busy = 0n;
  let chargedNano = 0n;
  for (const r of rows) {
    const w = units.weights.get(versionId(r.model, r.version));
    if (w === undefined) continue;
    if (Number.isSafeInteger(r.latencyMs) && r.latencyMs > 0) busy += BigInt(r.latencyMs) * w;
    if (Number.isSafeInteger(r.costNano) && r.costNano > 0) chargedNano += BigInt(r.costNano);
  }
  return { busy, chargedNano };
}

/** What `units` of an instance for `ms` milliseconds cost at `pricePerHourNano` an instance-hour (floor). */
export function listPriceCost(unitMs: bigint, denominator: bigint, pricePerHourNano: bigint): bigint {
  if (unitMs <= 0n || denominator <= 0n) return 0n;
  return (unitMs * pricePerHourNano) / (denominator * MS_PER_HOUR);
}

/** An hourly list price (decimal string) in nano-units. */
export const hourlyPriceNano = (text: string): bigint => parseAmount(text, { label: "list price per hour" });

export interface TenantShareInput {
  readonly tenantId: string;
  /** Unit-milliseconds of model time on the pool. */
  readonly busy: bigint;
  /** What the tenant was charged (price book) for requests on the pool's versions, nano-units. */
  readonly chargedNano: bigint;
}

export interface PoolSplitInput {
  /** The pool's cost for the period, nano-units. */
  readonly costNano: bigint;
  /** Unit-milliseconds of capacity the pool had in the period. */
  readonly available: bigint;
  readonly tenants: readonly TenantShareInput[];
}

export interface TenantShare extends TenantShareInput {
  readonly attributedNano: bigint;
}

export interface PoolSplit {
  readonly costNano: bigint;
  readonly idleNano: bigint;
  readonly busy: bigint;
  readonly available: bigint;
  /** Busy time exceeded the available time: shares were taken of the busy time. */
  readonly overlapped: boolean;
  /** Tenants with model time or a charge on the pool, by tenant id. */
  readonly tenants: readonly TenantShare[];
}

/** Splits a pool's cost over its tenants by model time; shares + idle = cost, exactly. */
export function splitPoolCost(input: PoolSplitInput): PoolSplit {
  if (input.costNano < 0n) throw new RangeError("a pool's cost is not negative");
  const tenants = input.tenants
    .filter((t) => t.busy > 0n || t.chargedNano > 0n)
    .map((t) => {
      if (t.busy < 0n) throw new RangeError(`busy time of ${t.tenantId} is negative`);
      return t;
    })
    .sort((a, b) => (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : 0));
  const busy = tenants.reduce((s, t) => s + t.busy, 0n);
  const available = input.available > 0n ? input.available : 0n;
  const overlapped = busy > available;
  const divisor = overlapped ? busy : available;
  const shares = tenants.map((t) => ({ ...t, attributedNano: divisor === 0n ? 0n : (input.costNano * t.busy) / divisor }));
  const attributed = shares.reduce((s, t) => s + t.attributedNano, 0n);
  return { costNano: input.costNano, idleNano: input.costNano - attributed, busy, available, overlapped, tenants: shares };
}

/** Busy over available as a ratio with four decimals (a display figure, never money); 0 with no capacity. */
export function utilization(busy: bigint, available: bigint): number {
  if (available <= 0n) return 0;
  return Number((busy * 10_000n) / available) / 10_000;
}

/** A calendar month `YYYY-MM` (UTC) as epoch milliseconds [from, to) and its first and last day. */
export interface MonthPeriod {
  readonly month: string;
  readonly from: number;
  readonly to: number;
  readonly firstDay: string;
  readonly lastDay: string;
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

export function monthPeriod(month: string): MonthPeriod | undefined {
  const m = MONTH.exec(month);
  if (!m) return undefined;
  const year = Number(m[1]);
  const index = Number(m[2]) - 1;
  const from = Date.UTC(year, index, 1);
  const to = Date.UTC(year, index + 1, 1);
  return {
    month,
    from,
    to,
    firstDay: new Date(from).toISOString().slice(0, 10),
    lastDay: new Date(to - 86_400_000).toISOString().slice(0, 10),
  };
}

export const monthOf = (epochMs: number) => new Date(epochMs).toISOString().slice(0, 7);

/** A decimal quantity (Cost Explorer's amounts and hours, any number of decimals) cut to the nano-unit. */
export function truncateToNano(text: string): bigint {
  const m = /^(-?)([0-9]+)(?:\.([0-9]+))?$/.exec(text.trim());
  if (!m) throw new RangeError(`not a decimal: ${JSON.stringify(text)}`);
  const nano = BigInt(m[2] ?? "0") * NANO_PER_UNIT + BigInt((m[3] ?? "").slice(0, 9).padEnd(9, "0"));
  return m[1] === "-" ? -nano : nano;
}
