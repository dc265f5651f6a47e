import type { LimitCells } from "./cells";
import type { GcraParams } from "./math";

/**
 * The request rate (GCRA) taken in blocks of cells, so that a process below its subject's
 * rate writes the TAT once per block rather than once per request.
 *
 * A block of k cells is one conditional write that moves the TAT on by k intervals if the
 * k-th cell would be admitted now (GCRA's own rule for k requests arriving at once); the
 * holder then admits k requests from memory until the block runs out or is a burst window
 * old (τ + T: by then the cells would have come back anyway). Unused cells of a block that
 * ends are dropped, not refunded: that only leaves a little rate unused for one block's time.
 *
 * Sizes: a holder's next block doubles while its blocks run out, and falls to what it used
 * when one ends with a rest; whatever that says, k ≤ ⌊room / (2 × holders)⌋ (at least 1),
 * where room is how many cells the burst has left now — the write's condition checks this
 * against the TAT itself. A subject at its rate has room for one cell at a time, so it is
 * charged per request exactly as before; only a subject with burst to spare takes blocks.
 *
 * What this guarantees across holders: every admission consumes a GCRA cell, so over any
 * span the admissions are at most burst + rate × span plus the cells of the blocks held at
 * its start — at most one block per holder, each ≤ burst / (2 × holders), so at most 1.5 ×
 * burst in all. The long-run rate holds exactly. A refusal also tells when the next cell is
 * due: until then the holder refuses from memory, without a write.
 */
export interface RateBlockOptions {
  /** Holders expected to share a subject: a block takes at most room / (2 × this) cells. @default 8 */
  readonly holders?: number;
  /** Most cells in one block. @default 1000 */
  readonly maxCells?: number;
}

/** Cells a holder took and may still admit from. */
export class HeldCells {
  left: number;
  admitted = 0;
  constructor(
    readonly cells: number,
    readonly params: GcraParams,
    readonly untilUs: number,
  ) {
    this.left = cells;
  }
}

export type RateAdmission =
  | { readonly ok: true; readonly block: HeldCells; readonly tatUs: number | undefined }
  /** `tatUs` is what was seen; `busy` when writers kept moving it under the store. */
  | { readonly ok: false; readonly tatUs: number | undefined; readonly busy: boolean };

interface Slot {
  block?: HeldCells;
  pending?: Promise<unknown>;
  /** The TAT after this holder's last write (its own block's cells count as taken). */
  tatUs?: number;
  next: number;
  /** No cell before this (µs), as the last refusal saw. */
  refuseUntilUs?: number;
  readonly params: GcraParams;
}

/** Rounds one admission waits on other admissions' writes (each gives it a new chance, none costs it a write). */
const MAX_ROUNDS = 1_000;
/** Conditional writes one top-up makes before it answers "busy" (each store write also retries contention itself). */
const MAX_OWN_WRITES = 4;
const MAX_SLOTS = 10_000;

export class RateBlocks {
  private readonly slots = new Map<string, Slot>();
  private readonly holders: number;
  private readonly maxCells: number;

  constructor(
    private readonly cells: LimitCells,
    options: RateBlockOptions = {},
  ) {
    this.holders = options.holders ?? 8;
    this.maxCells = options.maxCells ?? 1_000;
  }

  async admit(subject: string, p: GcraParams, nowUs: number): Promise<RateAdmission> {
    const slot = this.slotOf(subject, p);
    let own = 0;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const block = slot.block;
      if (block && block.left >= 1 && nowUs < block.untilUs && sameParams(block.params, p)) {
        block.left -= 1;
        block.admitted += 1;
        return { ok: true, block, tatUs: slot.tatUs };
      }
      if (slot.refuseUntilUs !== undefined && nowUs < slot.refuseUntilUs) return { ok: false, tatUs: slot.tatUs, busy: false };
      if (slot.pending) {
        await slot.pending.catch(() => undefined);
        continue;
      }
      if (++own > 3) break;
      const take = this.take(subject, slot, p, nowUs);
      slot.pending = take;
      let outcome: RateAdmission | undefined;
      try {
        outcome = await take;
      } finally {
        slot.pending = undefined;
      }
      if (outcome) return outcome;
    }
    return { ok: false, tatUs: slot.tatUs, busy: true };
  }

  /** A cancelled admission's cell: back to its block while this holder admits from it, else to the TAT. */
  async credit(subject: string, block: HeldCells): Promise<void> {
    const slot = this.slots.get(subject);
    if (slot?.block === block) {
      block.left += 1;
      return;
    }
    if (slot) slot.refuseUntilUs = undefined;
    await this.cells.refundTat(subject, block.params.intervalUs);
  }

  private slotOf(subject: string, p: GcraParams): Slot {
    let slot = this.slots.get(subject);
    if (!slot || !sameParams(slot.params, p)) {
      if (!slot && this.slots.size >= MAX_SLOTS) {
        for (const [other, s] of this.slots) if (!s.pending) this.slots.delete(other);
      }
      slot = { next: 1, params: p };
      this.slots.set(subject, slot);
    }
    return slot;
  }

  /** Takes the next block; undefined when there is one to admit from, else the refusal. */
  private async take(subject: string, slot: Slot, p: GcraParams, nowUs: number): Promise<RateAdmission | undefined> {
    const old = slot.block;
    if (old) slot.next = old.left < 1 ? Math.min(this.maxCells, old.cells * 2) : Math.max(1, old.admitted);
    slot.block = undefined;
    let tat = slot.tatUs;
    for (let attempt = 0; attempt < MAX_OWN_WRITES; attempt++) {
      const k = this.sizeOf(slot, p, tat, nowUs);
      const spread = k > 1 ? 2 * this.holders * k - 1 : 0;
      const out = await this.cells.advanceTat(subject, {
        nowUs,
        intervalUs: k * p.intervalUs,
        latestUs: nowUs + p.toleranceUs - spread * p.intervalUs,
      });
      tat = out.value;
      slot.tatUs = tat;
      if (out.ok) {
        slot.refuseUntilUs = undefined;
        slot.block = new HeldCells(k, p, nowUs + p.toleranceUs + p.intervalUs);
        return undefined;
      }
      if (tat === undefined || tat - nowUs <= p.toleranceUs) {
        // Room for a cell: a block too large for what is left, or writers kept moving the TAT.
        if (k > 1) continue;
        return { ok: false, tatUs: tat, busy: true };
      }
      slot.refuseUntilUs = tat - p.toleranceUs;
      return { ok: false, tatUs: tat, busy: false };
    }
    return { ok: false, tatUs: tat, busy: true };
  }

  /** The next block's cells: the doubling size, within ⌊room / (2 × holders)⌋ of the burst left. */
  private sizeOf(slot: Slot, p: GcraParams, tat: number | undefined, nowUs: number): number {
    const base = tat === undefined || tat < nowUs ? nowUs : tat;
    const room = Math.floor((nowUs + p.toleranceUs - base) / p.intervalUs) + 1;
    // Never past the whole burst either: an idle TAT restarts from now without a bound.
    const cap = Math.max(1, Math.floor(Math.min(room, p.burst) / (2 * this.holders)));
    return Math.max(1, Math.min(slot.next, this.maxCells, cap));
  }
}

const sameParams = (a: GcraParams, b: GcraParams) => a.intervalUs === b.intervalUs && a.toleranceUs === b.toleranceUs;
