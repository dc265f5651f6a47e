import { randomUUID } from "node:crypto";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "@jest/globals";
import { budgetSk, limitKey } from "../../functions/aws/limit-items";
import { DynamoLimitCells, DynamoLimitStore, type LimitStoreOptions } from "../../functions/aws/limit-store";
import { usageTable } from "../../functions/contract/tables";
import type { BudgetAlert, BudgetAlertSink } from "../../functions/core/limits/budget-alerts";
import { monthOf } from "../../functions/core/limits/math";
import type { Admission, TenantLimits } from "../../functions/core/limits/tenant-limits";
import { e2eTable, localDocumentClient } from "./dynamo";

// The budget cell on DynamoDB Local: the conditional write that reserves (spent + reserve ≤
// budget), the settlement, the give-back, and the alert claims, across several stores.

const doc = localDocumentClient();
const table = e2eTable(usageTable);
const UNIT = 1_000_000_000;
/** DynamoDB Local applies one item's writes one at a time, slowly on a loaded machine. */
const HEAVY_MS = 240_000;
const OPTIONS: LimitStoreOptions = { maxInFlightPerItem: 8 };
const subject = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
const ctx = (now: number, costEstimateNano?: number) => ({
  now,
  requestId: randomUUID(),
  ...(costEstimateNano !== undefined ? { costEstimateNano } : {}),
});

async function budgetItem(s: string, now: number) {
  return (await doc.send(new GetCommand({ TableName: table, Key: limitKey(s, budgetSk(monthOf(now).period)), ConsistentRead: true }))).Item;
}

class Alerts implements BudgetAlertSink {
  readonly sent: BudgetAlert[] = [];
  async publish(alert: BudgetAlert): Promise<void> {
    this.sent.push(alert);
  }
}

describe("DynamoDB budget cells (DynamoDB Local)", () => {
  it("reserves in BUDGET#<month> (spentNano, TTL), settles down to the real cost, gives back on cancel, refuses charging nothing", async () => {
    const s = subject("budget");
    const store = new DynamoLimitStore(localDocumentClient(), table, OPTIONS);
    const limits: TenantLimits = { monthlyBudget: 10 * UNIT };
    const now = Date.now();
    const a = await store.charge(s, limits, ctx(now, 4 * UNIT));
    expect(a).toMatchObject({ admitted: true, headers: { "x-budget-limit": "10", "x-budget-remaining": "6" } });
    const created = await budgetItem(s, now);
    expect(created?.spentNano).toBe(4 * UNIT);
    expect(created?.expiresAt).toBe(Math.ceil(monthOf(now).resetMs / 1000) + 400 * 86_400);
    if (!a.admitted) throw new Error("admitted above");
    await store.release(a.handle, { actualCostNano: 1_500_000_000, now });
    expect((await budgetItem(s, now))?.spentNano).toBe(1_500_000_000);

    const b = await store.charge(s, limits, ctx(now, 8 * UNIT));
    expect(b.admitted).toBe(true);
    const refused = await store.charge(s, limits, ctx(now, UNIT));
    expect(refused).toMatchObject({
      admitted: false,
      limit: "monthlyBudget",
      message: "monthly budget of 10 (9.5 spent or reserved) cannot cover the 1 this request may cost",
      retryAfterSeconds: Math.ceil((monthOf(now).resetMs - now) / 1000),
    });
    expect((await budgetItem(s, now))?.spentNano).toBe(9_500_000_000);
    if (!b.admitted) throw new Error("admitted above");
    await store.cancel(b.handle);
    expect((await budgetItem(s, now))?.spentNano).toBe(1_500_000_000);
    expect((await store.peek(s, limits, now)).budget).toMatchObject({ spent: 1_500_000_000, remaining: 8_500_000_000 });
  });

  it(
    "40 concurrent admissions of 1 from 3 stores against a budget of 25 admit exactly 25, and announce 50/80/100 once each",
    async () => {
      const s = subject("budget-race");
      const alerts = new Alerts();
      const pool = Array.from(
        { length: 3 },
        () => new DynamoLimitStore(localDocumentClient(), table, { ...OPTIONS, budgetAlerts: alerts }),
      );
      const limits: TenantLimits = { monthlyBudget: 25 * UNIT };
      const now = Date.now();
      const results: Admission[] = await Promise.all(
        Array.from({ length: 40 }, (_, i) => (pool[i % 3] as DynamoLimitStore).charge(s, limits, ctx(now, UNIT))),
      );
      expect(results.filter((r) => r.admitted)).toHaveLength(25);
      const refused = results.filter((r) => !r.admitted);
      expect(refused).toHaveLength(15);
      expect(new Set(refused.map((r) => (r.admitted ? "" : r.limit)))).toEqual(new Set(["monthlyBudget"]));
      const item = await budgetItem(s, now);
      expect(item?.spentNano).toBe(25 * UNIT);
      expect(alerts.sent.map((a) => a.thresholdPercent).sort((a, b) => a - b)).toEqual([50, 80, 100]);
      expect(alerts.sent.find((a) => a.thresholdPercent === 100)).toMatchObject({ tenantId: s, budget: "25", spent: "25" });
      expect(Object.keys(item ?? {}).filter((k) => k.startsWith("alert"))).toEqual(
        expect.arrayContaining(["alert50", "alert80", "alert100"]),
      );
    },
    HEAVY_MS,
  );

  it("claims a threshold for exactly one of several concurrent claimants", async () => {
    const s = subject("budget-claim");
    const now = Date.now();
    const key = { subject: s, period: monthOf(now).period, endsAtMs: monthOf(now).resetMs };
    const cells = Array.from({ length: 4 }, () => new DynamoLimitCells(localDocumentClient(), table, OPTIONS));
    const claims = await Promise.all(cells.map((c) => c.claimBudgetAlert(key, 80, now)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await cells[0]?.claimBudgetAlert(key, 50, now)).toBe(true);
    expect((await budgetItem(s, now))?.alert80).toBe(now);
  });
});
