import { describe, expect, it } from "@jest/globals";
import { reportedTokens } from "../../functions/core/kserve";
import { StreamMeter } from "../../functions/core/llm-stream";
import { buildUsageRecord, isBillableTokenCount, MAX_BILLED_TOKENS_PER_REQUEST } from "../../functions/core/usage";

/** Counts a container may send that must never be billed. */
const BAD_COUNTS: ReadonlyArray<[string, unknown]> = [
  ["negative", -5],
  ["fractional", 2.5],
  ["huge", 1e200],
  ["above the cap", MAX_BILLED_TOKENS_PER_REQUEST + 1],
  ["unsafe integer", 2 ** 53],
  ["NaN", Number.NaN],
  ["Infinity", Number.POSITIVE_INFINITY],
  ["a numeric string", "5"],
  ["an object", { n: 5 }],
  ["an array", [5]],
  ["a boolean", true],
];

describe("reported token counts", () => {
  it("bills non-negative safe integers up to the cap", () => {
    for (const ok of [0, 1, 4096, MAX_BILLED_TOKENS_PER_REQUEST]) expect(isBillableTokenCount(ok)).toBe(true);
    expect(reportedTokens({ usage: { prompt_tokens: 3, completion_tokens: MAX_BILLED_TOKENS_PER_REQUEST } })).toEqual({
      input: 3,
      output: MAX_BILLED_TOKENS_PER_REQUEST,
    });
    // An absent count is zero; KServe's parameters.usage is read too.
    expect(reportedTokens({ parameters: { usage: { output_tokens: 7 } } })).toEqual({ input: 0, output: 7 });
  });

  it.each(BAD_COUNTS)("ignores a report with a %s count (either side) and says so", (_, bad) => {
    for (const usage of [
      { prompt_tokens: bad, completion_tokens: 4 },
      { prompt_tokens: 4, completion_tokens: bad },
      { input_tokens: bad },
    ]) {
      const rejected: unknown[] = [];
      expect(reportedTokens({ usage }, (u) => rejected.push(u))).toBeUndefined();
      expect(rejected).toEqual([usage]);
      expect(isBillableTokenCount(bad)).toBe(false);
    }
  });

  it("ignores a usage field that is not an object, without calling it a rejected report", () => {
    const rejected: unknown[] = [];
    for (const usage of ["12", 12, null, [1, 2]]) expect(reportedTokens({ usage }, (u) => rejected.push(u))).toBeUndefined();
    expect(rejected).toEqual([]);
  });

  // As a stream carries them: JSON text (1e400 parses to Infinity; JSON has no NaN).
  it.each(["-5", "2.5", "1e200", "1e400", "10000001", "9007199254740992", '"5"', '{"n":5}', "[5]", "true"])(
    "a stream whose usage chunk says %s is billed by its content chunks, never less",
    (bad) => {
      const rejected: unknown[] = [];
      const meter = new StreamMeter("tinylm", (u) => rejected.push(u));
      meter.read(JSON.stringify({ choices: [{ index: 0, delta: { content: "a" } }] }));
      meter.read(JSON.stringify({ choices: [{ index: 0, delta: { content: "b" } }] }));
      const read = meter.read(`{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":${bad}}}`);
      // Still the usage chunk by its shape: hidden from a client that did not ask for it.
      expect(read.isUsage).toBe(true);
      expect(meter.tokens()).toEqual({ input: 0, output: 2 });
      expect(rejected).toHaveLength(1);
    },
  );

  it.each(BAD_COUNTS)("a usage record is never built with a %s count", (_, bad) => {
    const at = Date.UTC(2026, 11, 1);
    const base = { requestId: "r", receivedAt: at, finishedAt: at + 1, tenantId: "acme", keyId: "k", model: "m", version: 1 };
    const r = buildUsageRecord({ ...base, status: 200, bytesIn: 1, bytesOut: 1, tokens: { input: bad, output: 1 } as never });
    expect(r.tokens).toBeUndefined();
    expect(buildUsageRecord({ ...base, status: 200, bytesIn: 1, bytesOut: 1, tokens: { input: 2, output: 1 } }).tokens).toEqual({
      input: 2,
      output: 1,
    });
  });
});
