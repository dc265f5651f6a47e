import { describe, expect } from "@jest/globals";
import { DynamoRegistry } from "../../functions/aws/registry-store";
import { DynamoUsageSink } from "../../functions/aws/usage-sink";
import { registryTable, usageTable } from "../../functions/contract/tables";
import { formatAmount, parseAmount } from "../../functions/core/money/amount";
import { buildUsageRecord } from "../../functions/core/usage";
import { e2eTable, localDocumentClient } from "../adapters/dynamo";
import { admin, e2ePlatform, newTenant } from "../e2e/helpers";
import { browserTest, useBrowser, watch } from "./browser";

/**
 * An issued invoice's HTML, as a tenant downloads it, opened in Chromium: it renders, its total is
 * the sum of the month's priced records, and the page's own CSP (no script, nothing external)
 * raises no violation. The month is one the test controls: two months ago, with records written
 * through the platform's usage sink and priced by `iris-pr`'s config price.
 */
describe("an invoice in a browser", () => {
  const s = useBrowser();

  browserTest("renders its lines and a total equal to the month's priced records, with no CSP violation", s, async () => {
    const t = await newTenant(["iris-pr"], "inv-b");
    const doc = localDocumentClient();
    const sink = new DynamoUsageSink(doc, e2eTable(usageTable), { retentionDays: 400, maxRecordsPerPack: 1 });
    const prices = (await new DynamoRegistry(doc, e2eTable(registryTable)).getModel("iris-pr"))?.prices ?? [];
    const now = new Date();
    const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 2, 1)).toISOString().slice(0, 7);
    let total = 0n;
    for (const [i, latencyMs] of [7, 13, 250].entries()) {
      const at = Date.parse(`${month}-1${i}T12:00:00Z`);
      const r = buildUsageRecord({
        requestId: `inv-browser-${process.pid}-${Date.now()}-${i}`,
        receivedAt: at,
        finishedAt: at + latencyMs,
        tenantId: t.tenantId,
        keyId: t.keyId,
        model: "iris-pr",
        version: 1,
        status: 200,
        bytesIn: 10,
        bytesOut: 10,
        prices,
      });
      expect(await sink.record(r)).toBe("recorded");
      total += parseAmount(r.cost ?? "0");
    }
    const issued = await admin().request<{ invoiceId: string; total: string }>("POST", "/admin/invoices/issue", {
      month,
      tenant: t.tenantId,
    });
    expect({ status: issued.status, text: issued.text }).toMatchObject({ status: 201 });
    expect(parseAmount(issued.body.total)).toBe(total);

    // The tenant's own route, with its key: what it would save and open.
    const context = await s.browser.newContext({ extraHTTPHeaders: { authorization: `Bearer ${t.apiKey}` } });
    const page = await context.newPage();
    const problems: string[] = [];
    watch(page, problems);
    const violations: string[] = [];
    page.on("console", (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    try {
      const res = await page.goto(`${e2ePlatform().url}/v1/invoices/${issued.body.invoiceId}?format=html`);
      expect(res?.status()).toBe(200);
      expect(res?.headers()["content-type"]).toMatch(/text\/html/);
      const text = await page.locator("body").innerText();
      expect(text).toContain(t.tenantId);
      expect(text).toContain(month);
      expect(text).toContain(formatAmount(total));
      // Styled by its own stylesheet (allowed by hash): the table is laid out, not bare text.
      expect(await page.locator("table").count()).toBeGreaterThan(0);
      expect(violations).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
