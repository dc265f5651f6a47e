import { describe, expect, it } from "@jest/globals";
import type { CellWrite, TatStep } from "../../functions/core/limits/cells";
import { LimitLedger } from "../../functions/core/limits/ledger";
import type { Admission, TenantLimits } from "../../functions/core/limits/tenant-limits";
import { MemoryLimitCells } from "../support/memory-limit-store";

// The request rate taken in blocks of GCRA cells (functions/core/limits/rate-blocks.ts), on
// memory cells: several ledgers over one set of cells are several holders.

const T0 = Date.UTC(2026, 5, 10, 12, 0, 30);

class CountingCells extends MemoryLimitCells {
  tatWrites = 0;
  readonly blocks: number[] = [];
  override async advanceTat(subject: string, step: TatStep): Promise<CellWrite<number | undefined>> {
    this.tatWrites++;
    const out = await super.advanceTat(subject, step);
    if (out.ok) this.blocks.push(step.intervalUs);
    return out;
  }
  override async refundTat(subject: string, intervalUs: number): Promise<void> {
    this.tatWrites++;
    await super.refundTat(subject, intervalUs);
  }
}

const holders = (cells: CountingCells, n: number) =>
  Array.from({ length: n }, () => new LimitLedger(cells, { rateBlocks: { holders: n } }));
let seq = 0;
const ctx = (now: number) => ({ now, requestId: `r${seq++}` });
const admittedCount = (rs: readonly Admission[]) => rs.filter((r) => r.admitted).length;

describe("the request rate in blocks of cells", () => {
  it("a subject well below its rate writes the TAT once per block, not once per request", async () => {
    const cells = new CountingCells();
    const [ledger] = holders(cells, 1) as [LimitLedger];
    const limits: TenantLimits = { ratePerSecond: 100, burst: 200 };
    // 20 requests/s for 10 s of virtual time: a fifth of the rate.
    for (let i = 0; i < 200; i++) expect((await ledger.charge("s", limits, ctx(T0 + i * 50))).admitted).toBe(true);
    console.info(`200 admissions at a fifth of the rate: ${cells.tatWrites} TAT writes`);
    expect(cells.tatWrites).toBeLessThan(40);
    // No block is ever more than a burst's room / (2 × holders).
    expect(Math.max(...cells.blocks) / 10_000).toBeLessThanOrEqual(100);
  });

  it("3 holders overloading a subject 5× for 10 s stay within burst + rate × span + one block per holder", async () => {
    const cells = new CountingCells();
    const pool = holders(cells, 3);
    const limits: TenantLimits = { ratePerSecond: 10, burst: 60 };
    let admitted = 0;
    // 50 requests/s: every 100 ms five at once, spread over the holders.
    for (let tick = 0; tick < 100; tick++) {
      const now = T0 + tick * 100;
      const results = await Promise.all(
        Array.from({ length: 5 }, (_, i) => (pool[(tick + i) % 3] as LimitLedger).charge("s", limits, ctx(now))),
      );
      admitted += admittedCount(results);
    }
    const span = 9.9;
    const blocks = 3 * Math.floor(60 / 6);
    console.info(`5× overload, 3 holders: admitted ${admitted}, GCRA bound ${60 + 10 * span}, with blocks ${60 + 10 * span + blocks}`);
    expect(admitted).toBeLessThanOrEqual(60 + 10 * span + blocks);
    // The long-run rate is met, not undercut by dropped cells.
    expect(admitted).toBeGreaterThanOrEqual(10 * span);
  });

  it("at its rate a subject has room for one cell at a time: blocks of one, a write per admission, exactly GCRA", async () => {
    const cells = new CountingCells();
    const [a, b] = holders(cells, 2) as [LimitLedger, LimitLedger];
    const limits: TenantLimits = { ratePerSecond: 10, burst: 3 };
    let admitted = 0;
    for (let tick = 0; tick < 30; tick++) {
      const now = T0 + tick * 100;
      admitted += admittedCount(await Promise.all([a.charge("s", limits, ctx(now)), b.charge("s", limits, ctx(now))]));
    }
    expect(admitted).toBe(3 + 29); // burst + rate × 2.9 s, as without blocks
    expect(cells.blocks.every((us) => us === 100_000)).toBe(true);
  });

  it("a refusal says when the next cell is due, and until then refuses without a write", async () => {
    const cells = new CountingCells();
    const [ledger] = holders(cells, 1) as [LimitLedger];
    const limits: TenantLimits = { ratePerSecond: 1, burst: 1 };
    expect((await ledger.charge("s", limits, ctx(T0))).admitted).toBe(true);
    const refused = await ledger.charge("s", limits, ctx(T0 + 10));
    expect(refused).toMatchObject({ admitted: false, limit: "ratePerSecond", retryAfterSeconds: 1 });
    const writes = cells.tatWrites;
    for (let i = 0; i < 50; i++) expect((await ledger.charge("s", limits, ctx(T0 + 20 + i * 10))).admitted).toBe(false);
    expect(cells.tatWrites).toBe(writes);
    expect((await ledger.charge("s", limits, ctx(T0 + 1_000))).admitted).toBe(true);
  });

  it("a cancelled admission's cell goes back to the block without a write", async () => {
    const cells = new CountingCells();
    const [ledger] = holders(cells, 1) as [LimitLedger];
    const limits: TenantLimits = { ratePerSecond: 100, burst: 100 };
    for (let i = 0; i < 3; i++) await ledger.charge("s", limits, ctx(T0));
    const held = await ledger.charge("s", limits, ctx(T0));
    const writes = cells.tatWrites;
    if (held.admitted) await ledger.cancel(held.handle);
    expect(cells.tatWrites).toBe(writes);
    expect((await ledger.charge("s", limits, ctx(T0))).admitted).toBe(true);
    expect(cells.tatWrites).toBe(writes);
  });
});
