import { randomBytes } from "node:crypto";
import type { UsageReader } from "../ports";
import type { CounterBounds, CounterKey, Counts, LeaseReturn, LimitCells, QuotaCounts, QuotaLease } from "./cells";
import { fits, HeldLease, type QuotaAdmission, type QuotaNeed } from "./held-lease";
import { usedUnderLease } from "./lease-records";

/**
 * Monthly quotas admitted from leased blocks, so that most admissions cost no write.
 *
 * A holder (one process: a Lambda instance, the local host) debits a block from the month's
 * counter with one conditional write ("add n only if n remain"), recording the lease (id,
 * size, end) on the same item. It then admits from the block in memory, and gives back what
 * it did not use in the write that takes its next block, when the block has been idle for
 * `idleMs`, when its `leaseMs` are over, or at shutdown. The counter counts a leased block as
 * used until it ends, so however many holders lease at once, the leases and the admitted
 * requests together never exceed the quota.
 *
 * Sizes: a holder's next block doubles while its blocks run out before they end, and falls to
 * what it used when one ends with a rest. Whatever that says, a block is at most
 * ⌊remaining / (2 × holders)⌋ (at least 1): the nearer the quota is to its end, the smaller
 * the blocks, down to single requests once fewer than 2 × holders remain, where every
 * admission is again one conditional write of one request and no block can sit unused in an
 * idle holder while another refuses.
 *
 * A holder that dies keeps its lease recorded. Once the lease is past `reclaimAtMs` (its end
 * plus the longest time from an admission to that request's usage record, `settleMs`), no
 * request admitted under it can still be recorded: whoever finds it counts the usage records
 * that carry its id and gives back the rest, in one write conditional on the lease still
 * being there, so a lease ends exactly once, by its holder or by a reclaim.
 */
export interface QuotaLeaseOptions {
  /** How long a holder admits from one lease. @default 30000 (ms) */
  readonly leaseMs?: number;
  /**
   * The longest time from a request's admission to its usage record being written, plus the
   * clock skew between holders: a lease is reclaimable this long after it ends.
   */
  readonly settleMs: number;
  /** Holders expected to share a subject: a lease takes at most remaining / (2 × this). @default 8 */
  readonly holders?: number;
  /** Most requests in one lease. @default 10000 */
  readonly maxRequests?: number;
  /** A lease unused for this long (real time) is given back; 0: only when it ends or at shutdown. @default 2000 */
  readonly idleMs?: number;
  /** How long a holder refuses from memory once it found the counter spent (then it reads it again). @default 1000 */
  readonly recheckMs?: number;
  /**
   * Where a reclaim counts the usage records carrying a lease id. Without it a dead holder's
   * lease is never given back: its whole block stays counted (never an overshoot).
   */
  readonly usage?: Pick<UsageReader, "records">;
}

interface Slot {
  lease?: HeldLease;
  pending?: Promise<unknown>;
  /** The counter after this holder's last write (leases included); undefined before the first. */
  seen?: Counts;
  nextRequests: number;
  /** Tokens per request, for sizing token blocks. */
  tokensPerRequest: number;
  exhausted?: { readonly requestQuota?: number; readonly tokenQuota?: number; readonly need: number; readonly untilMs: number };
  timer?: ReturnType<typeof setTimeout>;
}

/** Rounds one admission waits on other admissions' writes (each gives it a new chance, none costs it a write). */
const MAX_ROUNDS = 1_000;
/** Conditional writes one top-up makes before it answers "busy" (each store write also retries contention itself). */
const MAX_OWN_WRITES = 4;
const MAX_SLOTS = 10_000;
const RECLAIMS_PER_WRITE = 5;

export class QuotaLeases {
  private readonly slots = new Map<string, Slot>();
  private readonly leaseMs: number;
  private readonly holders: number;
  private readonly maxRequests: number;
  private readonly idleMs: number;
  private readonly recheckMs: number;

  constructor(
    private readonly cells: LimitCells,
    private readonly options: QuotaLeaseOptions,
  ) {
    this.leaseMs = options.leaseMs ?? 30_000;
    this.holders = options.holders ?? 8;
    this.maxRequests = options.maxRequests ?? 10_000;
    this.idleMs = options.idleMs ?? 2_000;
    this.recheckMs = options.recheckMs ?? 1_000;
  }

