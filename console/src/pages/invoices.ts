import { seg } from "../api";
import { h, notice, replace, table } from "../dom";
import { type InvoiceSummary, invoiceTable } from "../invoice-list";
import { describeError, type Page, pageTitle } from "./page";

interface Showback {
  readonly period: string;
  readonly currency: string;
  readonly estimate: boolean;
  readonly pools: ReadonlyArray<{
    readonly pool: string;
    readonly basis?: string;
    readonly note?: string;
    readonly cost: string;
    readonly idleCost: string;
    readonly utilization: number;
    readonly tenants: ReadonlyArray<{ readonly tenant: string; readonly attributedCost: string; readonly charged?: string }>;
  }>;
}

const thisMonth = () => new Date().toISOString().slice(0, 7);

/**
 * Money out and money in: issued invoices to download (`GET /admin/invoices`), and this month's
 * showback of the shared pools (`GET /admin/showback`): each pool's cost, its idle part, and what
 * each tenant was attributed and charged.
 */
export const invoicesPage: Page = async (ctx, api) => {
  const invoices = h("section", { "aria-labelledby": "inv-h" }, h("h2", { id: "inv-h" }, "Issued invoices"));
  const pools = h("section", { "aria-labelledby": "pools-h" }, h("h2", { id: "pools-h" }, `Pools: showback for ${thisMonth()}`));
  replace(ctx.main, pageTitle("Invoices and pools"), invoices, pools);

  const [listed, showback] = await Promise.allSettled([
    api.get<{ invoices: InvoiceSummary[] }>("/admin/invoices"),
    api.get<Showback>("/admin/showback", { month: thisMonth() }),
  ]);
  if (listed.status === "fulfilled") {
    invoices.append(
      listed.value.invoices.length > 0
        ? invoiceTable("Issued invoices", listed.value.invoices, (id, format) => api.text(`/admin/invoices/${seg(id)}`, { format }))
        : notice("info", "No invoice issued yet: `modelgate invoices issue --month YYYY-MM` issues a closed month."),
    );
  } else invoices.append(notice("error", describeError(listed.reason)));

  if (showback.status === "rejected") {
    pools.append(notice("info", `No showback here: ${describeError(showback.reason)}`));
    return;
  }
  const s = showback.value;
  if (s.estimate) pools.append(notice("info", "Estimated or simulated pool costs: not the cloud bill (see each pool's note)."));
  for (const p of s.pools) {
    pools.append(
      h("h3", {}, `${p.pool}: ${p.cost} ${s.currency}, ${Math.round(p.utilization * 1000) / 10} % busy, idle ${p.idleCost}`),
      h("p", {}, p.note ?? ""),
      table(
        `Pool ${p.pool} by tenant`,
        ["Tenant", "Attributed cost", "Charged"],
        [...p.tenants.map((t) => [t.tenant, t.attributedCost, t.charged ?? "—"]), ["(idle)", p.idleCost, "—"]],
        { class: "data", "data-table": `pool-${p.pool}` },
      ),
    );
  }
};
