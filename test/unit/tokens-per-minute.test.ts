import { describe, expect, it } from "@jest/globals";
import type { Command } from "commander";
import { describeLimits, limitsFrom } from "../../cli/limit-flags";
import { buildProgram } from "../../cli/main";
import { admit, hasTokenQuota, limitStatusOf, settle } from "../../functions/core/admission";
import { RateLimitedError } from "../../functions/core/errors";
import { minuteCorrection, minuteOf } from "../../functions/core/limits/math";
import { type Admission, chargeAll, type LimitHandle, type TenantLimits, validateLimits } from "../../functions/core/limits/tenant-limits";
import { MemoryLimitStore } from "../support/memory-limit-store";

/** On a minute's first instant, so `T0 + s * 1000` is `s` seconds into that minute. */
const T0 = Date.UTC(2026, 10, 28, 13, 0, 0);
const ctx = (requestId: string, now = T0, tokenEstimate?: number) => ({ requestId, now, ...(tokenEstimate ? { tokenEstimate } : {}) });
const handleOf = (a: Admission): LimitHandle => {
  if (!a.admitted) throw new Error(`refused: ${a.message}`);
  return a.handle;
};
const tokensLeft = async (store: MemoryLimitStore, subject: string, limits: TenantLimits, now = T0) =>
  (await store.peek(subject, limits, now)).tokens?.remaining;

describe("minute windows", () => {
  it("are fixed UTC clock minutes, labelled yyyy-mm-ddThh:mm, resetting at the next whole minute", () => {
    expect(minuteOf(T0 + 59_999)).toEqual({ period: "2026-11-28T13:00", startMs: T0, resetMs: T0 + 60_000 });
    expect(minuteOf(T0 + 60_000).period).toBe("2026-11-28T13:01");
    expect(minuteOf(Date.UTC(2026, 11, 31, 23, 59, 30)).resetMs).toBe(Date.UTC(2027, 0, 1));
  });

  it("a settlement corrects the reservation only while its minute lasts", () => {
    expect(minuteCorrection("2026-11-28T13:00", 40, 15, T0 + 59_999)).toBe(-25);
    expect(minuteCorrection("2026-11-28T13:00", 40, 55.5, T0)).toBe(16);
    expect(minuteCorrection("2026-11-28T13:00", 40, 15, T0 + 60_000)).toBe(0);
  });

  it("tokensPerMinute is validated like the other limits and counts as a token limit", () => {
    expect(validateLimits({ tokensPerMinute: 100 })).toEqual({ ok: true, limits: { tokensPerMinute: 100 } });
    for (const bad of [0, 1.5, "100"]) expect(validateLimits({ tokensPerMinute: bad })).toMatchObject({ ok: false });
    const p = { tenantId: "acme", keyId: "k1", scopes: ["invoke" as const], models: ["*"], plan: "default" };
    expect(hasTokenQuota({ ...p, keyLimits: { tokensPerMinute: 5 } })).toBe(true);
    expect(hasTokenQuota({ ...p, limits: { ratePerSecond: 5 } })).toBe(false);
  });
});

