import { type DynamoDBDocumentClient, GetCommand, UpdateCommand, type UpdateCommandInput } from "@aws-sdk/lib-dynamodb";
import type { BudgetAlert, BudgetAlertSink } from "../core/limits/budget-alerts";
import {
  type CellWrite,
  type CounterBounds,
  type CounterKey,
  type Counts,
  type LeaseReturn,
  type LimitCells,
  type QuotaCounts,
  type QuotaLease,
  type SpendKey,
  type TatStep,
  withinBounds,
} from "../core/limits/cells";
import { LimitLedger } from "../core/limits/ledger";
import type { QuotaLeaseOptions } from "../core/limits/quota-leases";
import { isConditionFailed, whenConditionFails } from "./conditions";
import { KeyedGate } from "./keyed-gate";
import {
  alertClaim,
  CONC_SK,
  counterAdjust,
  counterCharge,
  counterKey,
  type ItemKey,
  leaseAdd,
  leaseCreate,
  leaseReclaim,
  leaseRelease,
  leasesOf,
  limitKey,
  num,
  quotaLeaseEnd,
  quotaLeasesOf,
  quotaLeaseTake,
  RATE_SK,
  rateAdvance,
  rateRefund,
  rateRestart,
  spendAdjust,
  spendKey,
  spendReserve,
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
  /** Conditional writes per operation before giving up when concurrent writers keep moving the state. @default 6 */
  readonly maxAttempts?: number;
  /**
   * Calls this process keeps in flight on one item; more wait here. DynamoDB applies writes
   * to one item one at a time anyway; the local host passes 8, because DynamoDB Local fails
   * writes that wait too long for an item's lock. @default unbounded
   */
  readonly maxInFlightPerItem?: number;
  /**
   * Processes expected to share a subject (Lambda instances, local functions): quota leases
   * and rate blocks take at most what remains / (2 × this). @default 8
   */
  readonly holders?: number;
  /**
   * Monthly quotas from leased blocks (functions/core/limits/quota-leases.ts); `false`: every
   * admission writes the month's counter. `settleMs` defaults to `leaseMs` (the longest
   * request and a margin). @default leases with the cloud's defaults
   */
  readonly quotaLeases?: Partial<QuotaLeaseOptions> | false;
  /** The rate's cells in blocks (functions/core/limits/rate-blocks.ts); `false`: a TAT write per admission. @default blocks */
  readonly rateBlocks?: false;
  /** Where budget thresholds are announced (EventBridgeBudgetAlerts in the cloud); none without it. */
  readonly budgetAlerts?: BudgetAlertSink;
  /** Told when an alert could not be claimed or published (log it); the request goes on. */
  readonly onAlertError?: (err: unknown, alert: BudgetAlert | undefined) => void;
}

type Item = Record<string, unknown>;

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
 * `LimitCells` on the usage table (item layout in limit-items.ts). Each cell is one item
 * changed by one conditional write, so the ledger's rules hold across any number of
 * processes: N concurrent admissions against k remaining admit at most k.
 *
 * What stays here is storage: which of the two GCRA write forms to try first (a TAT hint per
 * subject), retrying a write whose fallback read saw an admitting state, creating the lease
 * map, and removing expired leases when the map is full. Each operation gives up after
 * `maxAttempts` writes and reports what it saw last.
 */
