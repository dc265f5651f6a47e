/**
 * The arithmetic behind per-tenant limits, shared by every LimitStore so that stores and
 * tests agree on what "admitted" means: GCRA for rate + burst, UTC calendar months for
 * quotas, fixed UTC minutes for tokens per minute, and the windows reported in the x-ratelimit-* headers. Pure: no clock, no I/O.
 */

const US_PER_S = 1_000_000;

/** GCRA parameters of a rate with burst, in integer microseconds (exact in DynamoDB numbers). */
export interface GcraParams {
  /** Emission interval T: one request's worth of time. */
  readonly intervalUs: number;
  /** Burst tolerance τ = (burst − 1)·T: how far ahead of now the TAT may run. */
  readonly toleranceUs: number;
  readonly burst: number;
}

export function gcraParams(ratePerSecond: number, burst: number): GcraParams {
  // Rounding to whole microseconds changes the rate by < 1e-6 relative for any valid rate.
  const intervalUs = Math.max(1, Math.round(US_PER_S / ratePerSecond));
  return { intervalUs, toleranceUs: (burst - 1) * intervalUs, burst };
}

export type GcraDecision =
  | { readonly admitted: true; readonly tatUs: number }
  | { readonly admitted: false; readonly retryAfterUs: number };

/**
 * One GCRA step. `tatUs` is the stored theoretical arrival time (undefined when never used).
 * Admits when TAT ≤ now + τ and moves TAT one interval on; a TAT in the past counts as now,
 * which is what lets an idle subject burst again. The two branches are exactly the two
 * conditional writes a store makes (see functions/aws/limit-store.ts).
 */
export function gcra(tatUs: number | undefined, nowUs: number, p: GcraParams): GcraDecision {
  const base = tatUs === undefined || tatUs < nowUs ? nowUs : tatUs;
  if (base - nowUs > p.toleranceUs) return { admitted: false, retryAfterUs: base - p.toleranceUs - nowUs };
  return { admitted: true, tatUs: base + p.intervalUs };
}

/** Milliseconds (possibly fractional, from an injected clock) to integer microseconds. */
export const toMicros = (ms: number): number => Math.round(ms * 1000);

/** Whole seconds a client should wait: at least 1, as Retry-After must be. */
export const retryAfterSeconds = (us: number): number => Math.max(1, Math.ceil(us / US_PER_S));

/** What one header family reports: `limit`, what is left now, and seconds until it is full again. */
export interface LimitWindow {
  readonly limit: number;
  readonly remaining: number;
  readonly resetSeconds: number;
}

/**
 * The rate window at `tatUs`: the limit is the burst (what can be sent at once), remaining is
 * how many more requests would be admitted right now, reset is when the burst is whole again.
 */
export function rateWindow(tatUs: number | undefined, nowUs: number, p: GcraParams): LimitWindow {
  const base = tatUs === undefined || tatUs < nowUs ? nowUs : tatUs;
  const slack = nowUs + p.toleranceUs - base;
  const remaining = slack < 0 ? 0 : Math.min(p.burst, Math.floor(slack / p.intervalUs) + 1);
  return { limit: p.burst, remaining, resetSeconds: Math.ceil((base - nowUs) / US_PER_S) };
}

/** A UTC calendar month: `yyyy-mm`, and the epoch ms at which the next one starts. */
export interface MonthPeriod {
  readonly period: string;
  readonly startMs: number;
  readonly resetMs: number;
}

export function monthOf(nowMs: number): MonthPeriod {
  const d = new Date(nowMs);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  return {
    period: `${String(y).padStart(4, "0")}-${String(m + 1).padStart(2, "0")}`,
    startMs: Date.UTC(y, m, 1),
    resetMs: Date.UTC(y, m + 1, 1),
  };
}

/** A window of fixed UTC minutes has the same shape: a label and the bounds of the current one. */
export type MinutePeriod = MonthPeriod;

const MINUTE_MS = 60_000;

