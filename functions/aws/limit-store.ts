import { type DynamoDBDocumentClient, GetCommand, UpdateCommand, type UpdateCommandInput } from "@aws-sdk/lib-dynamodb";
import {
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
} from "../core/limits/math";
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
} from "../core/limits/tenant-limits";
import { isConditionFailed, whenConditionFails } from "./conditions";
import { KeyedGate } from "./keyed-gate";
import {
  CONC_SK,
  type ItemKey,
  leaseAdd,
  leaseCreate,
  leaseReclaim,
  leaseRelease,
  leasesOf,
  limitKey,
  minuteAdjust,
  minuteCharge,
  minuteSk,
  monthAdjust,
  monthCharge,
  monthSk,
  num,
  RATE_SK,
  rateAdvance,
  rateRefund,
  rateRestart,
  unwrap,
} from "./limit-items";

export interface LimitStoreOptions {
  /**
   * How long a concurrency slot outlives a holder that never releases it (a crashed or
   * timed-out process); set it above the longest request. @default 120000 (ms)
   */
  readonly leaseMs?: number;
  /** Days a month's counters are kept after the month ends (TTL). @default 400 */
  readonly keepMonthDays?: number;
  /** Conditional writes per limit before giving up when concurrent writers keep moving the state. @default 6 */
  readonly maxAttempts?: number;
  /**
   * Calls this process keeps in flight on one item; more wait here. DynamoDB applies writes
   * to one item one at a time anyway; the local host passes 8, because DynamoDB Local fails
   * writes that wait too long for an item's lock. @default unbounded
   */
  readonly maxInFlightPerItem?: number;
}

type Step = { readonly admitted: true; readonly state: RateLimitState } | Refused;
type Item = Record<string, unknown>;
type MutableHandle = { -readonly [K in keyof LimitHandle]: LimitHandle[K] };

/** At most this many subjects' last TAT are remembered, to pick the likely GCRA branch first. */
const HINTS = 10_000;
/** Expired leases removed per write; more wait for the next refusal. */
const RECLAIM_BATCH = 50;
/**
 * Seconds a minute's token window is kept after it ends (TTL): nothing reads it then, but a
 * process whose clock runs behind may still charge it.
 */
const KEEP_MINUTE_S = 300;

/**
 * LimitStore on the usage table. Each limit is one item changed by one conditional write, so
 * it holds across any number of processes: N concurrent admissions against k remaining admit
 * at most k. Limits are charged in the order rate → tokens per minute → month (requests and
 * tokens in one write) → concurrency; a later refusal gives back what the earlier steps took.
 * The minute's window comes before the month's because, being short, it is the one that
 * refuses under load: refused there, a request has only its rate cell to give back and never
 * writes the month's item, which every request of the month shares.
 *
 * Concurrency slots are leases (request id → end time) in one map: a holder that dies without
 * releasing blocks its slot for at most `leaseMs`, after which the next refused admission
 * removes it. Store errors (throttling, say) reject: the caller fails closed with a 503.
 */
