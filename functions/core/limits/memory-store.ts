import {
  gcra,
  gcraParams,
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
  refusalMessage,
  refused,
  type SettleUsage,
  type TenantLimits,
} from "./tenant-limits";

interface Counters {
  requests: number;
  tokens: number;
}

/** A subject's current per-minute token window; an older minute's counts are of no use. */
interface MinuteCount {
  readonly period: string;
  tokens: number;
}

/**
 * LimitStore of one process, for tests and single-process hosts: the same semantics as the
 * DynamoDB store (same math, same order, refusals consume nothing), atomic because every
 * admission runs synchronously.
 */
export class MemoryLimitStore implements LimitStore {
  private readonly tat = new Map<string, number>();
  private readonly months = new Map<string, Counters>();
  private readonly minutes = new Map<string, MinuteCount>();
  private readonly leases = new Map<string, Map<string, number>>();
  private readonly done = new WeakSet<LimitHandle>();

  /** @param leaseMs how long a slot outlives a holder that never settles. */
  constructor(private readonly leaseMs = 120_000) {}

  async charge(subject: string, limits: TenantLimits, ctx: AdmitContext): Promise<Admission> {
    if (!hasLimits(limits)) return admitted(freeHandle(subject, ctx.requestId), {});
    const nowUs = toMicros(ctx.now);
    const month = monthOf(ctx.now);
    let state: RateLimitState = {};
    let rateIntervalUs: number | undefined;
    let nextTat: number | undefined;
    const burst = burstOf(limits);
    if (limits.ratePerSecond !== undefined && burst !== undefined) {
      const p = gcraParams(limits.ratePerSecond, burst);
      const d = gcra(this.tat.get(subject), nowUs, p);
      if (!d.admitted) {
        const window = rateWindow(this.tat.get(subject), nowUs, p);
        return refused("ratePerSecond", refusalMessage("ratePerSecond", limits), retryAfterSeconds(d.retryAfterUs), { requests: window });
      }
      nextTat = d.tatUs;
      rateIntervalUs = p.intervalUs;
      state = { requests: rateWindow(d.tatUs, nowUs, p) };
    }
    const minute = minuteOf(ctx.now);
    const current = this.minutes.get(subject);
    const minuteUsed = current?.period === minute.period ? current.tokens : 0;
    const minuteReserve = limits.tokensPerMinute === undefined ? 0 : tokenReservation(limits.tokensPerMinute, ctx.tokenEstimate);
    if (limits.tokensPerMinute !== undefined) {
      if (minuteUsed > tokenCeiling(limits.tokensPerMinute, minuteReserve)) {
        const window = quotaWindow(limits.tokensPerMinute, minuteUsed, minute, ctx.now);
        return refused("tokensPerMinute", refusalMessage("tokensPerMinute", limits, minuteReserve), window.resetSeconds, {
          ...state,
          tokens: window,
        });
      }
      // The window as it stands once this admission is charged (as the DynamoDB store reports it).
      state = { ...state, tokens: quotaWindow(limits.tokensPerMinute, minuteUsed + minuteReserve, minute, ctx.now) };
    }
    const key = `${subject}|${month.period}`;
    const counters = this.months.get(key) ?? { requests: 0, tokens: 0 };
    const reserve = limits.monthlyTokens === undefined ? 0 : tokenReservation(limits.monthlyTokens, ctx.tokenEstimate);
    if (limits.monthlyRequests !== undefined && counters.requests >= limits.monthlyRequests) {
      const window = quotaWindow(limits.monthlyRequests, counters.requests, month, ctx.now);
      return refused("monthlyRequests", refusalMessage("monthlyRequests", limits), window.resetSeconds, {
        requests: tighter(state.requests, window),
      });
    }
    if (limits.monthlyTokens !== undefined && counters.tokens > tokenCeiling(limits.monthlyTokens, reserve)) {
      const window = quotaWindow(limits.monthlyTokens, counters.tokens, month, ctx.now);
      return refused("monthlyTokens", refusalMessage("monthlyTokens", limits, reserve), window.resetSeconds, {
        ...state,
        tokens: tighter(state.tokens, window),
      });
    }
    const held = this.leases.get(subject) ?? new Map<string, number>();
    if (limits.concurrency !== undefined) {
      for (const [id, until] of held) if (until < ctx.now) held.delete(id);
      if (held.size >= limits.concurrency) {
        return refused("concurrency", refusalMessage("concurrency", limits), 1, state);
      }
      held.set(ctx.requestId, ctx.now + this.leaseMs);
      this.leases.set(subject, held);
    }
    if (nextTat !== undefined) this.tat.set(subject, nextTat);
    if (limits.tokensPerMinute !== undefined) this.minutes.set(subject, { period: minute.period, tokens: minuteUsed + minuteReserve });
    if (limits.monthlyRequests !== undefined) counters.requests++;
    if (limits.monthlyTokens !== undefined) counters.tokens += reserve;
    this.months.set(key, counters);
    if (limits.monthlyRequests !== undefined) {
      state = { ...state, requests: tighter(state.requests, quotaWindow(limits.monthlyRequests, counters.requests, month, ctx.now)) };
    }
    if (limits.monthlyTokens !== undefined)
      state = { ...state, tokens: tighter(state.tokens, quotaWindow(limits.monthlyTokens, counters.tokens, month, ctx.now)) };
    const monthly = limits.monthlyRequests !== undefined || limits.monthlyTokens !== undefined;
    return admitted(
      {
        subject,
        requestId: ctx.requestId,
        ...(rateIntervalUs !== undefined ? { rateIntervalUs } : {}),
        ...(monthly ? { month: month.period } : {}),
        requestCharged: limits.monthlyRequests !== undefined,
        ...(limits.tokensPerMinute !== undefined ? { minute: minute.period, minuteTokensReserved: minuteReserve } : {}),
        ...(limits.monthlyTokens !== undefined ? { tokensReserved: reserve } : {}),
        leased: limits.concurrency !== undefined,
      },
      state,
    );
  }