export class DynamoLimitCells implements LimitCells {
  private readonly keepMonthDays: number;
  private readonly maxAttempts: number;
  private readonly tatHints = new Map<string, number>();
  /** MONTH items known to have a lease map, so the first write tries the right form. */
  private readonly leaseMaps = new Set<string>();
  private readonly gate: KeyedGate;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    options: LimitStoreOptions = {},
  ) {
    this.keepMonthDays = options.keepMonthDays ?? 400;
    this.maxAttempts = options.maxAttempts ?? 6;
    this.gate = new KeyedGate(options.maxInFlightPerItem ?? Number.POSITIVE_INFINITY);
  }

  /** GCRA as two conditional writes (advance a live TAT / restart an idle one), retried on races. */
  async advanceTat(subject: string, step: TatStep): Promise<CellWrite<number | undefined>> {
    // Unknown or stale hints only cost one failed write: decisions come from DynamoDB's answers.
    let tat = this.tatHints.get(subject);
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const live = tat !== undefined && tat >= step.nowUs;
      try {
        const out = await this.send({
          ...(live ? rateAdvance(this.table, subject, step) : rateRestart(this.table, subject, step)),
          ReturnValues: "UPDATED_NEW",
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        });
        const next = num(out.Attributes?.tatUs) ?? step.nowUs + step.intervalUs;
        this.remember(subject, next);
        return { ok: true, value: next };
      } catch (err) {
        const old = await this.oldItem(err, limitKey(subject, RATE_SK));
        tat = num(old?.tatUs);
        if (tat !== undefined) this.remember(subject, tat);
        if (tat !== undefined && tat > step.latestUs) return { ok: false, value: tat };
      }
    }
    return { ok: false, value: tat };
  }

  async refundTat(subject: string, intervalUs: number): Promise<void> {
    this.tatHints.delete(subject);
    await this.update(rateRefund(this.table, subject, intervalUs));
  }

  async addCounts(key: CounterKey, delta: Partial<Counts>, bounds: CounterBounds): Promise<CellWrite<Counts>> {
    const keepS = key.window === "minute" ? KEEP_MINUTE_S : this.keepMonthDays * 86_400;
    const input = counterCharge(this.table, key, delta, bounds, Math.ceil(key.endsAtMs / 1000) + keepS);
    let seen: Counts = { requests: 0, tokens: 0 };
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      try {
        const out = await this.send({ ...input, ReturnValues: "ALL_NEW", ReturnValuesOnConditionCheckFailure: "ALL_OLD" });
        return { ok: true, value: countsOf(out.Attributes) };
      } catch (err) {
        seen = countsOf(await this.oldItem(err, input.Key));
        if (!withinBounds(seen, bounds)) return { ok: false, value: seen };
        // A fallback read (see oldItem) saw a later state that admits: try again.
      }
    }
    return { ok: false, value: seen };
  }

  /** One conditional write; retried when a fallback read saw an admitting state or the map's existence was guessed wrong. */
  async takeQuotaLease(key: CounterKey, lease: QuotaLease, bounds: CounterBounds, back?: LeaseReturn): Promise<CellWrite<QuotaCounts>> {
    const expiresAt = Math.ceil(key.endsAtMs / 1000) + this.keepMonthDays * 86_400;
    let mapExists = this.leaseMaps.has(gateKey(counterKey(key))) || back !== undefined;
    let seen: QuotaCounts = { requests: 0, tokens: 0, leases: [] };
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const input = quotaLeaseTake(this.table, key, lease, bounds, back, mapExists, expiresAt);
      try {
        const out = await this.send({ ...input, ReturnValues: "ALL_NEW", ReturnValuesOnConditionCheckFailure: "ALL_OLD" });
        this.rememberMap(gateKey(input.Key));
        return { ok: true, value: quotaCountsOf(out.Attributes) };
      } catch (err) {
        const old = await this.oldItem(err, input.Key);
        seen = quotaCountsOf(old);
        // An earlier attempt of this very take landed and its answer was lost (a timeout the SDK
        // retried): the stored leases already hold this lease, and `back` was ended with it.
        if (seen.leases.some((l) => l.id === lease.id)) {
          this.rememberMap(gateKey(input.Key));
          return { ok: true, value: seen };
        }
        const hasMap = typeof old?.leases === "object" && old.leases !== null;
        if (!withinBounds(seen, bounds) || (back && !seen.leases.some((l) => l.id === back.id))) return { ok: false, value: seen };
        if (hasMap) this.rememberMap(gateKey(input.Key));
        mapExists = hasMap;
      }
    }
    return { ok: false, value: seen };
  }

  async endQuotaLease(key: CounterKey, back: LeaseReturn): Promise<boolean> {
    return await whenConditionFails(
      this.send(quotaLeaseEnd(this.table, key, back)).then(() => true),
      () => false,
    );
  }

  async readQuotaLeases(key: CounterKey): Promise<QuotaCounts> {
    return quotaCountsOf(await this.get(counterKey(key)));
  }

  async adjustCounts(key: CounterKey, delta: Partial<Counts>): Promise<void> {
    const input = counterAdjust(this.table, key, delta);
    if (input) await this.update(input);
  }

  async readCounts(key: CounterKey): Promise<Counts> {
    return countsOf(await this.get(counterKey(key)));
  }

  async readTat(subject: string): Promise<number | undefined> {
    return num((await this.get(limitKey(subject, RATE_SK)))?.tatUs);
  }

  /**
   * One conditional write per budgeted admission on the subject's BUDGET#<month> item (see
   * limit-items.ts): ~1,000 writes/s per item make ~500 budgeted requests/s per subject
   * (reserve + settle). Retried only when a fallback read saw a spend that admits.
   */
  async addSpend(key: SpendKey, deltaNano: number, ceilingNano: number): Promise<CellWrite<number>> {
    const input = spendReserve(this.table, key, deltaNano, ceilingNano, this.monthExpiry(key));
    let seen = 0;
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      try {
        const out = await this.send({ ...input, ReturnValues: "UPDATED_NEW", ReturnValuesOnConditionCheckFailure: "ALL_OLD" });
        return { ok: true, value: num(out.Attributes?.spentNano) ?? deltaNano };
      } catch (err) {
        const spent = num((await this.oldItem(err, input.Key))?.spentNano);
        seen = spent ?? 0;
        if (spent !== undefined && spent > ceilingNano) return { ok: false, value: spent };
      }
    }
    return { ok: false, value: seen };
  }

  async adjustSpend(key: SpendKey, deltaNano: number): Promise<number> {
    const out = await this.send({ ...spendAdjust(this.table, key, deltaNano, this.monthExpiry(key)), ReturnValues: "UPDATED_NEW" });
    return num(out.Attributes?.spentNano) ?? deltaNano;
  }

  async readSpend(key: SpendKey): Promise<number> {
    return num((await this.get(spendKey(key)))?.spentNano) ?? 0;
  }

  async claimBudgetAlert(key: SpendKey, thresholdPercent: number, atMs: number): Promise<boolean> {
    return await whenConditionFails(
      this.send(alertClaim(this.table, key, thresholdPercent, atMs, this.monthExpiry(key))).then(() => true),
      () => false,
    );
  }

  /** A month's items are kept `keepMonthDays` after it ends. */
  private monthExpiry(key: { readonly endsAtMs: number }): number {
    return Math.ceil(key.endsAtMs / 1000) + this.keepMonthDays * 86_400;
  }

  /** Takes a lease; when the map is full, removes expired leases and tries again. */
  async addLease(subject: string, lease: { id: string; untilMs: number; max: number; nowMs: number }): Promise<boolean> {
    let mapExists = true;
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      try {
        const input = mapExists
          ? leaseAdd(this.table, subject, lease.id, lease.untilMs, lease.max)
          : leaseCreate(this.table, subject, lease.id, lease.untilMs);
        await this.send({ ...input, ReturnValuesOnConditionCheckFailure: "ALL_OLD" });
        return true;
      } catch (err) {
        const old = await this.oldItem(err, limitKey(subject, CONC_SK));
        const leases = leasesOf(old);
        mapExists = leases !== undefined;
        if (!leases || leases.length < lease.max) continue;
        const expired = leases.filter(([, end]) => end < lease.nowMs).slice(0, RECLAIM_BATCH);
        if (expired.length === 0) return false;
        await this.update(leaseReclaim(this.table, subject, expired));
      }
    }
    return false;
  }

  async removeLease(subject: string, id: string): Promise<void> {
    await this.update(leaseRelease(this.table, subject, id));
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

  private rememberMap(key: string): void {
    if (this.leaseMaps.size >= HINTS) this.leaseMaps.clear();
    this.leaseMaps.add(key);
  }

  private remember(subject: string, tat: number): void {
    if (this.tatHints.size >= HINTS) this.tatHints.clear();
    this.tatHints.set(subject, tat);
  }
}

