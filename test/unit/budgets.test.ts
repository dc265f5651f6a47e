import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { limitStatusOf } from "../../functions/core/admission";
import { BudgetExceededError, toErrorResponse } from "../../functions/core/errors";
import type { BudgetAlert, BudgetAlertSink } from "../../functions/core/limits/budget-alerts";
import type { CellWrite, SpendKey } from "../../functions/core/limits/cells";
import { type LedgerOptions, LimitLedger } from "../../functions/core/limits/ledger";
import { monthOf } from "../../functions/core/limits/math";
import {
  type Admitted,
  chargeAll,
  limitSubject,
  type Refused,
  refusalError,
  type TenantLimits,
  validateLimits,
} from "../../functions/core/limits/tenant-limits";
import { toOpenAIErrorResponse } from "../../functions/core/openai";
import { MemoryLimitCells } from "../support/memory-limit-store";

const UNIT = 1_000_000_000; // nano-units per currency unit
const T0 = Date.UTC(2026, 5, 10, 12, 0, 30);
let n = 0;
const ctx = (costEstimateNano?: number, now = T0) => ({
  now,
  requestId: `r${++n}`,
  ...(costEstimateNano !== undefined ? { costEstimateNano } : {}),
});
const spendOf = (cells: MemoryLimitCells, subject: string, now = T0) =>
  cells.readSpend({ subject, period: monthOf(now).period, endsAtMs: monthOf(now).resetMs });

class Alerts implements BudgetAlertSink {
  readonly sent: BudgetAlert[] = [];
  async publish(alert: BudgetAlert): Promise<void> {
    // Yield, as a network call would, so concurrent admissions interleave here.
    await new Promise((r) => setImmediate(r));
    this.sent.push(alert);
  }
}

function ledger(options: LedgerOptions = {}) {
  const cells = new MemoryLimitCells();
  return { cells, store: new LimitLedger(cells, options) };
}

const admittedOf = (a: unknown): Admitted => {
  expect(a).toMatchObject({ admitted: true });
  return a as Admitted;
};
const refusedOf = (a: unknown): Refused => {
  expect(a).toMatchObject({ admitted: false });
  return a as Refused;
};