  async release(handle: LimitHandle, usage: SettleUsage): Promise<void> {
    if (this.done.has(handle)) return;
    this.done.add(handle);
    if (handle.leased) this.leases.get(handle.subject)?.delete(handle.requestId);
    const c = handle.month === undefined ? undefined : this.months.get(`${handle.subject}|${handle.month}`);
    if (c && handle.tokensReserved !== undefined && usage.actualTokens !== undefined)
      c.tokens += Math.max(0, Math.ceil(usage.actualTokens)) - handle.tokensReserved;
    const m = this.minuteOfHandle(handle);
    if (m && handle.minuteTokensReserved !== undefined && usage.actualTokens !== undefined)
      m.tokens += minuteCorrection(m.period, handle.minuteTokensReserved, usage.actualTokens, usage.now ?? Date.now());
  }

  async cancel(handle: LimitHandle): Promise<void> {
    if (this.done.has(handle)) return;
    this.done.add(handle);
    if (handle.leased) this.leases.get(handle.subject)?.delete(handle.requestId);
    const tat = this.tat.get(handle.subject);
    if (handle.rateIntervalUs !== undefined && tat !== undefined) this.tat.set(handle.subject, tat - handle.rateIntervalUs);
    const c = handle.month === undefined ? undefined : this.months.get(`${handle.subject}|${handle.month}`);
    if (c && handle.requestCharged) c.requests--;
    if (c && handle.tokensReserved !== undefined) c.tokens -= handle.tokensReserved;
    const m = this.minuteOfHandle(handle);
    if (m && handle.minuteTokensReserved !== undefined) m.tokens -= handle.minuteTokensReserved;
  }

  /** The minute window `handle` charged, while it is still the subject's current one. */
  private minuteOfHandle(handle: LimitHandle): MinuteCount | undefined {
    const m = handle.minute === undefined ? undefined : this.minutes.get(handle.subject);
    return m?.period === handle.minute ? m : undefined;
  }

  async peek(subject: string, limits: TenantLimits, now: number): Promise<RateLimitState> {
    const month = monthOf(now);
    const c = this.months.get(`${subject}|${month.period}`) ?? { requests: 0, tokens: 0 };
    const burst = burstOf(limits);
    const rate =
      limits.ratePerSecond !== undefined && burst !== undefined
        ? rateWindow(this.tat.get(subject), toMicros(now), gcraParams(limits.ratePerSecond, burst))
        : undefined;
    const quota = limits.monthlyRequests === undefined ? undefined : quotaWindow(limits.monthlyRequests, c.requests, month, now);
    const requests = tighter(rate, quota);
    const minute = minuteOf(now);
    const m = this.minutes.get(subject);
    const perMinute =
      limits.tokensPerMinute === undefined
        ? undefined
        : quotaWindow(limits.tokensPerMinute, m?.period === minute.period ? m.tokens : 0, minute, now);
    const monthly = limits.monthlyTokens === undefined ? undefined : quotaWindow(limits.monthlyTokens, c.tokens, month, now);
    const tokens = tighter(perMinute, monthly);
    return { ...(requests ? { requests } : {}), ...(tokens ? { tokens } : {}) };
  }
}
