/**
 * Budget alerts: a budget announces each of its thresholds once, on the step that crosses it.
 * Spending only grows within a period, so "crossed by this step" is a pure function of what
 * was spent before and after it. Given each step's before and after as its own atomic write
 * saw them (one step's after is the next one's before), the steps' ranges do not overlap and
 * no threshold is announced twice, however many steps run at once.
 */

/** Percentages of the budget announced by default. */
export const DEFAULT_THRESHOLDS: readonly number[] = [50, 80, 100];

/**
 * The thresholds (percent of `budget`, ascending, each once) crossed by a step that moved the
 * amount spent from `before` to `after`: those with before < budget × t / 100 ≤ after,
 * compared exactly in integers. A budget of 0 or less has nothing to announce. Thresholds must
 * be whole percentages from 1 to 1000 (above 100 warns of overspend past the budget).
 */
export function crossedThresholds(
  budget: bigint,
  before: bigint,
  after: bigint,
  thresholds: readonly number[] = DEFAULT_THRESHOLDS,
): number[] {
  for (const t of thresholds) {
    if (!Number.isInteger(t) || t < 1 || t > 1000) throw new RangeError(`a budget threshold is a whole percentage 1..1000, got ${t}`);
  }
  if (budget <= 0n) return [];
  const crossed = thresholds.filter((t) => {
    const line = budget * BigInt(t);
    return before * 100n < line && line <= after * 100n;
  });
  return [...new Set(crossed)].sort((a, b) => a - b);
}
