import { monthOf, monthPeriod } from "../core/billing/showback";
import { poolInventory, showback } from "../core/billing/showback-report";
import { BadRequestError, NotFoundError } from "../core/errors";
import { queryParam, requestIdOf } from "../http/event";
import { json } from "../http/respond";
import type { AdminDeps, AdminRoutes } from "./deps";

/**
 * The shared pools: what runs on each (GET /admin/pools), and showback, each pool's cost for a
 * month split over tenants by model time, with idle (GET /admin/showback).
 */
export function showbackRoutes(deps: AdminDeps) {
  const now = deps.now ?? Date.now;
  return {
    "GET /admin/pools": async (event) => {
      if (!deps.showback) throw new NotFoundError("pools are not available on this host: it has no pool catalog");
      const pools = await deps.showback.pools.pools();
      const state = deps.showback.state;
      // What runs now, where the host tells it: a pool whose state cannot be read still lists.
      const live = state
        ? new Map(await Promise.all(pools.map(async (p) => [p.pool, await state.live(p).catch(() => ({ copies: {} }))] as const)))
        : undefined;
      return json(200, poolInventory(pools, live), requestIdOf(event));
    },
    "GET /admin/showback": async (event) => {
      if (!deps.showback) throw new NotFoundError("showback is not available on this host: it has no source of pool costs");
      const month = queryParam(event, "month") ?? monthOf(now());
      const period = monthPeriod(month);
      if (!period) throw new BadRequestError(`month must be a calendar month YYYY-MM, got ${JSON.stringify(month.slice(0, 20))}`);
      const report = await showback({ ...deps.showback, identity: deps.identity, usage: deps.usage, currency: deps.currency }, period);
      return json(200, report, requestIdOf(event));
    },
  } satisfies AdminRoutes;
}
