import { seg } from "../api";
import { h, notice, replace, table } from "../dom";
import { describeError, type Page, pageTitle } from "./page";

interface CountRange {
  readonly min: number;
  readonly initial: number;
  readonly max: number;
}

/** `GET /admin/pools` (functions/core/billing/showback-report.ts poolInventory). */
export interface PoolInventory {
  readonly pools: ReadonlyArray<{
    readonly pool: string;
    readonly endpointName: string;
    readonly instanceType: string;
    readonly instance: { readonly accelerators: number; readonly vcpus: number };
    readonly initialInstances: number;
    readonly instances?: CountRange;
    /** Instances running now, where the host tells it (the cloud; a local pool has none of its own). */
    readonly runningInstances?: number;
    readonly components: ReadonlyArray<{
      readonly model: string;
      readonly version: number;
      readonly componentName: string;
      readonly accelerators: number;
      readonly cpus: number;
      readonly copies?: CountRange;
      /** Copies running now, where the host tells it. */
      readonly runningCopies?: number;
    }>;
  }>;
}

/** The part of `GET /admin/showback` this page shows: each pool's cost so far this month and how busy it was. */
interface PoolCosts {
  readonly period: string;
  readonly currency: string;
  readonly estimate: boolean;
  readonly pools: ReadonlyArray<{
    readonly pool: string;
    readonly cost: string;
    readonly idleCost: string;
    readonly utilization: number;
    readonly note?: string;
  }>;
}

const thisMonth = () => new Date().toISOString().slice(0, 7);
const range = (r: CountRange | undefined) => (r ? `${r.min}–${r.max} (starts at ${r.initial})` : "—");
/** Utilization as a percentage to one decimal: the API gives a fraction to 4 decimals. */
export const percent = (fraction: number) => `${(Math.round(fraction * 1000) / 10).toFixed(1)} %`;

/**
 * The shared pools: per pool its instance type and count, the components placed on it with what
 * a copy reserves, its copy range and the copies running now (`GET /admin/pools`), and its standing cost this month, idle
 * part and utilization (`GET /admin/showback`). Every name is text; each model links to its page.
 */
export const poolsPage: Page = async (ctx, api) => {
  const month = thisMonth();
  const refresh = h("button", { type: "button", class: "secondary", onclick: () => ctx.navigate("pools") }, "Refresh");
  const body = h("div", {});
  replace(
    ctx.main,
    pageTitle("Pools"),
    h("p", {}, "Shared SageMaker endpoints and the inference components placed on them. ", refresh),
    body,
  );

  const [inventory, costs] = await Promise.allSettled([
    api.get<PoolInventory>("/admin/pools"),
    api.get<PoolCosts>("/admin/showback", { month }),
  ]);
  if (inventory.status === "rejected") {
    body.append(notice("error", describeError(inventory.reason)));
    return;
  }
  if (inventory.value.pools.length === 0) {
    body.append(notice("info", "No pool: no version is placed on a shared pool in this platform's config."));
    return;
  }
  const byPool = new Map(costs.status === "fulfilled" ? costs.value.pools.map((p) => [p.pool, p] as const) : []);
  if (costs.status === "rejected") body.append(notice("info", `No costs here: ${describeError(costs.reason)}`));
  else if (costs.value.estimate)
    body.append(notice("info", "Estimated or simulated pool costs: not the cloud bill (see each pool's note)."));
  const currency = costs.status === "fulfilled" ? costs.value.currency : "";

  for (const p of inventory.value.pools) {
    const c = byPool.get(p.pool);
    const headingId = `pool-${p.pool}-h`;
    body.append(
      h(
        "section",
        { "aria-labelledby": headingId, "data-pool": p.pool },
        h("h2", { id: headingId }, `Pool ${p.pool}`),
        table(
          `Pool ${p.pool}`,
          ["Endpoint", "Instance type", "One instance", "Instances", `Cost ${month}`, "Idle cost", "Utilization", "Instances now"],
          [
            [
              p.endpointName,
              p.instanceType,
              `${p.instance.vcpus} vCPUs, ${p.instance.accelerators} accelerators`,
              range(p.instances ?? { min: p.initialInstances, initial: p.initialInstances, max: p.initialInstances }),
              c ? `${c.cost} ${currency}` : "—",
              c ? `${c.idleCost} ${currency}` : "—",
              c ? percent(c.utilization) : "—",
              p.runningInstances ?? "—",
            ],
          ],
          { class: "data", "data-table": `pool-${p.pool}-summary` },
        ),
        c?.note ? h("p", {}, c.note) : null,
        table(
          `Components on ${p.pool}`,
          ["Model", "Version", "Component", "Per copy", "Copies", "Copies now"],
          p.components.map((ic) => [
            h("a", { href: `#/models/${seg(ic.model)}` }, ic.model),
            ic.version,
            ic.componentName,
            `${ic.cpus} vCPUs, ${ic.accelerators} accelerators`,
            range(ic.copies),
            ic.runningCopies ?? "—",
          ]),
          { class: "data", "data-table": `pool-${p.pool}-components` },
        ),
      ),
    );
  }
};