describe("MemoryLimitStore: tokensPerMinute", () => {
  it("30 concurrent reservations of 10 against 100 a minute admit exactly 10, never reserving past the limit", async () => {
    const store = new MemoryLimitStore();
    const limits = { tokensPerMinute: 100 };
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => store.charge("t", limits, ctx(`r${i}`, T0, 10))));
    expect(results.filter((r) => r.admitted)).toHaveLength(10);
    expect(await tokensLeft(store, "t", limits)).toBe(0);
    const refusal = results.find((r) => !r.admitted);
    expect(refusal).toMatchObject({
      limit: "tokensPerMinute",
      message: "tokens-per-minute limit of 100 reached: this minute cannot cover the 10 tokens this request may use",
      // Seconds to the next minute.
      retryAfterSeconds: 60,
      headers: { "x-ratelimit-limit-tokens": "100", "x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "60" },
    });
  });

  it("settles to the real count within the minute, below or above the estimate", async () => {
    const store = new MemoryLimitStore();
    const limits = { tokensPerMinute: 100 };
    const a = handleOf(await store.charge("t", limits, ctx("a", T0, 40)));
    await store.release(a, { actualTokens: 15, now: T0 + 1_000 });
    await store.release(a, { actualTokens: 15, now: T0 + 1_000 }); // a second call does nothing
    expect(await tokensLeft(store, "t", limits)).toBe(85);
    const b = handleOf(await store.charge("t", limits, ctx("b", T0 + 2_000, 85)));
    await store.release(b, { actualTokens: 95, now: T0 + 3_000 });
    expect(await tokensLeft(store, "t", limits)).toBe(0);
    expect((await store.peek("t", limits, T0)).tokens).toMatchObject({ limit: 100, remaining: 0 });
    // Spent: even a request that names no estimate is refused until the next minute.
    expect(await store.charge("t", limits, ctx("c", T0 + 30_000))).toMatchObject({
      admitted: false,
      message: "tokens-per-minute limit of 100 reached for this minute",
      retryAfterSeconds: 30,
    });
  });

  it("a new minute starts empty, and a settlement after its minute ended changes nothing", async () => {
    const store = new MemoryLimitStore();
    const limits = { tokensPerMinute: 100 };
    const late = handleOf(await store.charge("t", limits, ctx("late", T0 + 59_000, 100)));
    expect((await store.charge("t", limits, ctx("refused", T0 + 59_500, 1))).admitted).toBe(false);
    const next = T0 + 60_000;
    expect(await tokensLeft(store, "t", limits, next)).toBe(100);
    const fresh = handleOf(await store.charge("t", limits, ctx("fresh", next, 30)));
    await store.release(late, { actualTokens: 5, now: next + 1 });
    expect(await tokensLeft(store, "t", limits, next)).toBe(70);
    await store.release(fresh, { actualTokens: 50, now: next + 2 });
    expect(await tokensLeft(store, "t", limits, next)).toBe(50);
  });

  it("without an estimate a request reserves nothing and is refused only once the minute is spent", async () => {
    const store = new MemoryLimitStore();
    const limits = { tokensPerMinute: 10 };
    const h = handleOf(await store.charge("t", limits, ctx("a")));
    expect(h.minuteTokensReserved).toBe(0);
    await store.release(h, { actualTokens: 9, now: T0 });
    expect((await store.charge("t", limits, ctx("b"))).admitted).toBe(true);
    await store.release(handleOf(await store.charge("t", limits, ctx("c", T0, 1))), { actualTokens: 1, now: T0 });
    expect(await store.charge("t", limits, ctx("d"))).toMatchObject({ admitted: false, limit: "tokensPerMinute" });
  });

  it("a refusal by a later step gives the minute's tokens (and the rate cell) back", async () => {
    const store = new MemoryLimitStore();
    const limits = { ratePerSecond: 100, tokensPerMinute: 1_000, monthlyTokens: 50, concurrency: 1 };
    const held = handleOf(await store.charge("t", limits, ctx("held", T0, 20)));
    const before = await store.peek("t", { ratePerSecond: 100, tokensPerMinute: 1_000 }, T0);
    // Refused by the month's quota (30 left), then by concurrency, after rate and minute admitted.
    expect(await store.charge("t", limits, ctx("month", T0, 40))).toMatchObject({ admitted: false, limit: "monthlyTokens" });
    expect(await store.charge("t", limits, ctx("conc", T0, 10))).toMatchObject({ admitted: false, limit: "concurrency" });
    expect(await store.peek("t", { ratePerSecond: 100, tokensPerMinute: 1_000 }, T0)).toEqual(before);
    // A refusal by the minute's window itself consumes no rate cell either (an estimate above the
    // whole limit reserves the limit: it fits an untouched minute only, and 20 are used).
    const refusal = await store.charge("t", { ratePerSecond: 100, tokensPerMinute: 1_000 }, ctx("tpm", T0, 2_000));
    expect(refusal).toMatchObject({ admitted: false, limit: "tokensPerMinute" });
    expect(await store.peek("t", { ratePerSecond: 100, tokensPerMinute: 1_000 }, T0)).toEqual(before);
    await store.release(held, { actualTokens: 20, now: T0 });
  });

  it("a key's refusal gives back what its tenant's minute took", async () => {
    const store = new MemoryLimitStore();
    const tenant = { subject: "acme", limits: { tokensPerMinute: 1_000 } };
    const key = { subject: "acme/k1", limits: { tokensPerMinute: 50 } };
    expect((await chargeAll(store, [tenant, key], ctx("a", T0, 40))).admitted).toBe(true);
    expect(await chargeAll(store, [tenant, key], ctx("b", T0, 40))).toMatchObject({ admitted: false, limit: "tokensPerMinute" });
    expect(await tokensLeft(store, "acme", tenant.limits)).toBe(960);
  });
});

