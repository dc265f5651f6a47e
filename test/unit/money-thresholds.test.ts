import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { parseBudgetAmount } from "../../functions/core/money/amount";
import { crossedThresholds } from "../../functions/core/money/thresholds";

const budget = parseBudgetAmount("100", "USD");
const usd = (text: string) => parseBudgetAmount(text, "USD");

describe("budget thresholds (core)", () => {
  it("announces the thresholds a step crosses: before < t ≤ after", () => {
    expect(crossedThresholds(budget, usd("10"), usd("49.99"))).toEqual([]);
    expect(crossedThresholds(budget, usd("49.99"), usd("50"))).toEqual([50]);
    // Already at 50: it was announced by the step that reached it.
    expect(crossedThresholds(budget, usd("50"), usd("60"))).toEqual([]);
    expect(crossedThresholds(budget, usd("40"), usd("100"))).toEqual([50, 80, 100]);
    expect(crossedThresholds(budget, usd("99"), usd("250"))).toEqual([100]);
    expect(crossedThresholds(budget, usd("99"), usd("250"), [150, 100, 200, 100])).toEqual([100, 150, 200]);
    // One nano-unit below the line does not cross it; the line itself does.
    expect(crossedThresholds(budget, 0n, (budget * 80n) / 100n - 1n)).toEqual([50]);
    expect(crossedThresholds(budget, 0n, (budget * 80n) / 100n)).toEqual([50, 80]);
  });

  it("compares exactly where the line falls between nano-units", () => {
    // 50% of 3 nano-units is 1.5: 1 has not reached it, 2 has.
    expect(crossedThresholds(3n, 0n, 1n, [50])).toEqual([]);
    expect(crossedThresholds(3n, 1n, 2n, [50])).toEqual([50]);
    const huge = 2n ** 80n + 1n;
    expect(crossedThresholds(huge, huge / 2n, huge / 2n + 1n, [50])).toEqual([50]);
  });

  it("announces each threshold exactly once over any run of steps", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 15n }),
        fc.array(fc.bigInt({ min: 0n, max: 10n ** 14n }), { maxLength: 50 }),
        (b, steps) => {
          let spent = 0n;
          const announced: number[] = [];
          for (const s of steps) {
            announced.push(...crossedThresholds(b, spent, spent + s));
            spent += s;
          }
          expect(announced).toEqual([50, 80, 100].filter((t) => b * BigInt(t) <= spent * 100n));
        },
      ),
    );
  });

  it("has nothing to announce for a zero budget, and refuses odd thresholds", () => {
    expect(crossedThresholds(0n, 0n, 10n)).toEqual([]);
    for (const t of [0, -10, 12.5, 1001, Number.NaN]) {
      expect(() => crossedThresholds(budget, 0n, 1n, [t])).toThrow(`a budget threshold is a whole percentage 1..1000, got ${t}`);
    }
  });
});
