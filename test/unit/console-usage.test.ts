import { describe, expect, it } from "@jest/globals";
import { describeTarget, parseShadow, parseTargets, targetsText } from "../../console/src/alias-text";
import { busiestGroups, groupLabel, metricOf, periodSeconds, toSeries, type UsageRow } from "../../console/src/usage";

const row = (period: string, more: Partial<UsageRow>): UsageRow => ({
  period,
  requests: 1,
  errors: 0,
  inputTokens: 0,
  outputTokens: 0,
  cost: "0",
  ...more,
});

describe("the console's usage arithmetic", () => {
  it("places hour and day periods at their UTC start", () => {
    expect(periodSeconds("2026-12-07")).toBe(Date.UTC(2026, 11, 7) / 1000);
    expect(periodSeconds("2026-12-07T14")).toBe(Date.UTC(2026, 11, 7, 14) / 1000);
  });

  it("makes one line per group over every period, null where a group had no row", () => {
    const { periods, series } = toSeries(
      [
        row("2026-12-07T15", { tenantId: "b", requests: 5 }),
        row("2026-12-07T14", { tenantId: "a", requests: 2 }),
        row("2026-12-07T15", { tenantId: "a", requests: 3 }),
      ],
      "requests",
    );
    expect(periods).toEqual(["2026-12-07T14", "2026-12-07T15"]);
    expect(series).toEqual([
      { label: "a", values: [2, 3], texts: ["2", "3"] },
      { label: "b", values: [null, 5], texts: [null, "5"] },
    ]);
  });

  it("shows a cost as the API's exact decimal string, plots it as a number", () => {
    expect(metricOf(row("2026-12-07", { cost: "0.000000123" }), "cost")).toEqual({ value: 1.23e-7, text: "0.000000123" });
    expect(metricOf(row("2026-12-07", { inputTokens: 7, outputTokens: 5 }), "tokens")).toEqual({ value: 12, text: "12" });
    expect(metricOf(row("2026-12-07", { latencyP99Ms: null }), "latencyP99Ms")).toEqual({ value: null, text: null });
  });

  it("picks the busiest groups over every period for the chart", () => {
    const rows = [
      row("2026-12-07T14", { tenantId: "a", requests: 2 }),
      row("2026-12-07T15", { tenantId: "a", requests: 3 }),
      row("2026-12-07T15", { tenantId: "b", requests: 4 }),
      row("2026-12-07T15", { tenantId: "c", requests: 1 }),
    ];
    expect(busiestGroups(rows, 2)).toEqual(["a", "b"]);
  });

  it("labels a row by tenant, or model and version", () => {
    expect(groupLabel(row("d", { tenantId: "acme" }))).toBe("acme");
    expect(groupLabel(row("d", { model: "iris", version: 2 }))).toBe("iris v2");
    expect(groupLabel(row("d", { model: "iris" }))).toBe("iris");
  });
});

describe("alias targets as the console writes them", () => {
  it("reads a version or weights, and writes them back the same way", () => {
    expect(parseTargets("2")).toBe(2);
    expect(parseTargets(" 1:70, 2:30 ")).toEqual([
      { version: 1, weight: 70 },
      { version: 2, weight: 30 },
    ]);
    expect(targetsText([{ version: 2, weight: 100 }])).toBe("2");
    expect(
      targetsText([
        { version: 1, weight: 70 },
        { version: 2, weight: 30 },
      ]),
    ).toBe("1:70, 2:30");
    expect(() => parseTargets("1:70,x")).toThrow(/target/);
    expect(parseShadow("3:10")).toEqual({ version: 3, percent: 10 });
    expect(parseShadow("")).toBeUndefined();
    expect(describeTarget({ targets: [{ version: 1, weight: 100 }], shadow: { version: 2, percent: 5 }, fallback: 1 })).toBe(
      "→ 1; shadow 2 at 5%; fallback 1",
    );
  });
});
