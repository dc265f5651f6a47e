import type { BudgetAlert, BudgetAlertSink } from "./budget-alerts";
import type { CounterBounds, CounterKey, Counts, LimitCells } from "./cells";
import { withinBounds } from "./cells";
import type { HeldLease } from "./held-lease";
import {
  budgetWindow,
  costReservation,
  type GcraParams,
  gcraParams,
  type LimitWindow,
  type MinutePeriod,
  type MonthPeriod,
  minuteCorrection,
  minuteOf,
  monthOf,
  quotaWindow,
  rateWindow,
  retryAfterSeconds,
  tighter,
  tokenCeiling,
  tokenReservation,
  toMicros,
} from "./math";
import { chargedSpendKey, MonthlyBudgets, type Step, spendKey } from "./monthly-budgets";
import { type QuotaLeaseOptions, QuotaLeases } from "./quota-leases";
import { type HeldCells, type RateBlockOptions, RateBlocks } from "./rate-blocks";
import {
  type Admission,
  type AdmitContext,
  admitted,
  burstOf,
  freeHandle,
  hasLimits,
  type LimitHandle,
  type LimitStore,
  type RateLimitState,
  type Refused,
  refusalMessage,
  refused,
  type SettleUsage,
  type TenantLimits,
} from "./tenant-limits";

type MutableHandle = { -readonly [K in keyof LimitHandle]: LimitHandle[K] };

const minuteKey = (subject: string, m: MinutePeriod): CounterKey => ({ subject, window: "minute", period: m.period, endsAtMs: m.resetMs });
const monthKey = (subject: string, m: MonthPeriod): CounterKey => ({ subject, window: "month", period: m.period, endsAtMs: m.resetMs });
/** The key of a charged window; its end is only needed to create one, which these writes never do. */
const chargedKey = (subject: string, window: CounterKey["window"], period: string): CounterKey => ({
  subject,
  window,
  period,
  endsAtMs: 0,
});

/** What the ledger is built with besides its cells. */
export interface LedgerOptions {
  /** How long a concurrency slot outlives a holder that never settles. @default 120000 (ms) */
  readonly leaseMs?: number;
  /** Admit monthly quotas from leased blocks (quota-leases.ts); without it every admission charges the month's counter itself. */
  readonly quotaLeases?: QuotaLeaseOptions;
  /** Take the rate's GCRA cells in blocks (rate-blocks.ts); without it every admission writes the TAT. */
  readonly rateBlocks?: RateBlockOptions;
  /** Where budget thresholds are announced (budget-alerts.ts); without it none are (and none claimed). */
  readonly budgetAlerts?: BudgetAlertSink;
  /** Told when claiming or publishing an alert failed; the request goes on regardless. @default ignore */
  readonly onAlertError?: (err: unknown, alert: BudgetAlert | undefined) => void;
}

/**
 * `LimitStore` over any `LimitCells`: the ledger owns every limit rule, a store only stores.
 * Limits are charged in the order rate → tokens per minute → month (requests and tokens in
 * one write) → monthly budget → concurrency; a later refusal gives back what the earlier steps took.
 *
 * The monthly budget is not leased: every budgeted admission makes one conditional write to
 * the subject's budget cell (reserve the maximum cost) and every settlement that corrects it
 * one more, so a subject's budget item takes about two writes per request: DynamoDB's
 * per-item throughput (~1,000 writes/s) caps a subject near 500 budgeted requests/s, unlike
 * the leased request/token quotas. In exchange the budget holds exactly: concurrent
 * admissions never reserve past it, and only a settlement above its reservation can overshoot. The
 * minute comes before the month because, being short, it is the one that refuses under load:
 * refused there, a request has only its rate cell to give back and never writes the month's
 * counter, which every request of the month shares. A store error rejects after giving back
 * what was taken; the caller fails closed.
 */
