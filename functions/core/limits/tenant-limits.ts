import { BudgetExceededError, RateLimitedError } from "../errors";
import { formatAmount } from "../money/amount";
import type { BudgetWindow, LimitWindow } from "./math";
import { tighter, tighterBudget } from "./math";

/**
 * Per-tenant (and optionally per-key) limits, enforced before a model is called. This file
 * holds the shapes, the validator, the `LimitStore` port and the response headers; the
 * arithmetic lives in `limits/math.ts`, the rules (order, refusals, give-backs) in
 * `limits/ledger.ts` (monthly quotas from leased blocks: `limits/quota-leases.ts`), the cells
 * port in `limits/cells.ts`, and the stores' cells in the in-memory test store (`test/support/memory-limit-store.ts`) and
 * `functions/aws/limit-store.ts`.
 */

/** Limits of one subject (a tenant, or one key of it). An absent field is no limit. */
export interface TenantLimits {
  /** Sustained requests per second (GCRA). */
  readonly ratePerSecond?: number;
  /** Requests that may arrive at once on top of an idle rate. @default ratePerSecond */
  readonly burst?: number;
  /** Model tokens (input + output) per UTC minute: a fixed window, reserved and settled like `monthlyTokens`. */
  readonly tokensPerMinute?: number;
  /** Requests per UTC calendar month. */
  readonly monthlyRequests?: number;
  /** Model tokens (input + output) per UTC calendar month. */
  readonly monthlyTokens?: number;
  /** Requests in flight at once. */
  readonly concurrency?: number;
  /**
   * Money per UTC calendar month, in nano-units (1e-9) of the platform currency: each request
   * reserves its maximum cost (`AdmitContext.costEstimateNano`) before the call and settles to
   * its real cost after. A positive safe integer, so at most `Number.MAX_SAFE_INTEGER` nano-units:
   * about 9,007,199 currency units a month per subject. The admin API and the CLI take it as a
   * decimal string in the platform currency ("25.00") and show it so.
   */
  readonly monthlyBudget?: number;
  /**
   * Percentages of `monthlyBudget` announced to the budget alert sink, each once a month
   * (whole numbers 1..1000; above 100 warns of overspend). Not a limit: it needs `monthlyBudget`.
   * @default [50, 80, 100]
   */
  readonly budgetAlertPercents?: readonly number[];
}

/** The limits that are numbers (all but the alert percentages). */
export type NumericLimit = Exclude<keyof TenantLimits, "budgetAlertPercents">;

export type LimitKind = Exclude<NumericLimit, "burst">;

/**
 * Upper bounds, each for a reason: a rate above 10^6/s would need sub-microsecond GCRA cells;
 * concurrency slots are entries of one DynamoDB item (400 KB, and every write is billed by
 * the item's size), so they stay small.
 */
export const LIMIT_MAXIMUMS: Readonly<Record<NumericLimit, number>> = {
  ratePerSecond: 1_000_000,
  burst: 1_000_000,
  tokensPerMinute: Number.MAX_SAFE_INTEGER,
  monthlyRequests: Number.MAX_SAFE_INTEGER,
  monthlyTokens: Number.MAX_SAFE_INTEGER,
  concurrency: 1_000,
  // A budget is summed in JavaScript numbers: exact only up to 2^53 − 1 nano-units.
  monthlyBudget: Number.MAX_SAFE_INTEGER,
};

const FIELDS = Object.keys(LIMIT_MAXIMUMS) as NumericLimit[];
const KNOWN: readonly string[] = [...FIELDS, "budgetAlertPercents"];
/** At most this many alert thresholds per budget (each is a marker on the month's budget item). */
export const MAX_BUDGET_ALERTS = 10;

export type LimitsValidation = { readonly ok: true; readonly limits: TenantLimits } | { readonly ok: false; readonly message: string };

/**
 * Checks untrusted input (an admin API body, a config file) and returns the limits or one
 * message naming the first bad field. Every limit is a positive integer; `burst` needs a rate.
 */