describe("LimitLedger: monthly budget", () => {
  const budget10: TenantLimits = { monthlyBudget: 10 * UNIT };

  it("reserves the maximum cost and reports what is left in x-budget-remaining / x-budget-limit", async () => {
    const { cells, store } = ledger();
    const a = admittedOf(await store.charge("acme", budget10, ctx(3 * UNIT)));
    expect(await spendOf(cells, "acme")).toBe(3 * UNIT);
    expect(a.handle.budget).toEqual({ period: "2026-06", reservedNano: 3 * UNIT, limitNano: 10 * UNIT });
    expect(a.state.budget).toMatchObject({ limit: 10 * UNIT, spent: 3 * UNIT, remaining: 7 * UNIT });
    expect(a.headers).toEqual({ "x-budget-limit": "10", "x-budget-remaining": "7" });
  });

  it("settles to the real cost (down), and keeps the reservation when the cost is not given", async () => {
    const { cells, store } = ledger();
    const a = admittedOf(await store.charge("acme", budget10, ctx(3 * UNIT)));
    await store.release(a.handle, { actualCostNano: 1_250_000_000, now: T0 });
    expect(await spendOf(cells, "acme")).toBe(1_250_000_000);
    await store.release(a.handle, { actualCostNano: 0, now: T0 }); // a second settlement does nothing
    expect(await spendOf(cells, "acme")).toBe(1_250_000_000);
    const b = admittedOf(await store.charge("acme", budget10, ctx(2 * UNIT)));
    await store.release(b.handle, { now: T0 });
    expect(await spendOf(cells, "acme")).toBe(3_250_000_000);
    const status = await store.peek("acme", budget10, T0);
    expect(status.budget).toMatchObject({ spent: 3_250_000_000, remaining: 6_750_000_000 });
  });

  it("refuses a request the budget cannot cover with 429 budget_exceeded until the next month, charging nothing", async () => {
    const { cells, store } = ledger();
    const limits: TenantLimits = { ratePerSecond: 100, burst: 100, monthlyRequests: 1000, monthlyBudget: 10 * UNIT };
    admittedOf(await store.charge("acme", limits, ctx(8 * UNIT)));
    const before = await store.peek("acme", limits, T0);
    const r = refusedOf(await store.charge("acme", limits, ctx(2_500_000_000)));
    expect(r.limit).toBe("monthlyBudget");
    expect(r.retryAfterSeconds).toBe(Math.ceil((monthOf(T0).resetMs - T0) / 1000));
    expect(r.message).toBe("monthly budget of 10 (8 spent or reserved) cannot cover the 2.5 this request may cost");
    expect(r.headers).toMatchObject({ "x-budget-limit": "10", "x-budget-remaining": "2" });
    // Nothing charged: not the budget, nor the rate cell and the month's request taken before it.
    expect(await spendOf(cells, "acme")).toBe(8 * UNIT);
    expect(await store.peek("acme", limits, T0)).toEqual(before);
    // A request that fits exactly is admitted.
    admittedOf(await store.charge("acme", limits, ctx(2 * UNIT)));
    expect(await spendOf(cells, "acme")).toBe(10 * UNIT);

    const e = refusalError(r);
    expect(e).toBeInstanceOf(BudgetExceededError);
    const raw = toErrorResponse(e, "req-1");
    expect(raw.statusCode).toBe(429);
    expect(raw.headers["retry-after"]).toBe(String(r.retryAfterSeconds));
    expect(JSON.parse(raw.body)).toEqual({ error: { type: "budget_exceeded", message: r.message, request_id: "req-1" } });
    const openai = toOpenAIErrorResponse(e, "req-1");
    expect(openai.statusCode).toBe(429);
    expect(openai.headers["x-budget-remaining"]).toBe("2");
    expect(JSON.parse(openai.body)).toEqual({
      error: { message: r.message, type: "insufficient_quota", param: null, code: "insufficient_quota", request_id: "req-1" },
    });
  });

  it("without an estimate admits until the budget is spent, then refuses", async () => {
    const { store } = ledger();
    const a = admittedOf(await store.charge("acme", budget10, ctx()));
    await store.release(a.handle, { actualCostNano: 10 * UNIT - 1 });
    admittedOf(await store.charge("acme", budget10, ctx(0)));
    const b = admittedOf(await store.charge("acme", budget10, ctx()));
    await store.release(b.handle, { actualCostNano: 1 });
    const r = refusedOf(await store.charge("acme", budget10, ctx()));
    expect(r.message).toBe("monthly budget of 10 is spent (10 spent or reserved)");
  });

  it("refuses a request that may cost more than a whole month's budget, even in a fresh month", async () => {
    const { cells, store } = ledger();
    const r = refusedOf(await store.charge("acme", budget10, ctx(10 * UNIT + 1)));
    expect(r.message).toContain("cannot cover this request, which may cost up to 10.000000001");
    expect(await spendOf(cells, "acme")).toBe(0);
  });

  it("cancel gives the reservation back", async () => {
    const { cells, store } = ledger();
    const a = admittedOf(await store.charge("acme", budget10, ctx(4 * UNIT)));
    await store.cancel(a.handle);
    expect(await spendOf(cells, "acme")).toBe(0);
  });

  it("holds a key's budget inside the tenant's: both are charged, a refusal by either gives the other back", async () => {
    const { cells, store } = ledger();
    const tenant = limitSubject("acme");
    const key = limitSubject("acme", "KeyA");
    const checks = (t: number, k: number) => [
      { subject: tenant, limits: { monthlyBudget: t * UNIT } },
      { subject: key, limits: { monthlyBudget: k * UNIT } },
    ];
    const a = await chargeAll(store, checks(100, 5), ctx(3 * UNIT));
    expect(a).toMatchObject({ admitted: true, headers: { "x-budget-limit": "5", "x-budget-remaining": "2" } });
    expect([await spendOf(cells, tenant), await spendOf(cells, key)]).toEqual([3 * UNIT, 3 * UNIT]);
    // The key's budget refuses: the tenant's reservation is given back.
    const r = await chargeAll(store, checks(100, 5), ctx(3 * UNIT));
    expect(r).toMatchObject({ admitted: false, limit: "monthlyBudget" });
    expect([await spendOf(cells, tenant), await spendOf(cells, key)]).toEqual([3 * UNIT, 3 * UNIT]);
    // The tenant's budget refuses (another key spent it): the key's is given back.
    const t = await chargeAll(store, checks(4, 100), ctx(2 * UNIT));
    expect(t).toMatchObject({ admitted: false, limit: "monthlyBudget" });
    expect([await spendOf(cells, tenant), await spendOf(cells, key)]).toEqual([3 * UNIT, 3 * UNIT]);
    // Settlement corrects both.
    if (!a.admitted) throw new Error("admitted above");
    await Promise.all(a.handles.map((h) => store.release(h, { actualCostNano: UNIT })));
    expect([await spendOf(cells, tenant), await spendOf(cells, key)]).toEqual([UNIT, UNIT]);
  });

  it("starts each UTC month whole, and settles a request into the month it was charged to", async () => {
    const { cells, store } = ledger();
    const lastSecond = Date.UTC(2026, 0, 31, 23, 59, 59);
    const feb = Date.UTC(2026, 1, 1, 0, 0, 1);
    const a = admittedOf(await store.charge("acme", budget10, ctx(9 * UNIT, lastSecond)));
    const jan = refusedOf(await store.charge("acme", budget10, ctx(2 * UNIT, lastSecond)));
    expect(jan.retryAfterSeconds).toBe(1);
    admittedOf(await store.charge("acme", budget10, ctx(2 * UNIT, feb)));
    await store.release(a.handle, { actualCostNano: 5 * UNIT, now: feb });
    expect(await spendOf(cells, "acme", lastSecond)).toBe(5 * UNIT);
    expect(await spendOf(cells, "acme", feb)).toBe(2 * UNIT);
  });

  it("announces each threshold once per subject and month, however many admissions cross it at once", async () => {
    const alerts = new Alerts();
    const { store } = ledger({ budgetAlerts: alerts });
    const results = await Promise.all(Array.from({ length: 150 }, () => store.charge("acme/KeyA", budget10, ctx(UNIT / 10))));
    expect(results.filter((r) => r.admitted)).toHaveLength(100);
    expect(alerts.sent.map((a) => a.thresholdPercent).sort((a, b) => a - b)).toEqual([50, 80, 100]);
    expect(alerts.sent.find((a) => a.thresholdPercent === 80)).toEqual({
      tenantId: "acme",
      keyId: "KeyA",
      budget: "10",
      spent: "8",
      thresholdPercent: 80,
      month: "2026-06",
    });
    // Spend going down and up again within the month announces nothing twice.
    const handles = results.flatMap((r) => (r.admitted ? [r.handle] : []));
    await Promise.all(handles.map((h) => store.release(h, { actualCostNano: 0 })));
    await Promise.all(Array.from({ length: 100 }, () => store.charge("acme/KeyA", budget10, ctx(UNIT / 10))));
    expect(alerts.sent).toHaveLength(3);
    // A new month announces again.
    await store.charge("acme/KeyA", budget10, ctx(6 * UNIT, Date.UTC(2026, 6, 1)));
    expect(alerts.sent.filter((a) => a.month === "2026-07").map((a) => a.thresholdPercent)).toEqual([50]);
  });

  it("announces a threshold crossed by a settlement above its reservation, and the subject's own thresholds", async () => {
    const alerts = new Alerts();
    const { store } = ledger({ budgetAlerts: alerts });
    const limits: TenantLimits = { monthlyBudget: 10 * UNIT, budgetAlertPercents: [25, 120] };
    const a = admittedOf(await store.charge("acme", limits, ctx(UNIT)));
    expect(alerts.sent).toEqual([]);
    await store.release(a.handle, { actualCostNano: 13 * UNIT, now: T0 });
    expect(alerts.sent).toEqual([
      { tenantId: "acme", budget: "10", spent: "13", thresholdPercent: 25, month: "2026-06" },
      { tenantId: "acme", budget: "10", spent: "13", thresholdPercent: 120, month: "2026-06" },
    ]);
  });

  it("never fails a request over an alert: a sink or claim failure is reported and the request admitted", async () => {
    const errors: unknown[] = [];
    const failing: BudgetAlertSink = { publish: async () => Promise.reject(new Error("PutEvents throttled")) };
    class FailingClaims extends MemoryLimitCells {
      override async claimBudgetAlert(): Promise<boolean> {
        throw new Error("ProvisionedThroughputExceededException");
      }
    }
    const one = new LimitLedger(new MemoryLimitCells(), { budgetAlerts: failing, onAlertError: (e) => errors.push(e) });
    admittedOf(await one.charge("acme", budget10, ctx(6 * UNIT)));
    const two = new LimitLedger(new FailingClaims(), { budgetAlerts: failing, onAlertError: (e) => errors.push(e) });
    admittedOf(await two.charge("acme", budget10, ctx(6 * UNIT)));
    expect(errors.map((e) => (e as Error).message)).toEqual(["PutEvents throttled", "ProvisionedThroughputExceededException"]);
  });

  it("asks for a retry (Retry-After 1) when the store gave up on contention with a spend that admits", async () => {
    class Contended extends MemoryLimitCells {
      override async addSpend(key: SpendKey): Promise<CellWrite<number>> {
        return { ok: false, value: await this.readSpend(key) };
      }
    }
    const r = refusedOf(await new LimitLedger(new Contended()).charge("acme", budget10, ctx(UNIT)));
    expect(r).toMatchObject({ limit: "monthlyBudget", retryAfterSeconds: 1 });
  });

  it("fails closed on an estimate that is not a safe integer", async () => {
    const { store } = ledger();
    await expect(store.charge("acme", budget10, ctx(Number.MAX_SAFE_INTEGER * 4))).rejects.toThrow(RangeError);
  });

  it("property: N concurrent admissions with random estimates and settlements never spend past budget + one reservation", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1_000 }),
        fc.array(fc.record({ estimate: fc.integer({ min: 0, max: 300 }), actual: fc.option(fc.integer({ min: 0, max: 400 })) }), {
          minLength: 1,
          maxLength: 60,
        }),
        async (budget, requests) => {
          const { cells, store } = ledger();
          const limits: TenantLimits = { monthlyBudget: budget };
          const maxReserve = Math.max(...requests.map((r) => r.estimate));
          // Admissions and settlements interleave: each settles as soon as it is admitted.
          await Promise.all(
            requests.map(async (r) => {
              const a = await store.charge("s", limits, ctx(r.estimate));
              expect(await spendOf(cells, "s")).toBeLessThanOrEqual(budget + maxReserve);
              if (!a.admitted) return;
              // Settling at most the reservation keeps the spend within the budget itself.
              const actual = r.actual === null ? undefined : Math.min(r.actual, r.estimate);
              await store.release(a.handle, actual === undefined ? {} : { actualCostNano: actual });
            }),
          );
          expect(await spendOf(cells, "s")).toBeLessThanOrEqual(budget);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("budget limits: validation and status", () => {
  it("takes monthlyBudget as nano-units up to Number.MAX_SAFE_INTEGER, and alert percents that need it", () => {
    expect(validateLimits({ monthlyBudget: 25 * UNIT, budgetAlertPercents: [100, 50, 50] })).toEqual({
      ok: true,
      limits: { monthlyBudget: 25 * UNIT, budgetAlertPercents: [50, 100] },
    });
    expect(validateLimits({ monthlyBudget: Number.MAX_SAFE_INTEGER + 1 })).toMatchObject({ ok: false });
    expect(validateLimits({ monthlyBudget: 1.5 })).toMatchObject({ ok: false, message: expect.stringContaining("monthlyBudget") });
    expect(validateLimits({ budgetAlertPercents: [50] })).toEqual({ ok: false, message: "budgetAlertPercents needs monthlyBudget" });
    expect(validateLimits({ monthlyBudget: 1, budgetAlertPercents: [0] })).toMatchObject({ ok: false });
    expect(validateLimits({ monthlyBudget: 1, budgetAlertPercents: "50" })).toMatchObject({ ok: false });
  });

  it("GET /v1/usage's limits show the budget, spent and remaining as decimal strings", async () => {
    const { store } = ledger();
    const p = {
      tenantId: "acme",
      keyId: "KeyA",
      scopes: [],
      models: ["*"],
      plan: "default",
      limits: { monthlyBudget: 25 * UNIT },
      keyLimits: { monthlyBudget: 5 * UNIT, concurrency: 2 },
    } as const;
    admittedOf(await store.charge(limitSubject("acme"), p.limits, ctx(1_500_000_000)));
    const status = await limitStatusOf(store, p, T0);
    expect(status.tenant).toEqual({
      monthlyBudget: "25",
      now: { monthlyBudget: { limit: "25", spent: "1.5", remaining: "23.5", resetSeconds: expect.any(Number) } },
    });
    expect(status.key).toMatchObject({ monthlyBudget: "5", concurrency: 2, now: { monthlyBudget: { spent: "0", remaining: "5" } } });
  });
});
