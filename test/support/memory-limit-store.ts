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
} from "../../functions/core/limits/cells";
import { type LedgerOptions, LimitLedger } from "../../functions/core/limits/ledger";

/** A subject's counter of one window. */
interface WindowCounts {
  readonly period: string;
  readonly counts: Counts;
  /** Quota leases recorded on a month's counter. */
  readonly leases: Map<string, QuotaLease>;
}

/**
 * `LimitCells` of one process: atomic because every operation runs synchronously. A subject
 * keeps its latest minute only, since no admission reads an older minute again.
 */
export class MemoryLimitCells implements LimitCells {
  private readonly tat = new Map<string, number>();
  private readonly counters = new Map<string, WindowCounts>();
  private readonly leases = new Map<string, Map<string, number>>();
  /** Each subject's spend per month, with the thresholds already claimed. */
  private readonly spend = new Map<string, { spentNano: number; alerted: Set<number> }>();

  async advanceTat(subject: string, step: TatStep): Promise<CellWrite<number | undefined>> {
    const tat = this.tat.get(subject);
    if (tat !== undefined && tat > step.latestUs) return { ok: false, value: tat };
    const next = (tat === undefined || tat < step.nowUs ? step.nowUs : tat) + step.intervalUs;
    this.tat.set(subject, next);
    return { ok: true, value: next };
  }

  async refundTat(subject: string, intervalUs: number): Promise<void> {
    const tat = this.tat.get(subject);
    if (tat !== undefined) this.tat.set(subject, tat - intervalUs);
  }

  async addCounts(key: CounterKey, delta: Partial<Counts>, bounds: CounterBounds): Promise<CellWrite<Counts>> {
    const current = this.current(key);
    const counts = current ?? { requests: 0, tokens: 0 };
    if (!withinBounds(counts, bounds)) return { ok: false, value: { ...counts } };
    counts.requests += delta.requests ?? 0;
    counts.tokens += delta.tokens ?? 0;
    if (!current) this.counters.set(slot(key), { period: key.period, counts, leases: new Map() });
    return { ok: true, value: { ...counts } };
  }

  async takeQuotaLease(key: CounterKey, lease: QuotaLease, bounds: CounterBounds, back?: LeaseReturn): Promise<CellWrite<QuotaCounts>> {
    const w = this.window(key) ?? { period: key.period, counts: { requests: 0, tokens: 0 }, leases: new Map<string, QuotaLease>() };
    if (!withinBounds(w.counts, bounds) || (back && !w.leases.has(back.id))) return { ok: false, value: quotaCounts(w) };
    if (back) this.end(w, back);
    w.counts.requests += lease.requests;
    w.counts.tokens += lease.tokens;
    w.leases.set(lease.id, { ...lease });
    this.counters.set(slot(key), w);
    return { ok: true, value: quotaCounts(w) };
  }

  async endQuotaLease(key: CounterKey, back: LeaseReturn): Promise<boolean> {
    const w = this.window(key);
    const held = w?.leases.get(back.id);
    if (!w || !held || (back.untilMs !== undefined && held.untilMs !== back.untilMs)) return false;
    this.end(w, back);
    return true;
  }

  async readQuotaLeases(key: CounterKey): Promise<QuotaCounts> {
    const w = this.window(key);
    return w ? quotaCounts(w) : { requests: 0, tokens: 0, leases: [] };
  }

  private end(w: WindowCounts, back: LeaseReturn): void {
    w.counts.requests -= back.requests;
    w.counts.tokens -= back.tokens;
    w.leases.delete(back.id);
  }

  async adjustCounts(key: CounterKey, delta: Partial<Counts>): Promise<void> {
    const counts = this.current(key);
    if (!counts) return;
    counts.requests += delta.requests ?? 0;
    counts.tokens += delta.tokens ?? 0;
  }

  async readCounts(key: CounterKey): Promise<Counts> {
    return { ...(this.current(key) ?? { requests: 0, tokens: 0 }) };
  }

  async readTat(subject: string): Promise<number | undefined> {
    return this.tat.get(subject);
  }

  async addLease(subject: string, lease: { id: string; untilMs: number; max: number; nowMs: number }): Promise<boolean> {
    const held = this.leases.get(subject) ?? new Map<string, number>();
    for (const [id, until] of held) if (until < lease.nowMs) held.delete(id);
    if (held.size >= lease.max) return false;
    held.set(lease.id, lease.untilMs);
    this.leases.set(subject, held);
    return true;
  }

  async removeLease(subject: string, id: string): Promise<void> {
    this.leases.get(subject)?.delete(id);
  }

  async addSpend(key: SpendKey, deltaNano: number, ceilingNano: number): Promise<CellWrite<number>> {
    const cell = this.spend.get(spendSlot(key));
    // The DynamoDB condition: attribute_not_exists(spentNano) OR spentNano <= :ceiling.
    if (cell && cell.spentNano > ceilingNano) return { ok: false, value: cell.spentNano };
    return { ok: true, value: this.addTo(key, deltaNano) };
  }

  async adjustSpend(key: SpendKey, deltaNano: number): Promise<number> {
    return this.addTo(key, deltaNano);
  }

  async readSpend(key: SpendKey): Promise<number> {
    return this.spend.get(spendSlot(key))?.spentNano ?? 0;
  }

  async claimBudgetAlert(key: SpendKey, thresholdPercent: number): Promise<boolean> {
    const cell = this.cell(key);
    if (cell.alerted.has(thresholdPercent)) return false;
    cell.alerted.add(thresholdPercent);
    return true;
  }

  private addTo(key: SpendKey, deltaNano: number): number {
    const cell = this.cell(key);
    cell.spentNano += deltaNano;
    return cell.spentNano;
  }

  private cell(key: SpendKey): { spentNano: number; alerted: Set<number> } {
    const slot = spendSlot(key);
    const found = this.spend.get(slot);
    if (found) return found;
    const created = { spentNano: 0, alerted: new Set<number>() };
    this.spend.set(slot, created);
    return created;
  }

  /** The counts of `key`'s window while it is the subject's latest of its kind. */
  private current(key: CounterKey): Counts | undefined {
    return this.window(key)?.counts;
  }

  private window(key: CounterKey): WindowCounts | undefined {
    const c = this.counters.get(slot(key));
    return c?.period === key.period ? c : undefined;
  }
}

const quotaCounts = (w: WindowCounts): QuotaCounts => ({ ...w.counts, leases: [...w.leases.values()].map((l) => ({ ...l })) });

const spendSlot = (k: SpendKey) => `${k.subject}|${k.period}`;

/** Months are kept by period (an injected clock may go back to one); a minute replaces the last. */
const slot = (k: CounterKey) => (k.window === "month" ? `${k.subject}|month|${k.period}` : `${k.subject}|minute`);

/** LimitStore of one process, for tests and single-process hosts: the ledger's rules on memory cells. */
export class MemoryLimitStore extends LimitLedger {
  /**
   * @param leaseMs how long a slot outlives a holder that never settles.
   * @param options budget alerts and the rest of the ledger's options.
   */
  constructor(leaseMs = 120_000, options: Omit<LedgerOptions, "leaseMs"> = {}) {
    super(new MemoryLimitCells(), { ...options, leaseMs });
  }
}
