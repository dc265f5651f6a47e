import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { h } from "./dom";
import { type ChartSeries, periodSeconds } from "./usage";

export interface ChartSpec {
  readonly title: string;
  /** The API's periods (`2026-12-07` or `2026-12-07T14`), oldest first. */
  readonly periods: readonly string[];
  readonly series: readonly ChartSeries[];
  /** The range shown, in epoch seconds. */
  readonly range: readonly [number, number];
}

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"];

/**
 * A uPlot line chart of one metric per period, one line per tenant, model or version. The legend
 * under it shows, for the period under the pointer (or the keyboard-chosen one), the period and
 * each line's figure as the API reported it: reading the chart reads the API's numbers.
 */
export function lineChart(container: HTMLElement, spec: ChartSpec): uPlot {
  const xs = spec.periods.map(periodSeconds);
  const data: uPlot.AlignedData = [xs, ...spec.series.map((s) => s.values.map((v) => v ?? null))];
  const width = Math.max(320, Math.floor(container.getBoundingClientRect().width || 800));
  const opts: uPlot.Options = {
    title: spec.title,
    width,
    height: 280,
    scales: {
      x: { time: true, range: () => [spec.range[0], spec.range[1]] },
      // Counts, money and latency start at zero: an axis from the smallest value would exaggerate.
      y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
    },
    series: [
      { label: "period", value: (_u, _v, _si, idx) => (idx === null || idx === undefined ? "–" : (spec.periods[idx] ?? "–")) },
      ...spec.series.map((s, i) => ({
        label: s.label,
        stroke: COLORS[i % COLORS.length],
        width: 2,
        points: { show: true, size: 7 },
        spanGaps: false,
        value: (_u: uPlot, _v: number | null, _si: number, idx: number | null) =>
          idx === null || idx === undefined ? "–" : (s.texts[idx] ?? "–"),
      })),
    ],
    axes: [{}, { size: 70 }],
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
  };
  const chart = new uPlot(opts, data, container);
  chart.root.setAttribute("role", "img");
  chart.root.setAttribute("aria-label", `${spec.title}: chart; the same figures are in the table below`);
  return chart;
}

/**
 * Arrow keys move the legend from period to period, so the chart's figures can be read without
 * a pointer; Escape clears it.
 */
export function keyboardCursor(chart: uPlot, periods: number): HTMLElement {
  let idx = -1;
  const move = (to: number) => {
    idx = Math.min(periods - 1, Math.max(0, to));
    const x = chart.data[0][idx];
    if (x === undefined) return;
    chart.setCursor({ left: chart.valToPos(x, "x"), top: chart.over.clientHeight / 2 });
  };
  return h(
    "div",
    { class: "chart-keys" },
    h("button", { type: "button", onclick: () => move(idx - 1), "aria-label": "previous period" }, "◀"),
    h("button", { type: "button", onclick: () => move(idx + 1), "aria-label": "next period" }, "▶"),
  );
}