export class LimitLedger implements LimitStore {
  private readonly done = new WeakSet<LimitHandle>();
  private readonly leaseMs: number;
  private readonly quota: QuotaLeases | undefined;
  /** The quota lease each admission's month charge came from. */
  private readonly fromLease = new WeakMap<LimitHandle, HeldLease>();
  private readonly rate: RateBlocks | undefined;
  /** The block of rate cells each admission's cell came from. */
  private readonly fromBlock = new WeakMap<LimitHandle, HeldCells>();
  private readonly budgets: MonthlyBudgets;

  constructor(
    private readonly cells: LimitCells,
    options: LedgerOptions = {},
  ) {
    this.leaseMs = options.leaseMs ?? 120_000;
    this.budgets = new MonthlyBudgets(cells, options.budgetAlerts, options.onAlertError);
    this.quota = options.quotaLeases ? new QuotaLeases(cells, options.quotaLeases) : undefined;
    this.rate = options.rateBlocks ? new RateBlocks(cells, options.rateBlocks) : undefined;
  }

  /** Gives back what this holder's quota leases did not use (a host shutting down). */
  async returnLeases(): Promise<void> {
    await this.quota?.returnAll();
  }

  async charge(subject: string, limits: TenantLimits, ctx: AdmitContext): Promise<Admission> {
    const handle: MutableHandle = freeHandle(subject, ctx.requestId);
    if (!hasLimits(limits)) return admitted(handle, {});
    let state: RateLimitState = {};
    try {
      const burst = burstOf(limits);
      if (limits.ratePerSecond !== undefined && burst !== undefined) {
        const p = gcraParams(limits.ratePerSecond, burst);
        const step = this.rate
          ? await this.takeRateBlock(handle, limits, p, toMicros(ctx.now))
          : await this.takeRateCell(subject, limits, p, toMicros(ctx.now));
        if (!step.admitted) return step;
        handle.rateIntervalUs = p.intervalUs;
        state = step.state;
      }
      if (limits.tokensPerMinute !== undefined) {
        const minute = minuteOf(ctx.now);
        const reserve = tokenReservation(limits.tokensPerMinute, ctx.tokenEstimate);
        const step = await this.chargeMinute(subject, limits, minute, reserve, ctx.now, state);
        if (!step.admitted) return await this.undoThen(handle, step);
        handle.minute = minute.period;
        handle.minuteTokensReserved = reserve;
        state = step.state;
      }
      if (limits.monthlyRequests !== undefined || limits.monthlyTokens !== undefined) {
        const month = monthOf(ctx.now);
        const reserve = limits.monthlyTokens === undefined ? undefined : tokenReservation(limits.monthlyTokens, ctx.tokenEstimate);
        const step = this.quota
          ? await this.leaseMonth(handle, limits, month, reserve, ctx.now, state)
          : await this.chargeMonth(subject, limits, month, reserve, ctx.now, state);
        if (!step.admitted) return await this.undoThen(handle, step);
        handle.month = month.period;
        handle.requestCharged = limits.monthlyRequests !== undefined;
        if (reserve !== undefined) handle.tokensReserved = reserve;
        state = step.state;
      }
      if (limits.monthlyBudget !== undefined) {
        const month = monthOf(ctx.now);
        const reserve = costReservation(ctx.costEstimateNano);
        const step = await this.budgets.reserve(subject, limits, limits.monthlyBudget, month, reserve, ctx.now, state);
        if (!step.admitted) return await this.undoThen(handle, step);
        handle.budget = {
          period: month.period,
          reservedNano: reserve,
          limitNano: limits.monthlyBudget,
          ...(limits.budgetAlertPercents ? { alertPercents: limits.budgetAlertPercents } : {}),
        };
        state = step.state;
      }
      if (limits.concurrency !== undefined) {
        const lease = { id: ctx.requestId, untilMs: ctx.now + this.leaseMs, max: limits.concurrency, nowMs: ctx.now };
        if (!(await this.cells.addLease(subject, lease))) {
          return await this.undoThen(handle, refused("concurrency", refusalMessage("concurrency", limits), 1, state));
        }
        handle.leased = true;
      }
    } catch (err) {
      // Fail closed, but give back what was taken; a write whose outcome is unknown stays charged.
      await this.undo(handle);
      throw err;
    }
    return admitted(handle, state);
  }

