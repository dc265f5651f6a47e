import { seg, type TenantApi } from "../api";
import { h, notice, replace, table } from "../dom";
import { type InvoiceSummary, invoiceTable } from "../invoice-list";
import type { UsageReport } from "../usage";
import { usageView } from "../usage-view";
import { describeError, type PageContext, pageTitle } from "./page";

interface LimitWindow {
  readonly limit: number;
  readonly remaining: number;
  readonly resetSeconds: number;
}

interface LimitStatus {
  readonly [limit: string]: unknown;
  readonly now?: {
    readonly requests?: LimitWindow;
    readonly tokens?: LimitWindow;
    readonly monthlyBudget?: { readonly limit: string; readonly spent: string; readonly remaining: string; readonly resetSeconds: number };
  };
}

type TenantReport = UsageReport & { readonly limits?: { readonly tenant?: LimitStatus; readonly key?: LimitStatus } };

function limitsTable(caption: string, l: LimitStatus, currency: string): HTMLElement {
  const rows: string[][] = [];
  for (const [k, v] of Object.entries(l)) if (k !== "now" && v !== undefined) rows.push([k, Array.isArray(v) ? v.join(", ") : String(v)]);
  const now = l.now;
  if (now?.requests)
    rows.push(["requests now", `${now.requests.remaining} of ${now.requests.limit} left, resets in ${now.requests.resetSeconds} s`]);
  if (now?.tokens) rows.push(["tokens now", `${now.tokens.remaining} of ${now.tokens.limit} left, resets in ${now.tokens.resetSeconds} s`]);
  if (now?.monthlyBudget) {
    const b = now.monthlyBudget;
    rows.push(["budget this month", `${b.spent} of ${b.limit} ${currency} spent, ${b.remaining} left`]);
  }
  return table(caption, ["Limit", "Value"], rows, { class: "data" });
}

/**
 * The tenant's own page, signed in with its API key: its usage and cost (`GET /v1/usage`, which
 * answers for the key's tenant only), its limits and budget, and its issued invoices to download.
 */
export async function tenantHomePage(ctx: PageContext, api: TenantApi): Promise<void> {
  const view = h("section", { "aria-label": "Usage" });
  const limits = h("section", { "aria-labelledby": "limits-h" }, h("h2", { id: "limits-h" }, "Limits and budget"));
  const title = pageTitle("My usage");
  const invoices = h("section", { "aria-labelledby": "inv-h" }, h("h2", { id: "inv-h" }, "Invoices"));
  replace(ctx.main, title, view, limits, invoices);
  api
    .get<{ invoices: InvoiceSummary[] }>("/v1/invoices")
    .then((out) =>
      invoices.append(
        out.invoices.length > 0
          ? invoiceTable("My invoices", out.invoices, (id, format) => api.text(`/v1/invoices/${seg(id)}`, { format }))
          : notice("info", "No invoice issued yet."),
      ),
    )
    .catch((err: unknown) => invoices.append(notice("error", describeError(err))));
  usageView(view, {
    load: (q) => api.get<TenantReport>("/v1/usage", { from: q.from, to: q.to, by: q.by, group: q.group }),
    groups: [
      { id: "version", label: "version" },
      { id: "model", label: "model" },
    ],
    onLeave: ctx.onLeave,
    onReport: (r) => {
      const report = r as TenantReport;
      replace(title, `My usage: tenant ${report.tenantId ?? ""}`);
      const l = report.limits ?? {};
      replace(
        limits,
        h("h2", { id: "limits-h" }, "Limits and budget"),
        l.tenant ? limitsTable("Tenant limits", l.tenant, report.currency) : h("p", {}, "No tenant limits."),
        l.key ? limitsTable("This key's own limits", l.key, report.currency) : null,
      );
    },
  });
}