/** The fixed UTC minute of `nowMs`: `yyyy-mm-ddThh:mm`, resetting at the next whole minute. */
export function minuteOf(nowMs: number): MinutePeriod {
  const startMs = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS;
  return { period: new Date(startMs).toISOString().slice(0, 16), startMs, resetMs: startMs + MINUTE_MS };
}

/**
 * What settling adds to a per-minute reservation: actual − reserved while the minute it was
 * charged to lasts, nothing after. Once that minute is over no admission reads its window
 * again, so a correction would only cost a write; moving it to the current minute instead
 * would charge (or refund) one window for another's reservation, and a refund there could
 * let the current minute admit past its limit.
 */
export function minuteCorrection(minute: string, reserved: number, actualTokens: number, settledAtMs: number): number {
  return minuteOf(settledAtMs).period === minute ? Math.max(0, Math.ceil(actualTokens)) - reserved : 0;
}

/**
 * Tokens an admission reserves: the estimate, capped at the quota so a request estimated
 * above a whole month's quota is still admitted in a fresh month rather than never.
 */
export function tokenReservation(quota: number, estimate = 0): number {
  return Math.min(quota, Math.max(0, Math.ceil(estimate)));
}

/**
 * The most tokens already used at which a reservation of `reserve` is still admitted: the
 * reservation must fit, and with no estimate the quota must not be spent yet. Concurrent
 * admissions therefore never reserve past the quota; only settling above an estimate can.
 */
export function tokenCeiling(quota: number, reserve: number): number {
  return Math.min(quota - reserve, quota - 1);
}

/** A monthly (or per-minute) quota's window after `used` has been charged. */
export function quotaWindow(limit: number, used: number, month: MonthPeriod, nowMs: number): LimitWindow {
  return { limit, remaining: Math.max(0, limit - used), resetSeconds: Math.max(1, Math.ceil((month.resetMs - nowMs) / 1000)) };
}

/** The binding one of two windows: fewer remaining, or on a tie the one that takes longer to reset. */
export function tighter(a: LimitWindow | undefined, b: LimitWindow | undefined): LimitWindow | undefined {
  if (!a || !b) return a ?? b;
  if (a.remaining !== b.remaining) return a.remaining < b.remaining ? a : b;
  return a.resetSeconds >= b.resetSeconds ? a : b;
}

/** A monthly budget's window, in nano-units of the platform currency. */
export interface BudgetWindow {
  readonly limit: number;
  /** Spent and reserved (by requests in flight) this month; may exceed `limit` by a settlement above its reservation. */
  readonly spent: number;
  readonly remaining: number;
  /** Seconds to the next UTC month, when the budget is whole again. */
  readonly resetSeconds: number;
}

export function budgetWindow(limit: number, spent: number, month: MonthPeriod, nowMs: number): BudgetWindow {
  return { limit, spent, remaining: Math.max(0, limit - spent), resetSeconds: quotaWindow(limit, spent, month, nowMs).resetSeconds };
}

/** The budget with less money left; on a tie the smaller one (its headers then read the same either way). */
export function tighterBudget(a: BudgetWindow | undefined, b: BudgetWindow | undefined): BudgetWindow | undefined {
  if (!a || !b) return a ?? b;
  if (a.remaining !== b.remaining) return a.remaining < b.remaining ? a : b;
  return a.limit <= b.limit ? a : b;
}

/**
 * Nano-units a request reserves against a budget: its maximum cost, whole and non-negative.
 * Unlike tokens it is not capped at the budget: a request that may cost more than a whole
 * month's budget is refused (capping would let it overspend by the difference).
 */
export function costReservation(estimateNano = 0): number {
  const reserve = Math.max(0, Math.ceil(estimateNano));
  if (!Number.isSafeInteger(reserve)) throw new RangeError(`costEstimateNano must be a safe integer, got ${estimateNano}`);
  return reserve;
}

/**
 * The most already spent at which a reservation of `reserve` is still admitted: spent +
 * reserve ≤ budget, and with nothing to reserve the budget must not be spent yet (as
 * `tokenCeiling`). Negative when the reservation alone exceeds the budget: never admitted.
 */
export function budgetCeiling(budget: number, reserve: number): number {
  return Math.min(budget - reserve, budget - 1);
}
