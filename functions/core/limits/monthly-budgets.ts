import { formatAmount } from "../money/amount";
import { crossedThresholds, DEFAULT_THRESHOLDS } from "../money/thresholds";
import type { BudgetAlert, BudgetAlertSink } from "./budget-alerts";
import type { LimitCells, SpendKey } from "./cells";
import { budgetCeiling, budgetWindow, type MonthPeriod } from "./math";
import {
  type BudgetCharge,
  budgetRefusalMessage,
  type RateLimitState,
  type Refused,
  refused,
  type SettleUsage,
  subjectParts,
  type TenantLimits,
} from "./tenant-limits";

/** What a step of the ledger answers: admitted with the windows seen so far, or refused. */
export type Step = { readonly admitted: true; readonly state: RateLimitState } | Refused;

/** The budget cell of a subject's month. */
export const spendKey = (subject: string, m: MonthPeriod): SpendKey => ({ subject, period: m.period, endsAtMs: m.resetMs });
/** The spend of a charged month: a settlement may (re)create the cell, so it carries the month's end for the TTL. */
export const chargedSpendKey = (subject: string, period: string): SpendKey => {
  const [y, m] = period.split("-").map(Number);
  return { subject, period, endsAtMs: Date.UTC(y ?? 1970, m ?? 1, 1) };
};

/**
 * The monthly budgets' step of the ledger (ledger.ts): reserve a request's maximum cost, settle
 * it to the real cost, announce the thresholds crossed. Budgets are not leased: each budgeted
 * admission writes the subject's budget cell once and each correcting settlement once more.
 */
export class MonthlyBudgets {
  constructor(
    private readonly cells: LimitCells,
    private readonly alerts: BudgetAlertSink | undefined,
    private readonly onAlertError: (err: unknown, alert: BudgetAlert | undefined) => void = () => undefined,
  ) {}

  /**
   * Reserves the request's maximum cost in this month's budget cell: one conditional write
   * that admits only while spent + reserve ≤ budget, so N concurrent admissions never reserve
   * past it. A refusal writes nothing.
   */
  async reserve(
    subject: string,
    limits: TenantLimits,
    budget: number,
    month: MonthPeriod,
    reserve: number,
    now: number,
    state: RateLimitState,
  ): Promise<Step> {
    const ceiling = budgetCeiling(budget, reserve);
    const key = spendKey(subject, month);
    if (ceiling < 0) {
      // More than a whole month's budget: no month can admit it (a write would, on a fresh cell).
      const window = budgetWindow(budget, await this.cells.readSpend(key), month, now);
      return refused("monthlyBudget", budgetRefusalMessage(budget, window.spent, reserve), window.resetSeconds, {
        ...state,
        budget: window,
      });
    }
    const out = await this.cells.addSpend(key, reserve, ceiling);
    const window = budgetWindow(budget, out.value, month, now);
    if (out.ok) {
      await this.announce(key, budget, limits.budgetAlertPercents, out.value - reserve, out.value, now);
      return { admitted: true, state: { ...state, budget: window } };
    }
    const message = budgetRefusalMessage(budget, out.value, reserve);
    if (out.value > ceiling) return refused("monthlyBudget", message, window.resetSeconds, { ...state, budget: window });
    // The store gave up on contention with a spend that admits: ask for a retry.
    return refused("monthlyBudget", message, 1, state);
  }

  /**
   * Announces the thresholds a spend write crossed (before → after, as that atomic write saw
   * them), each claimed first so that one writer announces it. Never throws.
   */
  private async announce(
    key: SpendKey,
    budget: number,
    percents: readonly number[] | undefined,
    before: number,
    after: number,
    now: number,
  ): Promise<void> {
    if (!this.alerts || after <= before) return;
    let crossed: number[];
    try {
      crossed = crossedThresholds(BigInt(budget), BigInt(before), BigInt(after), percents ?? DEFAULT_THRESHOLDS);
    } catch (err) {
      this.onAlertError(err, undefined);
      return;
    }
    for (const thresholdPercent of crossed) {
      const alert: BudgetAlert = {
        ...subjectParts(key.subject),
        budget: formatAmount(BigInt(budget)),
        spent: formatAmount(BigInt(after)),
        thresholdPercent,
        month: key.period,
      };
      try {
        if (await this.cells.claimBudgetAlert(key, thresholdPercent, now)) await this.alerts.publish(alert);
      } catch (err) {
        this.onAlertError(err, alert);
      }
    }
  }

  /** Corrects a budget reservation to the real cost; a settlement above it may cross a threshold. */
  async settle(subject: string, charge: BudgetCharge, usage: SettleUsage): Promise<void> {
    const delta = Math.max(0, Math.ceil(usage.actualCostNano ?? 0)) - charge.reservedNano;
    if (delta === 0) return;
    const key = chargedSpendKey(subject, charge.period);
    const after = await this.cells.adjustSpend(key, delta);
    if (delta > 0) await this.announce(key, charge.limitNano, charge.alertPercents, after - delta, after, usage.now ?? Date.now());
  }
}
