/**
 * The storage port under `LimitLedger` (ledger.ts): a few atomic operations on a subject's cells, with
 * every bound passed in as a number. A store holds no limit rule: it never sees a limit, a
 * refusal or a window, only "change this cell if it still satisfies that". Each operation
 * is one conditional write in DynamoDB and a synchronous step in memory.
 *
 * Retrying belongs to the store when it is about storage (a write lost to a concurrent
 * writer, a fallback read that saw an admitting state, which write form to try first); a
 * store gives up after its own number of attempts and reports the last value it saw. Whether
 * that value means "over the limit" or "busy" is the ledger's call.
 */
export interface LimitCells {
  /**
   * GCRA's one step: an absent TAT or one before `nowUs` becomes `nowUs + intervalUs`; one in
   * `[nowUs, latestUs]` moves on by `intervalUs`; a later one stays. Returns the TAT written,
   * or on failure the last TAT seen.
   */
  advanceTat(subject: string, step: TatStep): Promise<CellWrite<number | undefined>>;
  /** Moves a TAT back by `intervalUs` (a cancelled admission); nothing when there is none. */
  refundTat(subject: string, intervalUs: number): Promise<void>;
  /**
   * Adds `delta` to a counter (creating it) if it is within `bounds`; returns the counts after
   * the write, or on failure the last counts seen (which may be within bounds after contention).
   */
  addCounts(key: CounterKey, delta: Partial<Counts>, bounds: CounterBounds): Promise<CellWrite<Counts>>;
  /** Adds deltas to an existing counter (settlement, cancellation); never creates one. */
  adjustCounts(key: CounterKey, delta: Partial<Counts>): Promise<void>;
  readCounts(key: CounterKey): Promise<Counts>;
  readTat(subject: string): Promise<number | undefined>;
  /**
   * Holds lease `id` until `untilMs` if fewer than `max` leases end at or after `nowMs`; the
   * store removes expired ones as it needs the room.
   */
  addLease(subject: string, lease: { id: string; untilMs: number; max: number; nowMs: number }): Promise<boolean>;
  /** Frees a lease; a missing one is fine. */
  removeLease(subject: string, id: string): Promise<void>;
  /**
   * Debits a quota lease from a month's counter in one write (creating the counter): adds
   * `lease.requests` and `lease.tokens`, records the lease, and when `back` is given, ends that
   * lease in the same write (subtracts its unused part, removes it). Applies only if the counts
   * before the write are within `bounds` and `back` (when given) is still recorded. Returns the
   * counter after the write, or on failure the last state seen.
   */
  takeQuotaLease(key: CounterKey, lease: QuotaLease, bounds: CounterBounds, back?: LeaseReturn): Promise<CellWrite<QuotaCounts>>;
  /**
   * Ends a quota lease: subtracts its unused part and removes it, only if it is still recorded
   * (and, with `back.untilMs`, still ends then). Returns whether it did.
   */
  endQuotaLease(key: CounterKey, back: LeaseReturn): Promise<boolean>;
  /** A month's counter with its recorded quota leases. */
  readQuotaLeases(key: CounterKey): Promise<QuotaCounts>;
  /**
   * Reserves against a monthly budget in one conditional write: adds `deltaNano` to the
   * month's spend (creating the cell) if nothing is spent yet or the spend is at most
   * `ceilingNano`. Returns the spend after the write, or on failure the last spend seen.
   * Unlike the leased quotas, every budgeted admission writes this one cell.
   */
  addSpend(key: SpendKey, deltaNano: number, ceilingNano: number): Promise<CellWrite<number>>;
  /** Adds `deltaNano` (a settlement, a give-back) to a month's spend, unconditionally; returns the spend after it. */
  adjustSpend(key: SpendKey, deltaNano: number): Promise<number>;
  readSpend(key: SpendKey): Promise<number>;
  /**
   * Claims the announcement of one threshold (percent) of a month's budget: true for exactly
   * one caller per subject, month and threshold, however many ask at once.
   */
  claimBudgetAlert(key: SpendKey, thresholdPercent: number, atMs: number): Promise<boolean>;
}

/** A subject's spend in one UTC calendar month (nano-units); `endsAtMs` lets a store expire it. */
export interface SpendKey {
  readonly subject: string;
  /** `yyyy-mm`. */
  readonly period: string;
  readonly endsAtMs: number;
}

/** A block of a month's quota debited to one holder; the counter counts it as used until it ends. */
export interface QuotaLease {
  readonly id: string;
  readonly requests: number;
  readonly tokens: number;
  /** Epoch ms it was taken. */
  readonly fromMs: number;
  /** The holder admits from it until then. */
  readonly untilMs: number;
  /** After this, no request admitted under it can still write a usage record: anyone may reclaim it. */
  readonly reclaimAtMs: number;
}

/** The part of a lease given back when it ends (tokens may be negative: settled above the reservations). */
export interface LeaseReturn {
  readonly id: string;
  readonly requests: number;
  readonly tokens: number;
  /** Only if the lease still ends then (a reclaim by another holder). */
  readonly untilMs?: number;
}

export interface QuotaCounts extends Counts {
  readonly leases: readonly QuotaLease[];
}

export interface TatStep {
  readonly nowUs: number;
  readonly intervalUs: number;
  /** The latest TAT that still admits (now + tolerance). */
  readonly latestUs: number;
}

export type CellWrite<T> = { readonly ok: boolean; readonly value: T };

export interface Counts {
  requests: number;
  tokens: number;
}

/** A counter of one subject and one fixed window; `endsAtMs` lets a store expire it. */
export interface CounterKey {
  readonly subject: string;
  readonly window: "minute" | "month";
  readonly period: string;
  readonly endsAtMs: number;
}

/** The write applies only while `requests < requestsBelow` and `tokens <= tokensAtMost` (absent: 0). */
export interface CounterBounds {
  readonly requestsBelow?: number;
  readonly tokensAtMost?: number;
}

/** Whether counts are within bounds: the one condition a counter write checks. */
export const withinBounds = (c: Counts, b: CounterBounds): boolean =>
  (b.requestsBelow === undefined || c.requests < b.requestsBelow) && (b.tokensAtMost === undefined || c.tokens <= b.tokensAtMost);