export function validateLimits(input: unknown): LimitsValidation {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return bad("limits must be an object");
  const record = input as Record<string, unknown>;
  const unknown = Object.keys(record).filter((k) => !KNOWN.includes(k));
  if (unknown.length > 0) return bad(`unknown limit '${unknown[0]}' (known: ${KNOWN.join(", ")})`);
  const limits: Record<string, number | readonly number[]> = {};
  for (const field of FIELDS) {
    const v = record[field];
    if (v === undefined) continue;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1) return bad(`${field} must be a positive integer, got ${JSON.stringify(v)}`);
    if (v > LIMIT_MAXIMUMS[field]) return bad(`${field} must be at most ${LIMIT_MAXIMUMS[field]}, got ${v}`);
    limits[field] = v;
  }
  if (limits.burst !== undefined && limits.ratePerSecond === undefined) return bad("burst needs ratePerSecond");
  const percents = record.budgetAlertPercents;
  if (percents !== undefined) {
    if (limits.monthlyBudget === undefined) return bad("budgetAlertPercents needs monthlyBudget");
    const ok =
      Array.isArray(percents) && percents.length <= MAX_BUDGET_ALERTS && percents.every((t) => Number.isInteger(t) && t >= 1 && t <= 1000);
    if (!ok) {
      return bad(
        `budgetAlertPercents must be at most ${MAX_BUDGET_ALERTS} whole percentages from 1 to 1000, got ${JSON.stringify(percents)?.slice(0, 80)}`,
      );
    }
    limits.budgetAlertPercents = [...new Set(percents as number[])].sort((a, b) => a - b);
  }
  return { ok: true, limits: limits as TenantLimits };
}

const bad = (message: string): LimitsValidation => ({ ok: false, message });

/** Whether any limit is set; a subject without limits costs no store calls at all. */
export function hasLimits(l: TenantLimits): boolean {
  return FIELDS.some((f) => l[f] !== undefined);
}

export const burstOf = (l: TenantLimits): number | undefined => l.burst ?? l.ratePerSecond;

/**
 * The key whose limit counters a key charges: itself, or for a key created by rotation the
 * key it replaced (so rotating never resets a key's quota).
 */
export const limitKeyOf = (k: { readonly keyId: string; readonly limitKeyId?: string | undefined }): string => k.limitKeyId ?? k.keyId;

/** The subject string of a tenant's own limits or of one of its keys' (no `#`: it goes into keys). */
export function limitSubject(tenantId: string, keyId?: string): string {
  return keyId === undefined ? tenantId : `${tenantId}/${keyId}`;
}

/** The windows reported to clients; a family is absent when no limit of it is set. */
export interface RateLimitState {
  /** The binding one of the rate and the monthly request quota. */
  readonly requests?: LimitWindow;
  /** The binding one of the per-minute and the monthly token limit. */
  readonly tokens?: LimitWindow;
  /** The monthly budget with the least money left (tenant's or key's), in nano-units. */
  readonly budget?: BudgetWindow;
}

/**
 * `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`: reset is in whole seconds from now
 * (the same unit as Retry-After). Empty when no limit applies.
 */
export function rateLimitHeaders(state: RateLimitState): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const family of ["requests", "tokens"] as const) {
    const w = state[family];
    if (!w) continue;
    headers[`x-ratelimit-limit-${family}`] = String(w.limit);
    headers[`x-ratelimit-remaining-${family}`] = String(w.remaining);
    headers[`x-ratelimit-reset-${family}`] = String(w.resetSeconds);
  }
  // Money as decimal strings in currency units (the currency is the platform's; the ledger does not know it).
  if (state.budget) {
    headers["x-budget-limit"] = formatAmount(BigInt(state.budget.limit));
    headers["x-budget-remaining"] = formatAmount(BigInt(state.budget.remaining));
  }
  return headers;
}

/** The state of two subjects (tenant and key) as one: each family's binding window. */
export function mergeStates(a: RateLimitState, b: RateLimitState): RateLimitState {
  const requests = tighter(a.requests, b.requests);
  const tokens = tighter(a.tokens, b.tokens);
  const budget = tighterBudget(a.budget, b.budget);
  return { ...(requests ? { requests } : {}), ...(tokens ? { tokens } : {}), ...(budget ? { budget } : {}) };
}

/** Per-request facts an admission needs. */
export interface AdmitContext {
  /** Epoch milliseconds; injected so tests (and the month boundary) are deterministic. */
  readonly now: number;
  /** Unique per request: names the concurrency slot it holds. */
  readonly requestId: string;
  /**
   * Tokens to reserve against `tokensPerMinute` and `monthlyTokens` (an upper bound such as
   * max_tokens keeps them exact). @default 0: then a request is only refused once a limit is spent.
   */
  readonly tokenEstimate?: number;
  /**
   * The request's maximum cost in nano-units (1e-9) of the platform currency, a safe integer,
   * reserved against `monthlyBudget` before the call. 0 or undefined: nothing is reserved, and
   * the request is only refused once a budget is spent.
   */
  readonly costEstimateNano?: number;
}

/** What an admission reserved against a monthly budget (plain data, like the rest of the handle). */
export interface BudgetCharge {
  /** The `yyyy-mm` whose spend was charged. */
  readonly period: string;
  /** Nano-units reserved. */
  readonly reservedNano: number;
  /** The budget and its alert thresholds, for the alerts a settlement above the reservation may cross. */
  readonly limitNano: number;
  readonly alertPercents?: readonly number[];
}