describe("tokensPerMinute in the headers and the usage status", () => {
  const base = { tenantId: "acme", keyId: "k1", scopes: ["invoke" as const], models: ["*"], plan: "default" };
  const headersOf = async (store: MemoryLimitStore, limits: TenantLimits, estimate: number, keyLimits?: TenantLimits) => {
    const ticket = await admit(
      store,
      { ...base, limits, ...(keyLimits ? { keyLimits } : {}) },
      { requestId: "r", now: T0, tokenEstimate: estimate },
    );
    if ("refused" in ticket) throw ticket.refused;
    return ticket.headers;
  };

  it("report whichever of the minute's and the month's windows has fewer tokens left", async () => {
    expect(await headersOf(new MemoryLimitStore(), { tokensPerMinute: 100, monthlyTokens: 1_000 }, 30)).toEqual({
      "x-ratelimit-limit-tokens": "100",
      "x-ratelimit-remaining-tokens": "70",
      "x-ratelimit-reset-tokens": "60",
    });
    expect(await headersOf(new MemoryLimitStore(), { tokensPerMinute: 100, monthlyTokens: 50 }, 30)).toMatchObject({
      "x-ratelimit-limit-tokens": "50",
      "x-ratelimit-remaining-tokens": "20",
    });
    // Across subjects too: the tenant's minute against the key's month.
    expect(await headersOf(new MemoryLimitStore(), { tokensPerMinute: 100 }, 30, { monthlyTokens: 1_000 })).toMatchObject({
      "x-ratelimit-limit-tokens": "100",
    });
    expect(await headersOf(new MemoryLimitStore(), { tokensPerMinute: 100 }, 30, { monthlyTokens: 40 })).toMatchObject({
      "x-ratelimit-limit-tokens": "40",
      "x-ratelimit-remaining-tokens": "10",
    });
  });

  it("a refusal is a 429 whose Retry-After is the time to the next minute; settling at `now` corrects the minute", async () => {
    const store = new MemoryLimitStore();
    const caller = { ...base, limits: { tokensPerMinute: 100 } };
    const ticket = await admit(store, caller, { requestId: "a", now: T0 + 10_000, tokenEstimate: 100 });
    expect("refused" in ticket).toBe(false);
    const refusal = await admit(store, caller, { requestId: "b", now: T0 + 15_000, tokenEstimate: 10 });
    expect("refused" in refusal && refusal.refused).toBeInstanceOf(RateLimitedError);
    if ("refused" in refusal && refusal.refused instanceof RateLimitedError) {
      expect(refusal.refused.retryAfterSeconds).toBe(45);
      expect(refusal.refused.headers).toMatchObject({ "x-ratelimit-limit-tokens": "100", "x-ratelimit-remaining-tokens": "0" });
    }
    if (!("refused" in ticket)) await settle(store, ticket, { tokens: 30 }, T0 + 20_000);
    // `GET /v1/usage` shows the minute's window, charging nothing.
    const status = await limitStatusOf(store, caller, T0 + 20_000);
    expect(status).toEqual({ tenant: { tokensPerMinute: 100, now: { tokens: { limit: 100, remaining: 70, resetSeconds: 40 } } } });
    expect(await limitStatusOf(store, caller, T0 + 20_000)).toEqual(status);
  });
});

describe("--tokens-per-minute", () => {
  const command = (path: string) =>
    path.split(" ").reduce<Command | undefined>((c, name) => c?.commands.find((x) => x.name() === name), buildProgram());

  it("is a limit flag of tenants create|update and keys create|update", () => {
    for (const path of ["tenants create", "tenants update", "keys create", "keys update"])
      expect(command(path)?.options.map((o) => o.long)).toContain("--tokens-per-minute");
  });

  it("takes a positive integer and is shown per minute", () => {
    expect(limitsFrom({ tokensPerMinute: "5000", rate: "2" })).toEqual({ tokensPerMinute: 5000, ratePerSecond: 2 });
    expect(() => limitsFrom({ tokensPerMinute: "1e3" })).toThrow("--tokens-per-minute takes a positive integer, got '1e3'");
    expect(describeLimits({ tokensPerMinute: 5000, monthlyTokens: 1_000_000 })).toBe("5000 tokens/min, 1000000 tokens/month");
  });
});