  /** Admits one request from this holder's lease, taking a new one when it cannot. */
  async admit(need: QuotaNeed): Promise<QuotaAdmission> {
    const slot = this.slotOf(need);
    let own = 0;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const lease = slot.lease;
      if (lease && fits(lease, need)) return { ok: true, lease: this.consume(slot, lease, need), used: usedBy(slot, lease) };
      const cached = cachedRefusal(slot, need);
      if (cached) return { ok: false, limit: cached, busy: false, used: usedBy(slot, lease) };
      if (slot.pending) {
        await slot.pending.catch(() => undefined);
        continue;
      }
      if (++own > 3) break;
      const topUp = this.topUp(slot, need);
      slot.pending = topUp;
      let outcome: QuotaAdmission | undefined;
      try {
        outcome = await topUp;
      } finally {
        slot.pending = undefined;
      }
      if (outcome) return outcome;
    }
    return {
      ok: false,
      limit: need.requestQuota !== undefined ? "monthlyRequests" : "monthlyTokens",
      busy: true,
      used: slot.seen ?? zero(),
    };
  }

  /** Gives back to `lease` what a cancelled request took (or settles a token difference). */
  async credit(lease: HeldLease, delta: Counts): Promise<void> {
    if (delta.requests === 0 && delta.tokens === 0) return;
    // Something came back: a refusal remembered from before may no longer hold.
    const slot = this.slots.get(slotKey(lease.key));
    if (slot && (delta.requests > 0 || delta.tokens > 0)) slot.exhausted = undefined;
    if (lease.state === "live") {
      lease.requestsLeft += delta.requests;
      lease.tokensLeft += delta.tokens;
      return;
    }
    // Returned: its rest was counted without this change, so it goes to the counter. Lost: a
    // reclaim counts the usage records instead, which already say what this request used.
    if (lease.state === "returned") {
      await this.cells.adjustCounts(lease.key, {
        ...(delta.requests !== 0 ? { requests: -delta.requests } : {}),
        ...(delta.tokens !== 0 ? { tokens: -delta.tokens } : {}),
      });
    }
  }

  /** Tokens a settled request really used, for sizing the next token block. */
  observeTokens(lease: HeldLease, tokens: number): void {
    const slot = this.slots.get(slotKey(lease.key));
    if (slot) slot.tokensPerRequest = Math.max(1, Math.round((slot.tokensPerRequest * 7 + tokens) / 8));
  }

  /** Gives back every live lease (a host shutting down). */
  async returnAll(): Promise<void> {
    await Promise.allSettled([...this.slots.values()].map((s) => (s.lease ? this.giveBack(s, s.lease) : undefined)));
  }

  private slotOf(need: QuotaNeed): Slot {
    const k = slotKey(need.key);
    let slot = this.slots.get(k);
    if (!slot) {
      // Slots without a lease are only sizing hints: a new month's, or too many subjects, drop them.
      const crowded = this.slots.size >= MAX_SLOTS;
      for (const [other, s] of this.slots) {
        if (s.lease === undefined && !s.pending && (crowded || other.startsWith(`${need.subject}|`))) this.slots.delete(other);
      }
      slot = { nextRequests: 1, tokensPerRequest: Math.max(1, need.reserve) };
      this.slots.set(k, slot);
    }
    return slot;
  }

  private consume(slot: Slot, lease: HeldLease, need: QuotaNeed): HeldLease {
    if (need.requestQuota !== undefined) lease.requestsLeft -= 1;
    if (need.tokenQuota !== undefined) lease.tokensLeft -= need.reserve;
    lease.admitted += 1;
    if (this.idleMs > 0) {
      if (slot.timer) clearTimeout(slot.timer);
      slot.timer = setTimeout(() => void this.giveBack(slot, lease).catch(() => undefined), this.idleMs);
      slot.timer.unref?.();
    }
    return lease;
  }

  /** Ends `lease` on its holder's initiative; its rest goes back to the counter. */
  private async giveBack(slot: Slot, lease: HeldLease): Promise<void> {
    if (lease.state !== "live" || slot.pending) return;
    lease.state = "returned";
    if (slot.lease === lease) {
      slot.lease = undefined;
      this.resize(slot, lease);
    }
    try {
      if (!(await this.cells.endQuotaLease(lease.key, lease.rest()))) lease.state = "lost";
    } catch (err) {
      // Unknown outcome: leave the lease to a reclaim, which counts its records exactly.
      lease.state = "lost";
      throw err;
    }
  }

  /**
   * Takes the next lease (ending the current one in the same write). Returns undefined when
   * there is a new lease to admit from, or the refusal.
   */
  private async topUp(slot: Slot, need: QuotaNeed): Promise<QuotaAdmission | undefined> {
    let old = slot.lease?.state === "live" ? slot.lease : undefined;
    if (slot.timer) clearTimeout(slot.timer);
    if (old) this.resize(slot, old);
    // Whether slot.seen comes from this top-up; an older one may be stale, so it is read again before refusing.
    let fresh = false;
    let leases: readonly QuotaLease[] = [];
    let writes = 0;
    for (let attempt = 0; attempt < MAX_ROUNDS && writes < MAX_OWN_WRITES; attempt++) {
      const back = old?.rest();
      const size = this.sizeOf(slot, need, back);
      if (!size) {
        if (!fresh) {
          const q = await this.cells.readQuotaLeases(need.key);
          slot.seen = countsOf(q);
          leases = q.leases;
          fresh = true;
          continue;
        }
        if (await this.reclaim(need, leases)) {
          fresh = false;
          continue;
        }
        return await this.exhausted(slot, need, old);
      }
      const lease: QuotaLease = {
        id: leaseId(),
        requests: size.requests,
        tokens: size.tokens,
        fromMs: need.now,
        untilMs: need.now + this.leaseMs,
        reclaimAtMs: need.now + this.leaseMs + this.options.settleMs,
      };
      const bounds = this.boundsOf(need, size, back);
      let out: Awaited<ReturnType<LimitCells["takeQuotaLease"]>>;
      writes++;
      try {
        out = await this.cells.takeQuotaLease(need.key, lease, bounds, back);
      } catch (err) {
        if (old) old.state = "lost";
        if (slot.lease === old) slot.lease = undefined;
        throw err;
      }
      slot.seen = countsOf(out.value);
      leases = out.value.leases;
      fresh = true;
      if (out.ok) {
        if (old) old.state = "returned";
        slot.lease = new HeldLease(lease, need.key, need.requestQuota, need.tokenQuota);
        slot.exhausted = undefined;
        void this.reclaim(need, out.value.leases).catch(() => undefined);
        return undefined;
      }
      if (old && !out.value.leases.some((l) => l.id === old?.id)) {
        // Reclaimed while this holder was away (a frozen instance): its rest is not ours to give.
        old.state = "lost";
        old = undefined;
        slot.lease = undefined;
      }
      // Otherwise the counter moved (or the store gave up on contention): size again from what it saw.
    }
    return {
      ok: false,
      limit: need.requestQuota !== undefined ? "monthlyRequests" : "monthlyTokens",
      busy: true,
      used: slot.seen ?? zero(),
    };
  }

  /** The next block, or undefined when what remains (with `back` given back) cannot admit this request. */
  private sizeOf(slot: Slot, need: QuotaNeed, back: LeaseReturn | undefined): Counts | undefined {
    const seen = slot.seen ?? zero();
    let requests = 0;
    if (need.requestQuota !== undefined) {
      const remaining = need.requestQuota - seen.requests + (back?.requests ?? 0);
      if (remaining < 1) return undefined;
      requests = Math.min(slot.nextRequests, this.maxRequests, Math.max(1, Math.floor(remaining / (2 * this.holders))));
    }
    let tokens = 0;
    if (need.tokenQuota !== undefined) {
      const remaining = need.tokenQuota - seen.tokens + (back?.tokens ?? 0);
      const least = Math.max(1, need.reserve);
      if (remaining < least) return undefined;
      const wanted = Math.max(least, slot.tokensPerRequest * (requests || Math.min(slot.nextRequests, this.maxRequests)));
      tokens = Math.min(remaining, Math.max(least, Math.min(wanted, Math.floor(remaining / (2 * this.holders)))));
    }
    return { requests, tokens };
  }

  /**
   * The write's condition, which holds the size rule against the counter itself rather than
   * this holder's last look at it: a block of n > 1 needs n ≤ (remaining + back) / (2 × holders),
   * i.e. counter ≤ quota + back − 2 × holders × n; a block of 1 needs one to remain. Tokens alike,
   * with the request's own reservation as the least block.
   */
  private boundsOf(need: QuotaNeed, size: Counts, back: LeaseReturn | undefined): CounterBounds {
    const spread = 2 * this.holders;
    const bounds: { requestsBelow?: number; tokensAtMost?: number } = {};
    if (need.requestQuota !== undefined) {
      const room = size.requests > 1 ? spread * size.requests : 1;
      bounds.requestsBelow = need.requestQuota + (back?.requests ?? 0) - room + 1;
    }
    if (need.tokenQuota !== undefined) {
      const least = Math.max(1, need.reserve);
      const room = size.tokens > least ? spread * size.tokens : size.tokens;
      bounds.tokensAtMost = need.tokenQuota + (back?.tokens ?? 0) - room;
    }
    return bounds;
  }

  /** Doubles the next block after one that ran out before its end; else sizes it to what was used. */
  private resize(slot: Slot, old: HeldLease): void {
    const ranOut = old.requestQuota !== undefined ? old.requestsLeft < 1 : old.tokensLeft < slot.tokensPerRequest;
    const grew = old.requestQuota !== undefined ? old.granted.requests : old.admitted;
    slot.nextRequests = ranOut ? Math.min(this.maxRequests, Math.max(1, grew) * 2) : Math.max(1, old.admitted);
  }

  /** The quota is spent as far as the counter says: end the current lease, remember, refuse. */
  private async exhausted(slot: Slot, need: QuotaNeed, old: HeldLease | undefined): Promise<QuotaAdmission> {
    if (old) {
      // What is left of it cannot admit this request but may admit another holder's.
      old.state = "returned";
      slot.lease = undefined;
      const rest = old.rest();
      const ended = await this.cells.endQuotaLease(old.key, rest).catch(() => false);
      if (!ended) old.state = "lost";
      else if (slot.seen) slot.seen = { requests: slot.seen.requests - rest.requests, tokens: slot.seen.tokens - rest.tokens };
    }
    const requestsSpent = need.requestQuota !== undefined && need.requestQuota - (slot.seen?.requests ?? 0) < 1;
    slot.exhausted = {
      ...(need.requestQuota !== undefined ? { requestQuota: need.requestQuota } : {}),
      ...(need.tokenQuota !== undefined ? { tokenQuota: need.tokenQuota } : {}),
      need: requestsSpent ? 0 : Math.max(1, need.reserve),
      // Not until the month ends: other holders' leases, cancellations and settlements may give some back.
      untilMs: need.now + this.recheckMs,
    };
    return { ok: false, limit: requestsSpent ? "monthlyRequests" : "monthlyTokens", busy: false, used: slot.seen ?? zero() };
  }

  /**
   * Ends leases past their reclaim time that no live holder here has: what the usage records
   * carrying a lease's id used stays counted, the rest goes back. Returns whether any ended.
   */
  private async reclaim(need: QuotaNeed, leases: readonly QuotaLease[]): Promise<boolean> {
    const mine = new Set([...this.slots.values()].flatMap((s) => (s.lease ? [s.lease.id] : [])));
    const due = leases.filter((l) => l.reclaimAtMs <= need.now && !mine.has(l.id)).slice(0, RECLAIMS_PER_WRITE);
    let any = false;
    for (const l of due) {
      // Without a record reader nothing is known to be unused: the whole lease stays counted.
      const reader = this.options.usage;
      const tenantId = need.subject.split("/")[0] ?? need.subject;
      const used = reader ? await usedUnderLease(reader, tenantId, l, this.options.settleMs) : l;
      const back = { id: l.id, requests: l.requests - used.requests, tokens: l.tokens - used.tokens, untilMs: l.untilMs };
      if (need.requestQuota === undefined) back.requests = 0;
      if (need.tokenQuota === undefined) back.tokens = 0;
      if (await this.cells.endQuotaLease(need.key, back)) any = true;
    }
    return any;
  }
}