  async release(handle: LimitHandle, usage: SettleUsage): Promise<void> {
    if (this.done.has(handle)) return;
    this.done.add(handle);
    const writes: Promise<unknown>[] = [];
    if (handle.leased) writes.push(this.cells.removeLease(handle.subject, handle.requestId));
    if (handle.month !== undefined && handle.tokensReserved !== undefined && usage.actualTokens !== undefined) {
      const actual = Math.max(0, Math.ceil(usage.actualTokens));
      const tokens = actual - handle.tokensReserved;
      const lease = this.fromLease.get(handle);
      if (lease && this.quota) {
        this.quota.observeTokens(lease, actual);
        writes.push(this.quota.credit(lease, { requests: 0, tokens: -tokens }));
      } else if (tokens !== 0) writes.push(this.cells.adjustCounts(chargedKey(handle.subject, "month", handle.month), { tokens }));
    }
    if (handle.minute !== undefined && handle.minuteTokensReserved !== undefined && usage.actualTokens !== undefined) {
      const tokens = minuteCorrection(handle.minute, handle.minuteTokensReserved, usage.actualTokens, usage.now ?? Date.now());
      if (tokens !== 0) writes.push(this.cells.adjustCounts(chargedKey(handle.subject, "minute", handle.minute), { tokens }));
    }
    if (handle.budget !== undefined && usage.actualCostNano !== undefined)
      writes.push(this.budgets.settle(handle.subject, handle.budget, usage));
    await Promise.all(writes);
  }

  async cancel(handle: LimitHandle): Promise<void> {
    if (this.done.has(handle)) return;
    this.done.add(handle);
    await this.undo(handle, false);
  }

  async peek(subject: string, limits: TenantLimits, now: number): Promise<RateLimitState> {
    const month = monthOf(now);
    const burst = burstOf(limits);
    const minute = minuteOf(now);
    const monthly = limits.monthlyRequests !== undefined || limits.monthlyTokens !== undefined;
    const [tat, minuteCounts, monthCounts, spent] = await Promise.all([
      limits.ratePerSecond !== undefined ? this.cells.readTat(subject) : undefined,
      limits.tokensPerMinute !== undefined ? this.cells.readCounts(minuteKey(subject, minute)) : undefined,
      monthly ? this.cells.readCounts(monthKey(subject, month)) : undefined,
      limits.monthlyBudget !== undefined ? this.cells.readSpend(spendKey(subject, month)) : undefined,
    ]);
    const rate =
      limits.ratePerSecond !== undefined && burst !== undefined
        ? rateWindow(tat, toMicros(now), gcraParams(limits.ratePerSecond, burst))
        : undefined;
    const perMinute =
      limits.tokensPerMinute !== undefined ? quotaWindow(limits.tokensPerMinute, minuteCounts?.tokens ?? 0, minute, now) : undefined;
    const state = monthState(limits, month, monthCounts, now, {
      ...(rate ? { requests: rate } : {}),
      ...(perMinute ? { tokens: perMinute } : {}),
    });
    return limits.monthlyBudget === undefined ? state : { ...state, budget: budgetWindow(limits.monthlyBudget, spent ?? 0, month, now) };
  }

  private async takeRateCell(subject: string, limits: TenantLimits, p: GcraParams, nowUs: number): Promise<Step> {
    const out = await this.cells.advanceTat(subject, { nowUs, intervalUs: p.intervalUs, latestUs: nowUs + p.toleranceUs });
    const tat = out.value;
    if (out.ok) return { admitted: true, state: { requests: rateWindow(tat, nowUs, p) } };
    const message = refusalMessage("ratePerSecond", limits);
    if (tat !== undefined && tat - nowUs > p.toleranceUs) {
      return refused("ratePerSecond", message, retryAfterSeconds(tat - p.toleranceUs - nowUs), { requests: rateWindow(tat, nowUs, p) });
    }
    // Writers kept moving the TAT across `now` under the store: the subject is busy, so ask for a retry.
    return refused("ratePerSecond", message, 1, { requests: rateWindow(tat, nowUs, p) });
  }