/**
 * What an admission charged, for `release`/`cancel`. Plain data the issuing store interprets;
 * callers only pass it back.
 */
export interface LimitHandle {
  readonly subject: string;
  readonly requestId: string;
  /** The GCRA interval taken from the rate, when a rate applies. */
  readonly rateIntervalUs?: number;
  /** The `yyyy-mm` whose counters were charged, when a monthly limit applies. */
  readonly month?: string;
  readonly requestCharged: boolean;
  /** The UTC minute (`yyyy-mm-ddThh:mm`) whose token window was charged, when `tokensPerMinute` applies. */
  readonly minute?: string;
  /** Tokens reserved in that minute's window. */
  readonly minuteTokensReserved?: number;
  /** Tokens reserved, when `monthlyTokens` applies. */
  readonly tokensReserved?: number;
  /** Whether a concurrency slot is held. */
  readonly leased: boolean;
  /** The id of the quota lease the month's charge came from, when quotas are leased. */
  readonly quotaLease?: string;
  /** The reservation against `monthlyBudget`, when a budget applies. */
  readonly budget?: BudgetCharge;
}

export interface Admitted {
  readonly admitted: true;
  readonly handle: LimitHandle;
  readonly state: RateLimitState;
  readonly headers: Readonly<Record<string, string>>;
}

export interface Refused {
  readonly admitted: false;
  /** The limit that refused. */
  readonly limit: LimitKind;
  readonly message: string;
  /** Whole seconds ≥ 1. */
  readonly retryAfterSeconds: number;
  readonly state: RateLimitState;
  readonly headers: Readonly<Record<string, string>>;
}

export type Admission = Admitted | Refused;

export interface SettleUsage {
  /** Tokens the model really used; omit when unknown to keep the reservation as the charge. */
  readonly actualTokens?: number;
  /**
   * Epoch ms of the settlement: a per-minute reservation is corrected only while its minute
   * lasts (see `settleMinute`). @default Date.now()
   */
  readonly now?: number;
  /**
   * The request's real cost in nano-units of the platform currency; omit to keep the
   * reservation (`costEstimateNano`) as the charge.
   */
  readonly actualCostNano?: number;
}

/**
 * Atomic limit accounting, shared by every process serving a subject. `charge` either charges
 * every set limit or nothing (a refusal consumes nothing); store errors (throttling, say)
 * reject, and the caller fails closed.
 */
export interface LimitStore {
  charge(subject: string, limits: TenantLimits, ctx: AdmitContext): Promise<Admission>;
  /**
   * After the model call (or its failure): frees the concurrency slot and corrects the token
   * reservation to `actualTokens`. The request stays counted. A second call does nothing.
   */
  release(handle: LimitHandle, usage: SettleUsage): Promise<void>;
  /**
   * Undoes an admission that will not reach the model (another subject refused, say): gives
   * back the rate cell, the request, the tokens and the slot. A second call does nothing.
   */
  cancel(handle: LimitHandle): Promise<void>;
  /** The windows as they stand, charging nothing (for usage reads). */
  peek(subject: string, limits: TenantLimits, now: number): Promise<RateLimitState>;
  /** Gives back what this holder's leased blocks did not use: a host shutting down calls it. */
  returnLeases?(): Promise<void>;
}

export function admitted(handle: LimitHandle, state: RateLimitState): Admitted {
  return { admitted: true, handle, state, headers: rateLimitHeaders(state) };
}

export function refused(limit: LimitKind, message: string, retryAfterSeconds: number, state: RateLimitState): Refused {
  return {
    admitted: false,
    limit,
    message,
    retryAfterSeconds: Math.max(1, Math.ceil(retryAfterSeconds)),
    state,
    headers: rateLimitHeaders(state),
  };
}

/** Why a request was refused, in words a client can act on. */
export function refusalMessage(kind: LimitKind, l: TenantLimits, reservedTokens = 0): string {
  switch (kind) {
    case "ratePerSecond":
      return `rate limit of ${l.ratePerSecond} requests/s (burst ${burstOf(l)}) exceeded`;
    case "tokensPerMinute":
      return reservedTokens > 0
        ? `tokens-per-minute limit of ${l.tokensPerMinute} reached: this minute cannot cover the ${reservedTokens} tokens this request may use`
        : `tokens-per-minute limit of ${l.tokensPerMinute} reached for this minute`;
    case "monthlyRequests":
      return `monthly request quota of ${l.monthlyRequests} is used up`;
    case "monthlyTokens":
      return reservedTokens > 0
        ? `monthly token quota of ${l.monthlyTokens} cannot cover the ${reservedTokens} tokens this request may use`
        : `monthly token quota of ${l.monthlyTokens} is used up`;
    case "concurrency":
      return `concurrency limit of ${l.concurrency} requests in flight reached`;
    case "monthlyBudget":
      return budgetRefusalMessage(l.monthlyBudget ?? 0, undefined, 0);
  }
}

