import { describe, expect } from "@jest/globals";
import type { Page } from "playwright-core";
import { admin, call, freshUsage, inferBody, newTenant } from "../e2e/helpers";
import {
  axeViolations,
  browserTest,
  type InPage,
  signInAsOperator,
  signInAsTenant,
  unreachableByKeyboard,
  useBrowser,
  watch,
} from "./browser";

interface Row {
  period: string;
  tenantId?: string;
  model?: string;
  version?: number;
  requests: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cost: string;
  latencyP50Ms?: number | null;
  latencyP99Ms?: number | null;
}

/** The legend's figures under the pointer, read across the whole plot: period → line label → text. */
async function readChart(page: Page): Promise<Map<string, Map<string, string>>> {
  // A report still loading (Refresh is disabled meanwhile) redraws the chart when it lands, and
  // a plot measured in that instant has no box: read only a settled chart.
  await page.getByRole("button", { name: "Refresh" }).and(page.locator(":enabled")).waitFor();
  const over = page.locator(".u-over");
  await over.waitFor({ state: "visible" });
  const box = await over.boundingBox();
  if (!box) throw new Error("no chart plot area");
  const points = new Map<string, Map<string, string>>();
  for (let i = 0; i <= 48; i++) {
    await page.mouse.move(box.x + 1 + ((box.width - 2) * i) / 48, box.y + box.height / 2);
    const legend = await page.evaluate(() =>
      [...(globalThis as unknown as InPage).document.querySelectorAll(".u-legend .u-series")].map((tr) => [
        tr.querySelector(".u-label")?.textContent ?? "",
        tr.querySelector(".u-value")?.textContent ?? "",
      ]),
    );
    const [[, period] = ["", ""], ...lines] = legend;
    if (!period || period === "–") continue;
    points.set(period, new Map(lines.map(([label, value]) => [label ?? "", value ?? ""])));
  }
  await page.mouse.move(0, 0);
  return points;
}

const METRICS: ReadonlyArray<[string, (r: Row) => string | null]> = [
  ["requests", (r) => String(r.requests)],
  ["tokens", (r) => String(r.inputTokens + r.outputTokens)],
  ["cost", (r) => r.cost],
  ["errors", (r) => String(r.errors)],
  ["latencyP50Ms", (r) => (r.latencyP50Ms === null || r.latencyP50Ms === undefined ? null : String(r.latencyP50Ms))],
  ["latencyP99Ms", (r) => (r.latencyP99Ms === null || r.latencyP99Ms === undefined ? null : String(r.latencyP99Ms))],
];

/** For each metric, the chart's figure for `label` in each period equals the API row's. */
async function expectChartMatches(page: Page, label: string, rows: Row[], metrics = METRICS): Promise<void> {
  for (const [metric, figure] of metrics) {
    await page.getByLabel("Metric").selectOption(metric);
    const chart = await readChart(page);
    const seen = Object.fromEntries([...chart].map(([period, lines]) => [period, lines.get(label) ?? null]));
    const expected = Object.fromEntries(rows.map((r) => [r.period, figure(r) ?? "–"]));
    expect({ metric, points: seen }).toEqual({ metric, points: expected });
  }
}

async function dateRange(page: Page): Promise<{ from: string; to: string }> {
  return { from: await page.getByLabel("From").inputValue(), to: await page.getByLabel("To").inputValue() };
}