  /** A rate cell from this holder's block: most admissions of a subject below its rate write nothing. */
  private async takeRateBlock(handle: LimitHandle, limits: TenantLimits, p: GcraParams, nowUs: number): Promise<Step> {
    const out = await (this.rate as RateBlocks).admit(handle.subject, p, nowUs);
    const window = rateWindow(out.tatUs, nowUs, p);
    if (out.ok) {
      this.fromBlock.set(handle, out.block);
      return { admitted: true, state: { requests: { ...window, remaining: Math.min(p.burst, window.remaining + out.block.left) } } };
    }
    const message = refusalMessage("ratePerSecond", limits);
    const tat = out.tatUs;
    if (!out.busy && tat !== undefined)
      return refused("ratePerSecond", message, retryAfterSeconds(tat - p.toleranceUs - nowUs), { requests: window });
    return refused("ratePerSecond", message, 1, { requests: window });
  }

  /** Reserves the request's tokens in this minute's window. */
  private async chargeMinute(
    subject: string,
    limits: TenantLimits,
    minute: MinutePeriod,
    reserve: number,
    now: number,
    state: RateLimitState,
  ): Promise<Step> {
    const limit = limits.tokensPerMinute ?? 0;
    const bounds = { tokensAtMost: tokenCeiling(limit, reserve) };
    const out = await this.cells.addCounts(minuteKey(subject, minute), { tokens: reserve }, bounds);
    const window = quotaWindow(limit, out.value.tokens, minute, now);
    if (out.ok) return { admitted: true, state: { ...state, tokens: window } };
    const message = refusalMessage("tokensPerMinute", limits, reserve);
    if (!withinBounds(out.value, bounds)) return refused("tokensPerMinute", message, window.resetSeconds, { ...state, tokens: window });
    return refused("tokensPerMinute", message, 1, state);
  }

  /** Charges the request and reserves the tokens of this month in one write. */
  private async chargeMonth(
    subject: string,
    limits: TenantLimits,
    month: MonthPeriod,
    reserve: number | undefined,
    now: number,
    state: RateLimitState,
  ): Promise<Step> {
    const requestQuota = limits.monthlyRequests;
    const tokenQuota = limits.monthlyTokens;
    const delta: Partial<Counts> = {
      ...(requestQuota !== undefined ? { requests: 1 } : {}),
      ...(tokenQuota !== undefined && reserve !== undefined ? { tokens: reserve } : {}),
    };
    const bounds: CounterBounds = {
      ...(requestQuota !== undefined ? { requestsBelow: requestQuota } : {}),
      ...(tokenQuota !== undefined && reserve !== undefined ? { tokensAtMost: tokenCeiling(tokenQuota, reserve) } : {}),
    };
    const out = await this.cells.addCounts(monthKey(subject, month), delta, bounds);
    const seen = monthState(limits, month, out.value, now, state);
    if (out.ok) return { admitted: true, state: seen };
    if (requestQuota !== undefined && out.value.requests >= requestQuota) {
      return refused("monthlyRequests", refusalMessage("monthlyRequests", limits), seen.requests?.resetSeconds ?? 1, seen);
    }
    if (tokenQuota !== undefined && bounds.tokensAtMost !== undefined && out.value.tokens > bounds.tokensAtMost) {
      // Not seen.tokens: that is the minute's window when it has fewer tokens left.
      const wait = quotaWindow(tokenQuota, out.value.tokens, month, now).resetSeconds;
      return refused("monthlyTokens", refusalMessage("monthlyTokens", limits, reserve), wait, seen);
    }
    // The store gave up on contention with counts that admit: ask for a retry.
    const kind = requestQuota !== undefined ? "monthlyRequests" : "monthlyTokens";
    return refused(kind, refusalMessage(kind, limits, reserve), 1, state);
  }