/**
 * Why a budget refused, with the amounts as decimal strings in currency units. No currency
 * is named: the ledger does not know the platform's, and every amount here is in it.
 */
export function budgetRefusalMessage(budgetNano: number, spentNano: number | undefined, reserveNano: number): string {
  const budget = formatAmount(BigInt(budgetNano));
  const spent = spentNano === undefined ? "" : ` (${formatAmount(BigInt(spentNano))} spent or reserved)`;
  if (reserveNano > budgetNano) {
    return `monthly budget of ${budget} cannot cover this request, which may cost up to ${formatAmount(BigInt(reserveNano))}: ask for less output or a larger budget`;
  }
  return reserveNano > 0
    ? `monthly budget of ${budget}${spent} cannot cover the ${formatAmount(BigInt(reserveNano))} this request may cost`
    : `monthly budget of ${budget} is spent${spent}`;
}

/** The handle of a subject with no limits: nothing charged, nothing to release. */
export const freeHandle = (subject: string, requestId: string): LimitHandle => ({
  subject,
  requestId,
  requestCharged: false,
  leased: false,
});

/**
 * The 429 for a refusal, carrying Retry-After and the x-ratelimit-* headers: `budget_exceeded`
 * (`insufficient_quota` on the OpenAI routes) for a spent budget, `rate_limited` otherwise.
 */
export function refusalError(r: Refused): RateLimitedError | BudgetExceededError {
  const options = { retryAfterSeconds: r.retryAfterSeconds, headers: r.headers };
  return r.limit === "monthlyBudget" ? new BudgetExceededError(r.message, options) : new RateLimitedError(r.message, options);
}

/** The tenant id and (for a key's limits) the key id of a `limitSubject`. */
export function subjectParts(subject: string): { readonly tenantId: string; readonly keyId?: string } {
  const at = subject.indexOf("/");
  return at < 0 ? { tenantId: subject } : { tenantId: subject.slice(0, at), keyId: subject.slice(at + 1) };
}

/** One subject's limits to check for a request. */
export interface LimitCheck {
  readonly subject: string;
  readonly limits: TenantLimits;
}

export interface AdmittedAll {
  readonly admitted: true;
  /** Pass to `releaseAll` once the model call is over. */
  readonly handles: readonly LimitHandle[];
  readonly state: RateLimitState;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Charges a request to several subjects (tenant and key) at once: all are charged, or the
 * admitted ones are cancelled and the refusal with the longest wait is returned. Subjects
 * without limits cost nothing.
 */
export async function chargeAll(store: LimitStore, checks: readonly LimitCheck[], ctx: AdmitContext): Promise<AdmittedAll | Refused> {
  const active = checks.filter((c) => hasLimits(c.limits));
  const results = await Promise.allSettled(active.map((c) => store.charge(c.subject, c.limits, ctx)));
  const granted = results.flatMap((r) => (r.status === "fulfilled" && r.value.admitted ? [r.value] : []));
  const failure = results.find((r) => r.status === "rejected");
  const refusals = results.flatMap((r) => (r.status === "fulfilled" && !r.value.admitted ? [r.value] : []));
  if (failure || refusals.length > 0) {
    // Best effort: a cancel that fails leaks one cell until the month / lease runs out.
    await Promise.allSettled(granted.map((a) => store.cancel(a.handle)));
    if (failure) throw failure.reason;
    return refusals.reduce((a, b) => (b.retryAfterSeconds > a.retryAfterSeconds ? b : a));
  }
  const state = granted.reduce<RateLimitState>((s, a) => mergeStates(s, a.state), {});
  return { admitted: true, handles: granted.map((a) => a.handle), state, headers: rateLimitHeaders(state) };
}

/** The quota leases an admission came from: its usage record carries them, so a reclaim can count it. */
export const quotaLeasesOf = (handles: readonly LimitHandle[]): string[] => handles.flatMap((h) => (h.quotaLease ? [h.quotaLease] : []));

/** Settles every handle of an `chargeAll`; rejects if any store call failed (after trying all). */
export async function releaseAll(store: LimitStore, handles: readonly LimitHandle[], usage: SettleUsage): Promise<void> {
  const results = await Promise.allSettled(handles.map((h) => store.release(h, usage)));
  const failure = results.find((r) => r.status === "rejected");
  if (failure) throw failure.reason;
}
