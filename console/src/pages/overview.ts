import { h, replace } from "../dom";
import type { UsageReport } from "../usage";
import { usageView } from "../usage-view";
import { type Page, pageTitle } from "./page";

/** Requests, tokens, cost, errors and latency over time, across tenants: `GET /admin/usage`. */
export const overviewPage: Page = async (ctx, api) => {
  const view = h("section", { "aria-label": "Usage" });
  replace(ctx.main, pageTitle("Overview"), view);
  usageView(view, {
    load: (q) => api.get<UsageReport>("/admin/usage", { ...q }),
    groups: [
      { id: "tenant", label: "tenant" },
      { id: "model", label: "model" },
      { id: "version", label: "version" },
    ],
    onLeave: ctx.onLeave,
  });
};