describe("console: usage in Chromium, against GET /admin/usage and GET /v1/usage", () => {
  const s = useBrowser();
  let a: Awaited<ReturnType<typeof newTenant>>;
  let b: Awaited<ReturnType<typeof newTenant>>;

  browserTest("the overview's chart shows the figures GET /admin/usage reports", s, async () => {
    [a, b] = await Promise.all([newTenant(["iris"], "ui-a"), newTenant(["iris", "iris-b"], "ui-b")]);
    for (let i = 0; i < 3; i++) expect((await call("/v2/models/iris/infer", { key: a.apiKey, body: inferBody() })).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await call("/v2/models/iris-b/infer", { key: b.apiKey, body: inferBody() })).status).toBe(200);
    await Promise.all([freshUsage(a.tenantId), freshUsage(b.tenantId)]);

    const page = s.page;
    await signInAsOperator(page);
    await page.getByLabel("Group by").selectOption("tenant");
    await page.getByLabel("Filter").fill(a.tenantId);
    await page.getByRole("button", { name: "Refresh" }).click();
    await page
      .getByRole("table", { name: /the chart's figures/ })
      .getByRole("cell", { name: a.tenantId })
      .first()
      .waitFor();
    await expect(page.getByText(/^Figures as of /).innerText()).resolves.toMatch(/^Figures as of \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC/);

    const { from, to } = await dateRange(page);
    const report = await admin().request<{ rows: Row[] }>("GET", "/admin/usage", undefined, { from, to, by: "hour", group: "tenant" });
    expect(report.status).toBe(200);
    const rows = report.body.rows.filter((r) => r.tenantId === a.tenantId);
    expect(rows.reduce((n, r) => n + r.requests, 0)).toBe(3);
    await expectChartMatches(page, a.tenantId, rows);

    // The table under the chart carries the same rows.
    const tableText = await page.getByRole("table", { name: /the chart's figures/ }).innerText();
    for (const r of rows) expect(tableText).toContain(`${r.period}\t${a.tenantId}\t${r.requests}\t${r.errors}`);
    expect(tableText).not.toContain(b.tenantId);
    if (process.env.CONSOLE_DOCS_SCREENSHOTS) {
      // docs/console.md's picture: every tenant's requests by model, with tokens and a price too.
      const llm = await newTenant(["tinylm", "iris-pr"], "ui-docs");
      for (let i = 0; i < 4; i++) {
        await call("/v1/chat/completions", {
          key: llm.apiKey,
          body: { model: "tinylm", messages: [{ role: "user", content: "Once" }], max_tokens: 8 },
        });
        await call("/v2/models/iris-pr/infer", { key: llm.apiKey, body: inferBody() });
      }
      await freshUsage(llm.tenantId);
      await page.getByLabel("Filter").fill("");
      await page.getByLabel("Metric").selectOption("requests");
      await page.getByLabel("Group by").selectOption("model");
      await page
        .getByRole("table", { name: /the chart's figures/ })
        .getByRole("cell", { name: "tinylm" })
        .first()
        .waitFor();
      await page.screenshot({ path: "docs/console-overview.png" });
    }
    expect(s.problems).toEqual([]);
  });

  browserTest("the tenant page shows its own tenant's usage and no other's", s, async () => {
    const context = await s.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    watch(page, problems);
    try {
      await signInAsTenant(page, a.apiKey);
      await page.getByRole("heading", { level: 1, name: `My usage: tenant ${a.tenantId}` }).waitFor();
      await page.getByRole("table", { name: /the chart's figures/ }).waitFor();
      const { from, to } = await dateRange(page);
      const mine = await call(`/v1/usage?${new URLSearchParams({ from, to, by: "hour", group: "version" })}`, { key: a.apiKey });
      expect(mine.status).toBe(200);
      const rows = mine.body.rows as Row[];
      expect(rows.every((r) => r.model === "iris")).toBe(true);
      expect(rows.reduce((n, r) => n + r.requests, 0)).toBe(3);
      await expectChartMatches(page, "iris v1", rows);

      const text = await page.locator("main").innerText();
      expect(text).toContain(a.tenantId);
      expect(text).not.toContain(b.tenantId);
      expect(text).not.toContain("iris-b");
      expect(await page.getByRole("definition").first().innerText()).toBe("3");
      await page.getByRole("region", { name: "Limits and budget" }).waitFor();
      // Its invoices (none issued for a tenant made a moment ago), from its own route.
      await page.getByRole("region", { name: "Invoices" }).getByText("No invoice issued yet.").waitFor();
      // Operator pages are not there for a tenant.
      expect(await page.getByRole("link", { name: "Tenants", exact: true }).count()).toBe(0);
      expect(await unreachableByKeyboard(page)).toEqual([]);
      expect(await axeViolations(page)).toEqual([]);
      if (process.env.CONSOLE_DOCS_SCREENSHOTS) await page.screenshot({ path: "docs/console-tenant.png" });
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
