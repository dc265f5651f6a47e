import { describe, expect, it } from "@jest/globals";
import { parseAmount } from "../../functions/core/money/amount";
import type { UsageRecord } from "../../functions/core/usage";
import { admin, call, e2ePlatform, freshUsage, inferBody, newTenant } from "./helpers";

/** Nano-units (1e-9) of an amount: the test's own arithmetic, in integers. */
const nano = (amount: string) => parseAmount(amount);

interface TestPrice {
  readonly perRequest?: string;
  readonly perMillionInput?: string;
  readonly perMillionOutput?: string;
  readonly perSecond?: string;
}

/**
 * Σ quantity × price of one record, computed here independently of the platform. The prices are
 * chosen so every product is a whole number of nano-units (no rounding to agree on).
 */
function expectedNano(r: UsageRecord, p: TestPrice): bigint {
  const perToken = (perMillion: string | undefined) => (perMillion === undefined ? 0n : nano(perMillion) / 1_000_000n);
  const perMs = p.perSecond === undefined ? 0n : nano(p.perSecond) / 1_000n;
  return (
    (p.perRequest === undefined ? 0n : nano(p.perRequest)) +
    BigInt(r.tokens?.input ?? 0) * perToken(p.perMillionInput) +
    BigInt(r.tokens?.output ?? 0) * perToken(p.perMillionOutput) +
    BigInt(r.latencyMs) * perMs
  );
}

/** Every record of the tenant in the range, from the admin export. */
async function records(tenantId: string, from: string, to: string): Promise<UsageRecord[]> {
  const out: UsageRecord[] = [];
  let cursor: string | undefined;
  do {
    const res = await admin().request<{ records: UsageRecord[]; cursor?: string }>(
      "GET",
      `/admin/tenants/${tenantId}/usage/records`,
      undefined,
      { from, to, limit: "100", ...(cursor ? { cursor } : {}) },
    );
    expect(res.status).toBe(200);
    out.push(...res.body.records);
    cursor = res.body.cursor;
  } while (cursor !== undefined);
  return out;
}

async function chat(key: string, stream: boolean): Promise<number> {
  const res = await fetch(`${e2ePlatform().url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "tinylm", messages: [{ role: "user", content: "Call me Ishmael" }], max_tokens: 6, stream }),
  });
  await res.text();
  return res.status;
}

describe("prices and spend, exactly", () => {
  it("two tenants (one on a contract price), LLM streamed and not and KServe at once: the export's costs add up to Σ quantity × price, across a price change", async () => {
    const listed = await newTenant(["tinylm", "iris-pr"], "price-l");
    const contract = await newTenant(["tinylm", "iris-pr"], "price-c");
    const from = new Date(Date.now() - 60_000).toISOString();
    const set = async (model: string, body: Record<string, unknown>) => {
      const res = await admin().request("POST", `/admin/models/${model}/prices`, body);
      expect({ status: res.status, text: res.text }).toMatchObject({ status: 201 });
    };
    // tinylm: a list price and the contract tenant's own; iris-pr: its config price, then a change.
    const llmList: TestPrice = { perMillionInput: "0.15", perMillionOutput: "0.6" };
    const llmContract: TestPrice = { perMillionInput: "0.1", perMillionOutput: "0.4" };
    const irisBefore: TestPrice = { perRequest: "0.0005", perSecond: "0.0001" };
    const irisAfter: TestPrice = { perRequest: "0.0007", perSecond: "0.0002" };
    const irisContract: TestPrice = { perRequest: "0.0003" };
    const start = new Date(Math.ceil((Date.now() + 6_000) / 1000) * 1000).toISOString();
    await set("tinylm", { ...llmList, from: start });
    await set("tinylm", { ...llmContract, tenant: contract.tenantId, from: start });
    await set("iris-pr", { ...irisContract, tenant: contract.tenantId, from: start });
    const change = new Date(Date.parse(start) + 4_000).toISOString();
    await set("iris-pr", { ...irisAfter, from: change });

    const burst = (t: { apiKey: string }) => [
      chat(t.apiKey, false),
      chat(t.apiKey, true),
      ...Array.from({ length: 4 }, () => call("/v2/models/iris-pr/infer", { key: t.apiKey, body: inferBody() }).then((r) => r.status)),
    ];
    const waitUntil = async (iso: string) => {
      const ms = Date.parse(iso) - Date.now() + 200;
      if (ms > 0) await new Promise((r) => setTimeout(r, ms));
    };
    await waitUntil(start);
    const before = await Promise.all([...burst(listed), ...burst(contract)]);
    await waitUntil(change);
    const after = await Promise.all([...burst(listed), ...burst(contract)]);
    expect([...before, ...after].every((s) => s === 200)).toBe(true);

    const to = new Date(Date.now() + 60_000).toISOString();
    for (const t of [listed, contract]) {
      const mine = await records(t.tenantId, from, to);
      expect(mine).toHaveLength(12);
      const priceOf = (r: UsageRecord): TestPrice => {
        if (r.model === "tinylm") return t === contract ? llmContract : llmList;
        if (t === contract) return irisContract;
        return r.time < change ? irisBefore : irisAfter;
      };
      // Both sides of the change are present, and each record is priced by its own time.
      expect(mine.filter((r) => r.model === "iris-pr" && r.time < change)).toHaveLength(4);
      expect(mine.filter((r) => r.model === "iris-pr" && r.time >= change)).toHaveLength(4);
      for (const r of mine) {
        expect(r.currency).toBe("USD");
        expect({ requestId: r.requestId, cost: nano(r.cost ?? "x") }).toEqual({
          requestId: r.requestId,
          cost: expectedNano(r, priceOf(r)),
        });
      }
      const exportTotal = mine.reduce((sum, r) => sum + nano(r.cost ?? "0"), 0n);
      const independent = mine.reduce((sum, r) => sum + expectedNano(r, priceOf(r)), 0n);
      expect(exportTotal).toBe(independent);
      // The aggregates (per tenant, model, version, key, day) add the same integers.
      await freshUsage(t.tenantId);
      const report = await admin().request<{ currency: string; totals: { cost: string } }>(
        "GET",
        `/admin/tenants/${t.tenantId}/usage`,
        undefined,
        {
          from,
          to,
        },
      );
      expect(report.body.currency).toBe("USD");
      expect(nano(report.body.totals.cost)).toBe(exportTotal);
    }
  });
});
