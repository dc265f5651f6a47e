import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { parsePriceAmount } from "../../functions/core/money/amount";
import {
  COST_COMPONENTS,
  type CostBreakdown,
  costOf,
  divRoundHalfUp,
  InvalidUsageError,
  maxCost,
  sumCosts,
  type UsageQuantities,
} from "../../functions/core/money/cost";
import type { PriceComponents } from "../../functions/core/money/prices";

const usd = (components: PriceComponents) => ({ currency: "USD", components });
const one = (u: Partial<UsageQuantities>): UsageQuantities => ({ requests: 1, inputTokens: 0, outputTokens: 0, ...u });

/** Prices from zero to $1000 a unit, with small ones (fractions of a nano-unit per token) common. */
const nanoPrice = fc.oneof(
  fc.bigInt({ min: 0n, max: 10_000n }),
  fc.bigInt({ min: 0n, max: 10n ** 12n }),
  // Half a nano-unit a token or a millisecond and its odd multiples: the roundings' worst case.
  fc.constantFrom(500n, 1_500n, 500_000n, 1_500_000n, 2_500_000n),
);
const components = fc.record(
  {
    perRequest: nanoPrice,
    perMillionInput: nanoPrice,
    perMillionOutput: nanoPrice,
    perMillionCachedInput: nanoPrice,
    perSecond: nanoPrice,
  },
  { requiredKeys: [] },
);
const tokens = fc.oneof(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 10_000_000 }));
const usage = fc.record({
  requests: fc.constantFrom(0, 1),
  inputTokens: tokens,
  outputTokens: tokens,
  cachedInputTokens: tokens,
  modelTimeMs: fc.integer({ min: 0, max: 86_400_000 }),
});

describe("cost of usage (core)", () => {
  it("prices each component and totals them", () => {
    const price = usd({
      perRequest: parsePriceAmount("0.0001"),
      perMillionInput: parsePriceAmount("0.15"),
      perMillionCachedInput: parsePriceAmount("0.075"),
      perMillionOutput: parsePriceAmount("0.6"),
      perSecond: parsePriceAmount("0.00002"),
    });
    const cost = costOf(price, { requests: 1, inputTokens: 1_000, cachedInputTokens: 400, outputTokens: 250, modelTimeMs: 1_500 });
    expect(cost).toEqual({
      currency: "USD",
      requests: 100_000n,
      input: 90_000n, // 600 uncached × 150 nano
      cachedInput: 30_000n, // 400 × 75 nano
      output: 150_000n, // 250 × 600 nano
      modelTime: 30_000n, // 1.5 s × 20,000 nano
      total: 400_000n,
    });
  });

  it("bills cached tokens at the input price when there is no cached price, and never more cached than input", () => {
    const price = usd({ perMillionInput: 1_000_000n });
    expect(costOf(price, one({ inputTokens: 10, cachedInputTokens: 4 }))).toMatchObject({ input: 6n, cachedInput: 4n, total: 10n });
    const cheapCache = usd({ perMillionInput: 1_000_000n, perMillionCachedInput: 0n });
    expect(costOf(cheapCache, one({ inputTokens: 10, cachedInputTokens: 25 }))).toMatchObject({ input: 0n, cachedInput: 0n, total: 0n });
    expect(costOf(price, one({ inputTokens: 10, cachedInputTokens: 25 })).total).toBe(10n);
  });

  it("rounds each component half-up to a whole nano-unit, once per record", () => {
    expect([0n, 1n, 2n, 3n, 4n, 5n].map((n) => divRoundHalfUp(n, 2n))).toEqual([0n, 1n, 1n, 2n, 2n, 3n]);
    const price = usd({ perMillionInput: 1_500_000n, perSecond: 1_001n }); // 1.5 nano a token; 1.001 nano a ms
    expect(costOf(price, one({ inputTokens: 1 })).input).toBe(2n); // 1.5 → 2
    expect(costOf(price, one({ inputTokens: 3 })).input).toBe(5n); // 4.5 → 5, not 3 × 2
    expect(costOf(price, one({ modelTimeMs: 500 })).modelTime).toBe(501n); // 500.5 → 501
    expect(costOf(price, one({ modelTimeMs: 499 })).modelTime).toBe(499n); // 499.499 → 499
    // Under half a nano-unit is free: one token at $0.15 per million is 150 nano, one at 0.0004 nano per token is nothing.
    expect(costOf(usd({ perMillionInput: 400n }), one({ inputTokens: 1 })).total).toBe(0n);
    // Each component rounds on its own: 1.5 + 1.5 nano is 4, not round(3).
    expect(costOf(usd({ perMillionInput: 1_500_000n, perMillionOutput: 1_500_000n }), one({ inputTokens: 1, outputTokens: 1 })).total).toBe(
      4n,
    );
  });

  it("totals are the exact sum of records, however they are grouped", () => {
    fc.assert(
      fc.property(components, fc.array(usage, { maxLength: 20 }), fc.array(usage, { maxLength: 20 }), (c, a, b) => {
        const price = usd(c);
        const costs = (records: UsageQuantities[]) => records.map((u) => costOf(price, u));
        const whole = sumCosts(costs([...a, ...b]), "USD");
        const halves = sumCosts([sumCosts(costs(a), "USD"), sumCosts(costs(b), "USD")], "USD");
        expect(halves).toEqual(whole);
        expect(sumCosts(costs([...b, ...a].reverse()), "USD")).toEqual(whole);
        let total = 0n;
        for (const u of [...a, ...b]) total += costOf(price, u).total;
        expect(whole.total).toBe(total);
        expect(whole.total).toBe(COST_COMPONENTS.reduce((t, k) => t + whole[k], 0n));
      }),
    );
    expect(sumCosts([], "EUR")).toEqual({
      currency: "EUR",
      requests: 0n,
      input: 0n,
      cachedInput: 0n,
      output: 0n,
      modelTime: 0n,
      total: 0n,
    });
    expect(() => sumCosts([costOf(usd({}), one({}))], "EUR")).toThrow("cannot add a cost in USD to costs in EUR");
  });

  it("never turns an amount into a JS number: past 2^53 nano-units stays exact", () => {
    const past = 2n ** 53n + 1n; // not representable as a double
    const cost = costOf(usd({ perMillionInput: 1_000_000n, perRequest: past }), { requests: 1, inputTokens: past, outputTokens: 0 });
    expect(cost.input).toBe(past);
    expect(cost.total).toBe(2n * past);
    fc.assert(
      fc.property(components, usage, (c, u) => {
        const cost: CostBreakdown = costOf(usd(c), u);
        for (const k of [...COST_COMPONENTS, "total"] as const) expect(typeof cost[k]).toBe("bigint");
      }),
    );
  });

  it("refuses counts that are not non-negative integers", () => {
    const price = usd({ perRequest: 1n });
    expect(() => costOf(price, one({ inputTokens: -1 }))).toThrow(
      new InvalidUsageError("inputTokens must be a non-negative integer, got -1"),
    );
    expect(() => costOf(price, one({ outputTokens: 1.5 }))).toThrow("outputTokens must be a non-negative integer, got 1.5");
    expect(() => costOf(price, one({ modelTimeMs: Number.NaN }))).toThrow("modelTimeMs must be a non-negative integer, got NaN");
    expect(() => costOf(price, one({ cachedInputTokens: 2 ** 53 }))).toThrow(InvalidUsageError);
    expect(() => costOf(price, one({ requests: -1n }))).toThrow("requests must be a non-negative integer, got -1");
  });
});

