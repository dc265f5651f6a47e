import { appendFileSync, existsSync, readFileSync } from "node:fs";
import type { PoolSeed } from "../../functions/contract/seed";
import { hourlyPriceNano, listPriceCost, type PoolUnits } from "../../functions/core/billing/showback";
import type { PoolCost, PoolCostSource } from "../../functions/core/billing/showback-report";

/**
 * The local host's record of the copies its components ran: one JSON line per change,
 * `{"t":<epoch ms>,"component":"<name>","copies":0|1}`, and `{"t":…,"hostStart":true}` at each
 * start. Appended synchronously (a few lines an hour), so a line written is a line kept.
 */
export class CopyLog {
  constructor(readonly file: string) {}

  hostStarted(at = Date.now()): void {
    this.append({ t: at, hostStart: true });
  }

  copies(component: string, copies: number, at = Date.now()): void {
    this.append({ t: at, component, copies });
  }

  /** Copy-milliseconds of each component within [from, to). */
  copyMs(from: number, to: number): Map<string, number> {
    const out = new Map<string, number>();
    if (!existsSync(this.file) || to <= from) return out;
    const up = new Map<string, number>();
    const add = (component: string, start: number, end: number) => {
      const ms = Math.min(end, to) - Math.max(start, from);
      if (ms > 0) out.set(component, (out.get(component) ?? 0) + ms);
    };
    for (const line of readFileSync(this.file, "utf8").split("\n")) {
      if (!line.trim()) continue;
      let e: { t?: unknown; component?: unknown; copies?: unknown; hostStart?: unknown };
      try {
        e = JSON.parse(line);
      } catch {
        continue; // a line cut by a crash
      }
      if (typeof e.t !== "number") continue;
      const t = e.t;
      if (e.hostStart === true) {
        // A host stopped without closing its copies (killed) left them open: they are counted
        // up to this start, an overestimate for the time the host was down.
        for (const [component, start] of up) add(component, start, t);
        up.clear();
      } else if (typeof e.component === "string") {
        const start = up.get(e.component);
        if (e.copies === 0 && start !== undefined) {
          add(e.component, start, t);
          up.delete(e.component);
        } else if (typeof e.copies === "number" && e.copies > 0 && start === undefined) {
          up.set(e.component, t);
        }
      }
    }
    for (const [component, start] of up) add(component, start, to);
    return out;
  }

  private append(event: Record<string, unknown>): void {
    appendFileSync(this.file, `${JSON.stringify(event)}\n`);
  }
}

/**
 * Pool costs on the local host, a simulation: the copies its components actually ran (the
 * copy log), each for its share of an instance of the pool's type, at that type's list price
 * in `region`. The capacity is the same copy-time: on one machine a pool is the copies it ran.
 */
export class LocalPoolCosts implements PoolCostSource {
  constructor(
    private readonly log: CopyLog,
    private readonly region: string,
    private readonly now: () => number = Date.now,
  ) {}

  async poolCost(pool: PoolSeed, units: PoolUnits, period: { readonly from: number; readonly to: number }): Promise<PoolCost> {
    const copyMs = this.log.copyMs(period.from, Math.min(period.to, this.now()));
    let available = 0n;
    for (const [component, ms] of copyMs) {
      const weight = units.weightsByComponent.get(component);
      if (weight !== undefined) available += BigInt(ms) * weight;
    }
    const price = pool.listPricePerHour[this.region];
    const note = price
      ? `simulation: the copies the local host ran, at the list price of ${pool.instanceType} in ${this.region} (${price} ${pool.priceCurrency}/h)`
      : `simulation: no list price for ${pool.instanceType} in ${this.region}: cost 0`;
    return {
      costNano: price ? listPriceCost(available, units.denominator, hourlyPriceNano(price)) : 0n,
      currency: pool.priceCurrency,
      available,
      basis: "simulation",
      note,
    };
  }
}