/** The refusal remembered from this holder's last look at the counter, while it still holds. */
function cachedRefusal(slot: Slot, need: QuotaNeed): "monthlyRequests" | "monthlyTokens" | undefined {
  const e = slot.exhausted;
  if (!e || need.now >= e.untilMs || e.requestQuota !== need.requestQuota || e.tokenQuota !== need.tokenQuota) return undefined;
  if (e.need === 0) return "monthlyRequests";
  return Math.max(1, need.reserve) >= e.need ? "monthlyTokens" : undefined;
}

/** What the month has used as this holder sees it: the counter, less what its own lease still holds. */
function usedBy(slot: Slot, lease: HeldLease | undefined): Counts {
  const seen = slot.seen ?? zero();
  const held = lease?.state === "live" ? lease.rest() : zero();
  return { requests: seen.requests - held.requests, tokens: seen.tokens - Math.max(0, held.tokens) };
}

/** 64 random bits, short because every usage record carries it and every lease write is billed by the item's size. */
const leaseId = (): string => randomBytes(8).toString("base64url");
const zero = (): Counts => ({ requests: 0, tokens: 0 });
const countsOf = (q: QuotaCounts): Counts => ({ requests: q.requests, tokens: q.tokens });
const slotKey = (k: CounterKey) => `${k.subject}|${k.period}`;