describe("maximum cost of a request (core)", () => {
  it("bounds every usage that fits the reservation, whatever the prices", () => {
    const reservation = fc.record({
      inputTokens: tokens,
      outputTokens: tokens,
      anyTokens: fc.oneof(fc.constant(0), tokens),
      modelTimeMs: fc.integer({ min: 0, max: 900_000 }),
    });
    // Shares of the reservation a request actually used: [0, 1] in steps.
    const share = fc.oneof(fc.constantFrom(0, 1000), fc.integer({ min: 0, max: 1000 }));
    const part = (n: number, s: number) => Math.floor((n * s) / 1000);
    fc.assert(
      fc.property(components, reservation, fc.tuple(share, share, share, share, share), (c, r, [si, so, sa, sc, st]) => {
        const anyAsInput = part(r.anyTokens, sa);
        const inputTokens = part(r.inputTokens, si) + anyAsInput;
        const used = {
          requests: 1,
          inputTokens,
          outputTokens: part(r.outputTokens, so) + (r.anyTokens - anyAsInput),
          cachedInputTokens: part(inputTokens, sc),
          modelTimeMs: part(r.modelTimeMs, st),
        };
        expect(costOf(usd(c), used).total).toBeLessThanOrEqual(maxCost(usd(c), r));
      }),
      { numRuns: 3000 },
    );
  });

  it("is the cost of the full reservation, give or take the rounding slack", () => {
    const price = usd({ perRequest: 7n, perMillionInput: 2_000_000n, perMillionOutput: 8_000_000n, perSecond: 1_000n });
    // 100 × 2 + 50 × 8 + 7 + 30 s × 1,000 nano a second, and no rounding at whole nano-units
    expect(maxCost(price, { inputTokens: 100, outputTokens: 50, modelTimeMs: 30_000 })).toBe(7n + 200n + 400n + 30_000n + 1n);
    expect(maxCost(usd({ perRequest: 5n }), { inputTokens: 1_000_000, outputTokens: 1_000_000 })).toBe(5n);
    // Half a nano-unit a token, one token cached and one not: each rounds up, 2 nano for an exact 1.
    const halves = usd({ perMillionInput: 500_000n });
    expect(costOf(halves, one({ inputTokens: 2, cachedInputTokens: 1 })).total).toBe(2n);
    expect(maxCost(halves, { inputTokens: 2, outputTokens: 0 })).toBe(2n);
    // A cached price above the input price: an all-cached prompt is the dearest.
    const oddCache = usd({ perMillionInput: 1_000_000n, perMillionCachedInput: 3_000_000n });
    expect(maxCost(oddCache, { inputTokens: 10, outputTokens: 0 })).toBeGreaterThanOrEqual(
      costOf(oddCache, one({ inputTokens: 10, cachedInputTokens: 10 })).total,
    );
    // Unknown-side tokens at the dearest token price.
    expect(maxCost(price, { inputTokens: 0, outputTokens: 0, anyTokens: 10 })).toBe(7n + 80n + 1n);
    fc.assert(
      fc.property(components, tokens, tokens, (c, inputTokens, outputTokens) => {
        const full = costOf(usd(c), one({ inputTokens, outputTokens })).total;
        const bound = maxCost(usd(c), { inputTokens, outputTokens });
        expect(bound - full).toBeGreaterThanOrEqual(0n);
        if ((c.perMillionCachedInput ?? 0n) <= (c.perMillionInput ?? 0n)) expect(bound - full).toBeLessThanOrEqual(2n);
      }),
    );
  });
});
