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

describe("cached prompt tokens", () => {
  const price = {
    model: "m",
    currency: "USD",
    effectiveFrom: "2026-01-01T00:00:00.000Z",
    components: { perMillionInput: 1_000_000_000n, perMillionCachedInput: 100_000_000n, perMillionOutput: 2_000_000_000n },
  };
  const record = (tokens: { input: number; output: number; cached?: number }) =>
    buildUsageRecord({
      requestId: "r",
      receivedAt: Date.parse("2026-06-01T00:00:00Z"),
      finishedAt: Date.parse("2026-06-01T00:00:01Z"),
      tenantId: "acme",
      keyId: "k",
      model: "m",
      version: 1,
      status: 200,
      bytesIn: 1,
      bytesOut: 1,
      tokens,
      prices: [price],
    });

  it("keeps the engine's prompt_tokens_details.cached_tokens, streamed or not, and bills them at the cached price", () => {
    const usage = { prompt_tokens: 1000, completion_tokens: 10, prompt_tokens_details: { cached_tokens: 800 } };
    expect(reportedTokens({ usage })).toEqual({ input: 1000, output: 10, cached: 800 });
    const meter = new StreamMeter("m");
    meter.read(JSON.stringify({ choices: [], usage }));
    expect(meter.tokens()).toEqual({ input: 1000, output: 10, cached: 800 });
    // 200 uncached × $1/M + 800 cached × $0.10/M + 10 output × $2/M = 0.0002 + 0.00008 + 0.00002
    expect(record({ input: 1000, output: 10, cached: 800 })).toMatchObject({ tokens: { cached: 800 }, cost: "0.0003" });
    expect(record({ input: 1000, output: 10 }).cost).toBe("0.00102");
  });

  it("ignores a cached count that is not a billable count or exceeds the prompt", () => {
    const usage = (cached: unknown) => ({
      usage: { prompt_tokens: 10, completion_tokens: 1, prompt_tokens_details: { cached_tokens: cached } },
    });
    for (const bad of [11, -1, 2.5, "5", null]) expect(reportedTokens(usage(bad))).toEqual({ input: 10, output: 1 });
    expect(record({ input: 10, output: 1, cached: 11 }).tokens).toEqual({ input: 10, output: 1 });
  });
});
