import { formatAmount } from "../money/amount";
import type { BudgetWindow, LimitWindow } from "./math";
import type { RateLimitState, TenantLimits } from "./tenant-limits";

/** Limits and their windows as JSON shows them: money as decimal strings in currency units. */

/** Limits as the admin API and the CLI show them: `monthlyBudget` as a decimal string in currency units. */
export type LimitsView = Omit<TenantLimits, "monthlyBudget"> & { readonly monthlyBudget?: string };

export function limitsView(l: TenantLimits): LimitsView {
  const { monthlyBudget, ...rest } = l;
  return monthlyBudget === undefined ? rest : { ...rest, monthlyBudget: formatAmount(BigInt(monthlyBudget)) };
}

/** A budget window as JSON shows it: decimal strings in currency units. */
export interface BudgetWindowView {
  readonly limit: string;
  readonly spent: string;
  readonly remaining: string;
  readonly resetSeconds: number;
}

export function budgetWindowView(w: BudgetWindow): BudgetWindowView {
  const f = (n: number) => formatAmount(BigInt(n));
  return { limit: f(w.limit), spent: f(w.spent), remaining: f(w.remaining), resetSeconds: w.resetSeconds };
}

/** Where a subject stands, as `GET /v1/usage` shows it: the windows, and the budget as `monthlyBudget` in decimal strings. */
export interface LimitStateView {
  readonly requests?: LimitWindow;
  readonly tokens?: LimitWindow;
  readonly monthlyBudget?: BudgetWindowView;
}

export function limitStateView(state: RateLimitState): LimitStateView {
  const { budget, ...windows } = state;
  return budget ? { ...windows, monthlyBudget: budgetWindowView(budget) } : windows;
}