/**
 * LimitStore on the usage table: the ledger's rules (functions/core/limits/ledger.ts) on
 * DynamoDB cells. Store errors (throttling, say) reject: the caller fails closed with a 503.
 */
export class DynamoLimitStore extends LimitLedger {
  constructor(doc: DynamoDBDocumentClient, table: string, options: LimitStoreOptions = {}) {
    const leaseMs = options.leaseMs ?? 120_000;
    const holders = options.holders ?? 8;
    const quotaLeases = options.quotaLeases === false ? undefined : { settleMs: leaseMs, holders, ...options.quotaLeases };
    super(new DynamoLimitCells(doc, table, options), {
      leaseMs,
      ...(quotaLeases ? { quotaLeases } : {}),
      ...(options.rateBlocks === false ? {} : { rateBlocks: { holders } }),
      ...(options.budgetAlerts ? { budgetAlerts: options.budgetAlerts } : {}),
      ...(options.onAlertError ? { onAlertError: options.onAlertError } : {}),
    });
  }
}

const gateKey = (k: ItemKey) => `${k.pk}|${k.sk}`;
const countsOf = (item: Item | undefined): Counts => ({ requests: num(item?.requests) ?? 0, tokens: num(item?.tokens) ?? 0 });
const quotaCountsOf = (item: Item | undefined): QuotaCounts => ({ ...countsOf(item), leases: quotaLeasesOf(item) });
