import type uPlot from "uplot";
import { keyboardCursor, lineChart } from "./chart";
import { field, h, notice, replace, table } from "./dom";
import { describeError, when } from "./pages/page";
import { busiestGroups, defaultRange, groupLabel, METRICS, type Metric, metricOf, rangeSeconds, toSeries, type UsageReport } from "./usage";

/** Lines drawn at most; the table lists every row. */
const MAX_LINES = 10;

export interface UsageQuery {
  readonly from: string;
  readonly to: string;
  readonly by: "day" | "hour";
  readonly group: string;
}

export interface UsageViewOptions {
  readonly load: (q: UsageQuery) => Promise<UsageReport>;
  /** The `group` values offered, the first the default. */
  readonly groups: ReadonlyArray<{ readonly id: string; readonly label: string }>;
  readonly onLeave: (fn: () => void) => void;
  /** Called with each report loaded (the tenant page shows its limits). */
  readonly onReport?: (report: UsageReport) => void;
  /** Seconds between automatic refreshes. @default 30 */
  readonly refreshSeconds?: number;
}

const fmt = (n: number | null | undefined) => (n === null || n === undefined ? "—" : n.toLocaleString("en-US"));

/**
 * A usage report with its controls: range, hour or day, grouping, metric and a filter; the
 * totals, a chart of the metric per group, and the same figures as a table. Says how fresh the
 * figures are (`asOf`) and refreshes itself.
 */
export function usageView(container: HTMLElement, opts: UsageViewOptions): void {
  const range = defaultRange(1);
  const metrics = METRICS;
  const from = h("input", { type: "date", name: "from", value: range.from, required: true });
  const to = h("input", { type: "date", name: "to", value: range.to, required: true });
  const by = h("select", { name: "by" }, h("option", { value: "hour" }, "hour"), h("option", { value: "day" }, "day"));
  const group = h("select", { name: "group" }, ...opts.groups.map((g) => h("option", { value: g.id }, g.label)));
  const metric = h("select", { name: "metric" }, ...metrics.map((m) => h("option", { value: m.id }, m.label)));
  const filter = h("input", { type: "search", name: "filter", autocomplete: "off" });
  const auto = h("input", { type: "checkbox", name: "auto", id: "auto-refresh", checked: true });
  const refresh = h("button", { type: "submit" }, "Refresh");
  const controls = h(
    "form",
    { class: "controls", "aria-label": "Usage report" },
    field("From", from),
    field("To", to),
    field("By", by),
    field("Group by", group),
    field("Metric", metric),
    field("Filter", filter, "only groups whose name contains this"),
    h("div", { class: "field inline" }, auto, h("label", { for: "auto-refresh" }, "Refresh every 30 s")),
    refresh,
  );
  const freshness = h("p", { class: "asof", "aria-live": "polite" });
  const totals = h("div", { class: "totals" });
  const chartBox = h("div", { class: "chart" });
  const tableBox = h("div", { class: "table-wrap" });
  const status = h("div", { class: "status" });
  replace(container, controls, status, freshness, totals, chartBox, tableBox);

  let report: UsageReport | undefined;
  let chart: uPlot | undefined;
  let loading = false;

  function draw(): void {
    if (!report) return;
    const r = report;
    const m = metric.value as Metric;
    const needle = filter.value.trim().toLowerCase();
    const rows = r.rows.filter((row) => !needle || groupLabel(row).toLowerCase().includes(needle));
    const metricLabel = metrics.find((x) => x.id === m)?.label ?? m;
    replace(
      freshness,
      `Figures as of ${when(r.asOf)} (every request recorded before then is counted); ${r.rows.length} rows, ${r.granularity}ly, ${when(r.from)} to ${when(r.to)}.`,
    );
    const t = r.totals;
    const cards: Array<[string, string]> = [
      ["Requests", fmt(t.requests)],
      ["Errors", fmt(t.errors)],
      ["Input tokens", fmt(t.inputTokens)],
      ["Output tokens", fmt(t.outputTokens)],
      [`Cost (${r.currency})`, t.cost],
      ["Latency p50", t.latencyP50Ms === null || t.latencyP50Ms === undefined ? "—" : `${t.latencyP50Ms} ms`],
      ["Latency p99", t.latencyP99Ms === null || t.latencyP99Ms === undefined ? "—" : `${t.latencyP99Ms} ms`],
    ];
    replace(
      totals,
      h("dl", { class: "cards" }, ...cards.map(([k, v]) => h("div", { class: "card stat" }, h("dt", {}, k), h("dd", {}, v)))),
    );
    chart?.destroy();
    chart = undefined;
    const all = toSeries(rows, m);
    // A chart of hundreds of lines says nothing: the busiest few, and the filter for the others.
    const busiest = new Set(busiestGroups(rows, MAX_LINES));
    const series = all.series.filter((x) => busiest.has(x.label));
    const periods = all.periods;
    const title = `${metricLabel}${m === "cost" ? ` (${r.currency})` : ""} by ${r.granularity}`;
    if (series.length === 0) {
      replace(chartBox, notice("info", "No usage in this range."));
    } else {
      replace(chartBox);
      chart = lineChart(chartBox, { title, periods, series, range: rangeSeconds(r) });
      chartBox.append(keyboardCursor(chart, periods.length));
      if (all.series.length > series.length)
        chartBox.append(h("p", { class: "note" }, `The ${series.length} busiest of ${all.series.length} are drawn; filter to see others.`));
    }
    replace(
      tableBox,
      table(
        `${title}: the chart's figures`,
        ["Period", "Group", "Requests", "Errors", "Input tokens", "Output tokens", `Cost (${r.currency})`, "p50 ms", "p99 ms"],
        rows.map((row) => [
          row.period,
          groupLabel(row),
          fmt(row.requests),
          fmt(row.errors),
          fmt(row.inputTokens),
          fmt(row.outputTokens),
          row.cost,
          fmt(metricOf(row, "latencyP50Ms").value),
          fmt(metricOf(row, "latencyP99Ms").value),
        ]),
        { class: "data" },
      ),
    );
  }

  async function load(): Promise<void> {
    if (loading) return;
    loading = true;
    refresh.disabled = true;
    try {
      report = await opts.load({ from: from.value, to: to.value, by: by.value as "day" | "hour", group: group.value });
      replace(status);
      draw();
      opts.onReport?.(report);
    } catch (err) {
      replace(status, notice("error", describeError(err)));
    } finally {
      loading = false;
      refresh.disabled = false;
    }
  }

  controls.addEventListener("submit", (e) => {
    e.preventDefault();
    void load();
  });
  for (const el of [by, group]) el.addEventListener("change", () => void load());
  metric.addEventListener("change", draw);
  filter.addEventListener("input", draw);
  const timer = setInterval(
    () => {
      if (auto.checked && document.visibilityState === "visible") void load();
    },
    (opts.refreshSeconds ?? 30) * 1000,
  );
  opts.onLeave(() => {
    clearInterval(timer);
    chart?.destroy();
  });
  void load();
}