export class DynamoLimitStore implements LimitStore {
  private readonly leaseMs: number;
  private readonly keepMonthDays: number;
  private readonly maxAttempts: number;
  private readonly tatHints = new Map<string, number>();
  private readonly done = new WeakSet<LimitHandle>();
  private readonly gate: KeyedGate;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    options: LimitStoreOptions = {},
  ) {
    this.leaseMs = options.leaseMs ?? 120_000;
    this.keepMonthDays = options.keepMonthDays ?? 400;
    this.maxAttempts = options.maxAttempts ?? 6;
    this.gate = new KeyedGate(options.maxInFlightPerItem ?? Number.POSITIVE_INFINITY);
  }

  async charge(subject: string, limits: TenantLimits, ctx: AdmitContext): Promise<Admission> {
    const handle: MutableHandle = freeHandle(subject, ctx.requestId);
    if (!hasLimits(limits)) return admitted(handle, {});
    let state: RateLimitState = {};
    try {
      const burst = burstOf(limits);
      if (limits.ratePerSecond !== undefined && burst !== undefined) {
        const p = gcraParams(limits.ratePerSecond, burst);
        const step = await this.takeRateCell(subject, limits, p, toMicros(ctx.now));
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
        const step = await this.chargeMonth(subject, limits, month, reserve, ctx.now, state);
        if (!step.admitted) return await this.undoThen(handle, step);
        handle.month = month.period;
        handle.requestCharged = limits.monthlyRequests !== undefined;
        if (reserve !== undefined) handle.tokensReserved = reserve;
        state = step.state;
      }
      if (limits.concurrency !== undefined) {
        const step = await this.takeSlot(subject, limits, ctx, state);
        if (!step.admitted) return await this.undoThen(handle, step);
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
    if (handle.leased) writes.push(this.update(leaseRelease(this.table, handle.subject, handle.requestId)));
    if (handle.month !== undefined && handle.tokensReserved !== undefined && usage.actualTokens !== undefined) {
      const input = monthAdjust(this.table, handle.subject, handle.month, {
        tokens: Math.max(0, Math.ceil(usage.actualTokens)) - handle.tokensReserved,
      });
      if (input) writes.push(this.update(input));
    }
    if (handle.minute !== undefined && handle.minuteTokensReserved !== undefined && usage.actualTokens !== undefined) {
      const correction = minuteCorrection(handle.minute, handle.minuteTokensReserved, usage.actualTokens, usage.now ?? Date.now());
      const input = minuteAdjust(this.table, handle.subject, handle.minute, correction);
      if (input) writes.push(this.update(input));
    }
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
    const [rateItem, minuteItem, monthItem] = await Promise.all([
      limits.ratePerSecond !== undefined ? this.get(limitKey(subject, RATE_SK)) : undefined,
      limits.tokensPerMinute !== undefined ? this.get(limitKey(subject, minuteSk(minute.period))) : undefined,
      monthly ? this.get(limitKey(subject, monthSk(month.period))) : undefined,
    ]);
    const rate =
      limits.ratePerSecond !== undefined && burst !== undefined
        ? rateWindow(num(rateItem?.tatUs), toMicros(now), gcraParams(limits.ratePerSecond, burst))
        : undefined;
    const perMinute =
      limits.tokensPerMinute !== undefined ? quotaWindow(limits.tokensPerMinute, num(minuteItem?.tokens) ?? 0, minute, now) : undefined;
    return this.monthState(limits, month, monthItem, now, {
      ...(rate ? { requests: rate } : {}),
      ...(perMinute ? { tokens: perMinute } : {}),
    });
  }

  /** GCRA as two conditional writes (advance a live TAT / restart an idle one), retried on races. */
  private async takeRateCell(subject: string, limits: TenantLimits, p: GcraParams, nowUs: number): Promise<Step> {
    // Unknown or stale hints only cost one failed write: decisions come from DynamoDB's answers.
    let tat = this.tatHints.get(subject);
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const live = tat !== undefined && tat >= nowUs;
      try {
        const out = await this.send({
          ...(live ? rateAdvance(this.table, subject, nowUs, p) : rateRestart(this.table, subject, nowUs, p)),
          ReturnValues: "UPDATED_NEW",
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        });
        const next = num(out.Attributes?.tatUs) ?? nowUs + p.intervalUs;
        this.remember(subject, next);
        return { admitted: true, state: { requests: rateWindow(next, nowUs, p) } };
      } catch (err) {
        const old = await this.oldItem(err, limitKey(subject, RATE_SK));
        tat = num(old?.tatUs);
        if (tat !== undefined) this.remember(subject, tat);
        if (tat !== undefined && tat - nowUs > p.toleranceUs) {
          return refused("ratePerSecond", refusalMessage("ratePerSecond", limits), retryAfterSeconds(tat - p.toleranceUs - nowUs), {
            requests: rateWindow(tat, nowUs, p),
          });
        }
      }
    }
    // Writers kept moving the TAT across `now` under us: the subject is busy, so ask for a retry.
    return refused("ratePerSecond", refusalMessage("ratePerSecond", limits), 1, { requests: rateWindow(tat, nowUs, p) });
  }

  /** Reserves the request's tokens in this minute's window: one conditional write. */
  private async chargeMinute(
    subject: string,
    limits: TenantLimits,
    minute: MinutePeriod,
    reserve: number,
    now: number,
    state: RateLimitState,
  ): Promise<Step> {
    const limit = limits.tokensPerMinute ?? 0;
    const ceiling = tokenCeiling(limit, reserve);
    const expiresAt = Math.ceil(minute.resetMs / 1000) + KEEP_MINUTE_S;
    const input = minuteCharge(this.table, subject, minute.period, { reserve, ceiling, expiresAt });
    const window = (item: Item | undefined) => quotaWindow(limit, num(item?.tokens) ?? 0, minute, now);
    const message = refusalMessage("tokensPerMinute", limits, reserve);
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      try {
        const out = await this.send({ ...input, ReturnValues: "UPDATED_NEW", ReturnValuesOnConditionCheckFailure: "ALL_OLD" });
        return { admitted: true, state: { ...state, tokens: window(out.Attributes) } };
      } catch (err) {
        const old = await this.oldItem(err, input.Key);
        if ((num(old?.tokens) ?? 0) > ceiling) {
          const seen = window(old);
          return refused("tokensPerMinute", message, seen.resetSeconds, { ...state, tokens: seen });
        }
        // A fallback read (see oldItem) saw a later state that admits: try again.
      }
    }
    return refused("tokensPerMinute", message, 1, state);
  }

  /** Charges the request and reserves the tokens of this month in one conditional write. */
  private async chargeMonth(
    subject: string,
    limits: TenantLimits,
    month: MonthPeriod,
    reserve: number | undefined,
    now: number,
    state: RateLimitState,
  ): Promise<Step> {
    const input = monthCharge(this.table, subject, month.period, {
      ...(limits.monthlyRequests !== undefined ? { requestQuota: limits.monthlyRequests } : {}),
      ...(limits.monthlyTokens !== undefined && reserve !== undefined
        ? { tokens: { reserve, ceiling: tokenCeiling(limits.monthlyTokens, reserve) } }
        : {}),
      expiresAt: Math.ceil(month.resetMs / 1000) + this.keepMonthDays * 86_400,
    });
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      try {
        const out = await this.send({ ...input, ReturnValues: "ALL_NEW", ReturnValuesOnConditionCheckFailure: "ALL_OLD" });
        return { admitted: true, state: this.monthState(limits, month, out.Attributes, now, state) };
      } catch (err) {
        const old = await this.oldItem(err, limitKey(subject, monthSk(month.period)));
        const seen = this.monthState(limits, month, old, now, state);
        if (limits.monthlyRequests !== undefined && (num(old?.requests) ?? 0) >= limits.monthlyRequests) {
          return refused("monthlyRequests", refusalMessage("monthlyRequests", limits), seen.requests?.resetSeconds ?? 1, seen);
        }
        if (
          limits.monthlyTokens !== undefined &&
          reserve !== undefined &&
          (num(old?.tokens) ?? 0) > tokenCeiling(limits.monthlyTokens, reserve)
        ) {
          // Not seen.tokens: that is the minute's window when it has fewer tokens left.
          const wait = quotaWindow(limits.monthlyTokens, num(old?.tokens) ?? 0, month, now).resetSeconds;
          return refused("monthlyTokens", refusalMessage("monthlyTokens", limits, reserve), wait, seen);
        }
        // A fallback read (see oldItem) saw a later state that admits: try again.
      }
    }
    const kind = limits.monthlyRequests !== undefined ? "monthlyRequests" : "monthlyTokens";
    return refused(kind, refusalMessage(kind, limits, reserve), 1, state);
  }

  /** Takes a lease; when the map is full, removes expired leases and tries again. */
  private async takeSlot(subject: string, limits: TenantLimits, ctx: AdmitContext, state: RateLimitState): Promise<Step> {
    const max = limits.concurrency ?? 0;
    const until = ctx.now + this.leaseMs;
    let mapExists = true;
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      try {
        const input = mapExists
          ? leaseAdd(this.table, subject, ctx.requestId, until, max)
          : leaseCreate(this.table, subject, ctx.requestId, until);
        await this.send({ ...input, ReturnValuesOnConditionCheckFailure: "ALL_OLD" });
        return { admitted: true, state };
      } catch (err) {
        const old = await this.oldItem(err, limitKey(subject, CONC_SK));
        const leases = leasesOf(old);
        mapExists = leases !== undefined;
        if (!leases || leases.length < max) continue;
        const expired = leases.filter(([, end]) => end < ctx.now).slice(0, RECLAIM_BATCH);
        if (expired.length === 0) return refused("concurrency", refusalMessage("concurrency", limits), 1, state);
        await this.update(leaseReclaim(this.table, subject, expired));
      }
    }
    return refused("concurrency", refusalMessage("concurrency", limits), 1, state);
  }

  private monthState(limits: TenantLimits, month: MonthPeriod, item: Item | undefined, now: number, state: RateLimitState): RateLimitState {
    let requests: LimitWindow | undefined = state.requests;
    if (limits.monthlyRequests !== undefined) {
      requests = tighter(requests, quotaWindow(limits.monthlyRequests, num(item?.requests) ?? 0, month, now));
    }
    const tokens =
      limits.monthlyTokens === undefined
        ? state.tokens
        : tighter(state.tokens, quotaWindow(limits.monthlyTokens, num(item?.tokens) ?? 0, month, now));
    return { ...(requests ? { requests } : {}), ...(tokens ? { tokens } : {}) };
  }

  private async undoThen(handle: LimitHandle, refusal: Refused): Promise<Refused> {
    // The refusal stands even if giving back fails: at worst one cell stays taken.
    await this.undo(handle);
    return refusal;
  }

  /** Gives back everything `handle` records as taken; with `quiet`, failures are swallowed. */
  private async undo(handle: LimitHandle, quiet = true): Promise<void> {
    const writes: Promise<unknown>[] = [];
    if (handle.rateIntervalUs !== undefined) {
      this.tatHints.delete(handle.subject);
      writes.push(this.update(rateRefund(this.table, handle.subject, handle.rateIntervalUs)));
    }
    if (handle.month !== undefined) {
      const input = monthAdjust(this.table, handle.subject, handle.month, {
        requests: handle.requestCharged ? -1 : 0,
        tokens: -(handle.tokensReserved ?? 0),
      });
      if (input) writes.push(this.update(input));
    }
    if (handle.minute !== undefined) {
      const input = minuteAdjust(this.table, handle.subject, handle.minute, -(handle.minuteTokensReserved ?? 0));
      if (input) writes.push(this.update(input));
    }
    if (handle.leased) writes.push(this.update(leaseRelease(this.table, handle.subject, handle.requestId)));
    const results = await Promise.allSettled(writes);
    const failure = results.find((r) => r.status === "rejected");
    if (failure && !quiet) throw failure.reason;
  }

  /** A write whose condition only guards against a missing or already-changed item: its failure is fine. */
  private async update(input: UpdateCommandInput & { Key: ItemKey }): Promise<void> {
    await whenConditionFails(this.send(input), () => undefined);
  }

  /**
   * The item a conditional write failed on: from ReturnValuesOnConditionCheckFailure, or, when
   * the error carries none (no item, or a store without the feature), a consistent read.
   * Rethrows anything that is not a failed condition.
   */
  private async oldItem(err: unknown, key: ItemKey): Promise<Item | undefined> {
    if (!isConditionFailed(err)) throw err;
    const item = (err as { Item?: Record<string, unknown> }).Item;
    if (item) return unwrap(item);
    return this.get(key);
  }

  private async get(key: ItemKey): Promise<Item | undefined> {
    const out = await this.gate.run(gateKey(key), () =>
      this.doc.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true })),
    );
    return out.Item;
  }

  private send(input: UpdateCommandInput & { Key: ItemKey }) {
    return this.gate.run(gateKey(input.Key), () => this.doc.send(new UpdateCommand(input)));
  }

  private remember(subject: string, tat: number): void {
    if (this.tatHints.size >= HINTS) this.tatHints.clear();
    this.tatHints.set(subject, tat);
  }
}

const gateKey = (k: ItemKey) => `${k.pk}|${k.sk}`;
