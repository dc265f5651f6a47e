import { describe, expect, it } from "@jest/globals";
import OpenAI, { APIError, RateLimitError } from "openai";
import { parseAmount } from "../../functions/core/money/amount";
import type { UsageRecord } from "../../functions/core/usage";
import { admin, e2ePlatform, freshUsage } from "./helpers";

const client = (apiKey: string) => new OpenAI({ baseURL: `${e2ePlatform().url}/v1`, apiKey, maxRetries: 0 });
const nano = (amount: string) => parseAmount(amount);
const prompt = [{ role: "user" as const, content: "Call me Ishmael." }];

let made = 0;
async function budgetTenant(limits: Record<string, unknown>): Promise<{ tenantId: string; apiKey: string }> {
  const tenantId = `bud-${process.pid}-${Date.now().toString(36)}-${made++}`;
  const created = await admin().request("POST", "/admin/tenants", { tenantId, models: ["tinylm"], limits });
  expect({ status: created.status, text: created.text }).toMatchObject({ status: 201 });
  const key = await admin().request<{ apiKey: string }>("POST", `/admin/tenants/${tenantId}/keys`, {});
  return { tenantId, apiKey: key.body.apiKey };
}

/** A contract price for the tenant alone (so no other suite's spend moves), in force a few seconds from now. */
async function contractPrice(tenantId: string): Promise<void> {
  const from = new Date(Math.ceil((Date.now() + 5_500) / 1000) * 1000).toISOString();
  const res = await admin().request("POST", "/admin/models/tinylm/prices", {
    tenant: tenantId,
    perRequest: "0.01",
    perMillionInput: "500",
    perMillionOutput: "1000",
    from,
  });
  expect({ status: res.status, text: res.text }).toMatchObject({ status: 201 });
  await new Promise((r) => setTimeout(r, Date.parse(from) - Date.now() + 200));
}

/** One chat request, streamed or not: its cost once admitted, or the SDK's typed refusal. */
async function ask(openai: OpenAI, stream: boolean): Promise<"ok" | APIError> {
  try {
    if (stream) {
      const s = await openai.chat.completions.create({ model: "tinylm", messages: prompt, max_tokens: 16, stream: true });
      for await (const _ of s);
    } else {
      await openai.chat.completions.create({ model: "tinylm", messages: prompt, max_tokens: 16 });
    }
    return "ok";
  } catch (err) {
    if (err instanceof APIError) return err;
    throw err;
  }
}

async function recordsOf(tenantId: string): Promise<UsageRecord[]> {
  const from = new Date(Date.now() - 600_000).toISOString();
  const to = new Date(Date.now() + 60_000).toISOString();
  const res = await admin().request<{ records: UsageRecord[] }>("GET", `/admin/tenants/${tenantId}/usage/records`, undefined, {
    from,
    to,
    limit: "1000",
    include: "refused",
  });
  return res.body.records;
}

/** The most one request reserves: per request, plus (prompt bytes + max_tokens) at the dearer token price. */
const ONE_RESERVATION = nano("0.01") + BigInt(Buffer.byteLength("Call me Ishmael.") + 16) * nano("0.001");

describe("monthly budgets in money", () => {
  it("50 concurrent LLM requests against a budget that fits about 10: admitted cost within the budget, refusals typed and free", async () => {
    const t = await budgetTenant({ monthlyBudget: "0.40" });
    await contractPrice(t.tenantId);
    const openai = client(t.apiKey);
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => ask(openai, i % 2 === 0)));
    const admitted = answers.filter((a) => a === "ok").length;
    const refusals = answers.filter((a): a is APIError => a !== "ok");
    expect(admitted).toBeGreaterThanOrEqual(1);
    expect(refusals.length).toBeGreaterThan(0);
    for (const r of refusals) {
      // The openai SDK raises its typed 429, with OpenAI's code for a spent budget.
      expect(r).toBeInstanceOf(RateLimitError);
      expect(r.code).toBe("insufficient_quota");
      expect(Number(r.headers?.get("retry-after"))).toBeGreaterThan(0);
    }
    await freshUsage(t.tenantId);
    const records = await recordsOf(t.tenantId);
    const billed = records.filter((r) => r.kind === undefined);
    const refused = records.filter((r) => r.kind === "refused");
    expect(billed).toHaveLength(admitted);
    expect(refused).toHaveLength(refusals.length);
    expect(refused.every((r) => r.cost === undefined)).toBe(true);
    const spent = billed.reduce((s, r) => s + nano(r.cost ?? "0"), 0n);
    expect(spent).toBeGreaterThan(0n);
    expect(spent).toBeLessThanOrEqual(nano("0.40") + ONE_RESERVATION);
    // What the ledger holds as spent is the records' cost, to the nano-unit, once every request settled.
    const usage = await admin().request<{ totals: { cost: string } }>("GET", `/admin/tenants/${t.tenantId}/usage`);
    expect(nano(usage.body.totals.cost)).toBe(spent);
    const own = await fetch(`${e2ePlatform().url}/v1/usage`, { headers: { authorization: `Bearer ${t.apiKey}` } });
    const status = (await own.json()) as { limits: { tenant: { now: { monthlyBudget: { spent: string; limit: string } } } } };
    expect(status.limits.tenant.now.monthlyBudget.limit).toBe("0.4");
    expect(nano(status.limits.tenant.now.monthlyBudget.spent)).toBe(spent);
  });

  it("a key's budget inside its tenant's: both hold under concurrency", async () => {
    const t = await budgetTenant({ monthlyBudget: "0.60" });
    const limited = await admin().request<{ apiKey: string; keyId: string }>("POST", `/admin/tenants/${t.tenantId}/keys`, {
      limits: { monthlyBudget: "0.20" },
    });
    expect(limited.status).toBe(201);
    await contractPrice(t.tenantId);
    const answers = await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => ask(client(limited.body.apiKey), i % 2 === 0).then((a) => ["limited", a] as const)),
      ...Array.from({ length: 30 }, (_, i) => ask(client(t.apiKey), i % 2 === 1).then((a) => ["tenant", a] as const)),
    ]);
    expect(answers.some(([, a]) => a !== "ok")).toBe(true);
    await freshUsage(t.tenantId);
    const billed = (await recordsOf(t.tenantId)).filter((r) => r.kind === undefined);
    const costOf = (rs: UsageRecord[]) => rs.reduce((s, r) => s + nano(r.cost ?? "0"), 0n);
    expect(costOf(billed.filter((r) => r.keyId === limited.body.keyId))).toBeLessThanOrEqual(nano("0.20") + ONE_RESERVATION);
    expect(costOf(billed)).toBeLessThanOrEqual(nano("0.60") + ONE_RESERVATION);
    expect(billed.filter((r) => r.keyId === limited.body.keyId).length).toBeGreaterThanOrEqual(1);
  });
});