  /** The month's quotas from this holder's lease: most admissions write nothing. */
  private async leaseMonth(
    handle: MutableHandle,
    limits: TenantLimits,
    month: MonthPeriod,
    reserve: number | undefined,
    now: number,
    state: RateLimitState,
  ): Promise<Step> {
    const quota = this.quota as QuotaLeases;
    const out = await quota.admit({
      subject: handle.subject,
      key: monthKey(handle.subject, month),
      requestQuota: limits.monthlyRequests,
      tokenQuota: reserve === undefined ? undefined : limits.monthlyTokens,
      reserve: reserve ?? 0,
      now,
    });
    const seen = monthState(limits, month, out.used, now, state);
    if (out.ok) {
      handle.quotaLease = out.lease.id;
      this.fromLease.set(handle, out.lease);
      return { admitted: true, state: seen };
    }
    const message = refusalMessage(out.limit, limits, out.limit === "monthlyTokens" ? reserve : 0);
    if (out.busy) return refused(out.limit, message, 1, state);
    const quotaOf = out.limit === "monthlyRequests" ? limits.monthlyRequests : limits.monthlyTokens;
    const used = out.limit === "monthlyRequests" ? out.used.requests : out.used.tokens;
    return refused(out.limit, message, quotaWindow(quotaOf ?? 0, used, month, now).resetSeconds, seen);
  }

  private async undoThen(handle: LimitHandle, refusal: Refused): Promise<Refused> {
    // The refusal stands even if giving back fails: at worst one cell stays taken.
    await this.undo(handle);
    return refusal;
  }

  /** Gives back everything `handle` records as taken; with `quiet`, failures are swallowed. */
  private async undo(handle: LimitHandle, quiet = true): Promise<void> {
    const writes: Promise<unknown>[] = [];
    const block = this.fromBlock.get(handle);
    if (block && this.rate) writes.push(this.rate.credit(handle.subject, block));
    else if (handle.rateIntervalUs !== undefined) writes.push(this.cells.refundTat(handle.subject, handle.rateIntervalUs));
    const lease = this.fromLease.get(handle);
    if (lease && this.quota) {
      writes.push(this.quota.credit(lease, { requests: handle.requestCharged ? 1 : 0, tokens: handle.tokensReserved ?? 0 }));
    } else if (handle.month !== undefined) {
      const requests = handle.requestCharged ? -1 : 0;
      const tokens = -(handle.tokensReserved ?? 0);
      if (requests !== 0 || tokens !== 0) {
        const delta = { ...(requests !== 0 ? { requests } : {}), ...(tokens !== 0 ? { tokens } : {}) };
        writes.push(this.cells.adjustCounts(chargedKey(handle.subject, "month", handle.month), delta));
      }
    }
    if (handle.minute !== undefined && (handle.minuteTokensReserved ?? 0) !== 0) {
      const tokens = -(handle.minuteTokensReserved ?? 0);
      writes.push(this.cells.adjustCounts(chargedKey(handle.subject, "minute", handle.minute), { tokens }));
    }
    if (handle.budget !== undefined && handle.budget.reservedNano !== 0) {
      writes.push(this.cells.adjustSpend(chargedSpendKey(handle.subject, handle.budget.period), -handle.budget.reservedNano));
    }
    if (handle.leased) writes.push(this.cells.removeLease(handle.subject, handle.requestId));
    const results = await Promise.allSettled(writes);
    const failure = results.find((r) => r.status === "rejected");
    if (failure && !quiet) throw failure.reason;
  }
}

/** `state` with the month's request and token windows folded in. */
function monthState(limits: TenantLimits, month: MonthPeriod, c: Counts | undefined, now: number, state: RateLimitState): RateLimitState {
  let requests: LimitWindow | undefined = state.requests;
  if (limits.monthlyRequests !== undefined) requests = tighter(requests, quotaWindow(limits.monthlyRequests, c?.requests ?? 0, month, now));
  const tokens =
    limits.monthlyTokens === undefined
      ? state.tokens
      : tighter(state.tokens, quotaWindow(limits.monthlyTokens, c?.tokens ?? 0, month, now));
  return { ...(requests ? { requests } : {}), ...(tokens ? { tokens } : {}) };
}
