import { describe, expect, it } from "@jest/globals";
import type { CellWrite, CounterKey, Counts, QuotaCounts, TatStep } from "../../functions/core/limits/cells";
import { LimitLedger } from "../../functions/core/limits/ledger";
import { MemoryLimitCells } from "../support/memory-limit-store";

// The ledger's rules for what a store reports back, which only DynamoDB under contention
// produces: a store that gave up with a value that admits means "busy", not "over the limit".

const T0 = Date.UTC(2026, 5, 10, 12, 0, 30);
const ctx = (requestId: string, tokenEstimate = 0) => ({ now: T0, requestId, tokenEstimate });

/** Memory cells whose counter writes give up as a contended DynamoDB write does. */
class ContendedCounters extends MemoryLimitCells {
  override async addCounts(key: CounterKey): Promise<CellWrite<Counts>> {
    return { ok: false, value: await this.readCounts(key) };
  }
}

class ContendedRate extends MemoryLimitCells {
  override async advanceTat(_subject: string, step: TatStep): Promise<CellWrite<number | undefined>> {
    return { ok: false, value: step.nowUs };
  }
}

class FailingLeases extends MemoryLimitCells {
  override async addLease(): Promise<boolean> {
    throw new Error("ProvisionedThroughputExceededException");
  }
}

/** Quota lease writes that give up as a contended DynamoDB write does, on counts that admit. */
class ContendedLeases extends MemoryLimitCells {
  override async takeQuotaLease(key: CounterKey): Promise<CellWrite<QuotaCounts>> {
    return { ok: false, value: await this.readQuotaLeases(key) };
  }
}

class FailingQuotaLeases extends MemoryLimitCells {
  override async takeQuotaLease(): Promise<CellWrite<QuotaCounts>> {
    throw new Error("ThrottlingException");
  }
}

const leased = { quotaLeases: { settleMs: 1_000, idleMs: 0 } };

describe("LimitLedger over LimitCells", () => {
  it("a quota lease write given up on admitting counts refuses with Retry-After 1 and gives the rate cell back", async () => {
    const cells = new ContendedLeases();
    const r = await new LimitLedger(cells, leased).charge("s", { ratePerSecond: 1, monthlyRequests: 5 }, ctx("a"));
    expect(r).toMatchObject({ admitted: false, limit: "monthlyRequests", retryAfterSeconds: 1 });
    expect(await cells.readTat("s")).toBe(T0 * 1000);
  });

  it("a store error taking a quota lease gives the earlier charges back and rejects", async () => {
    const cells = new FailingQuotaLeases();
    const ledger = new LimitLedger(cells, leased);
    await expect(ledger.charge("s", { ratePerSecond: 1, monthlyRequests: 5 }, ctx("a"))).rejects.toThrow("ThrottlingException");
    expect(await cells.readTat("s")).toBe(T0 * 1000);
  });

  it("a counter write given up on admitting counts refuses with Retry-After 1 and gives the rate cell back", async () => {
    const cells = new ContendedCounters();
    const ledger = new LimitLedger(cells);
    const r = await ledger.charge("s", { ratePerSecond: 1, tokensPerMinute: 100 }, ctx("a", 10));
    expect(r).toMatchObject({ admitted: false, limit: "tokensPerMinute", retryAfterSeconds: 1 });
    expect(await cells.readTat("s")).toBe(T0 * 1000);
  });

  it("a month write given up on admitting counts names the request quota first", async () => {
    const r = await new LimitLedger(new ContendedCounters()).charge("s", { monthlyRequests: 5, monthlyTokens: 50 }, ctx("a"));
    expect(r).toMatchObject({ admitted: false, limit: "monthlyRequests", retryAfterSeconds: 1 });
  });

  it("a TAT write given up within the tolerance refuses with Retry-After 1", async () => {
    const r = await new LimitLedger(new ContendedRate()).charge("s", { ratePerSecond: 10, burst: 5 }, ctx("a"));
    expect(r).toMatchObject({ admitted: false, limit: "ratePerSecond", retryAfterSeconds: 1 });
  });

  it("a store error after earlier charges gives them back and rejects", async () => {
    const cells = new FailingLeases();
    const ledger = new LimitLedger(cells);
    const limits = { ratePerSecond: 1, tokensPerMinute: 100, monthlyRequests: 5, concurrency: 1 };
    await expect(ledger.charge("s", limits, ctx("a", 10))).rejects.toThrow("ProvisionedThroughputExceededException");
    const month = { subject: "s", window: "month" as const, period: "2026-06", endsAtMs: 0 };
    const minute = { subject: "s", window: "minute" as const, period: "2026-06-10T12:00", endsAtMs: 0 };
    expect(await cells.readCounts(month)).toEqual({ requests: 0, tokens: 0 });
    expect(await cells.readCounts(minute)).toEqual({ requests: 0, tokens: 0 });
    expect(await cells.readTat("s")).toBe(T0 * 1000);
  });
});
