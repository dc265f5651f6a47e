import { describe, expect, it } from "@jest/globals";
import { admit, limitChecksOf, limitStatusOf } from "../../functions/core/admission";
import { RateLimitedError, toErrorResponse } from "../../functions/core/errors";
import {
  gcra,
  gcraParams,
  monthOf,
  quotaWindow,
  rateWindow,
  retryAfterSeconds,
  tighter,
  tokenCeiling,
  tokenReservation,
  toMicros,
} from "../../functions/core/limits/math";
import {
  chargeAll,
  hasLimits,
  limitSubject,
  mergeStates,
  type RateLimitState,
  rateLimitHeaders,
  refusalError,
  refused,
  releaseAll,
  validateLimits,
} from "../../functions/core/limits/tenant-limits";
import { principalFromContext, principalToContext } from "../../functions/core/principal";
import { MemoryLimitStore } from "../support/memory-limit-store";

const T0 = Date.UTC(2026, 10, 28, 13, 0, 0);

/** Offers one request at each of `times` (ms) to a sequential GCRA; returns the admitted times. */
function simulate(rate: number, burst: number, times: readonly number[]): number[] {
  const p = gcraParams(rate, burst);
  let tat: number | undefined;
  const ok: number[] = [];
  for (const t of times) {
    const d = gcra(tat, toMicros(t), p);
    if (d.admitted) {
      tat = d.tatUs;
      ok.push(t);
    }
  }
  return ok;
}

describe("GCRA", () => {
  it("admits a full burst at once, then refuses with the time to the next cell", () => {
    const p = gcraParams(10, 20);
    expect(p).toEqual({ intervalUs: 100_000, toleranceUs: 1_900_000, burst: 20 });
    let tat: number | undefined;
    const now = toMicros(T0);
    for (let i = 0; i < 20; i++) {
      const d = gcra(tat, now, p);
      expect(d.admitted).toBe(true);
      if (d.admitted) tat = d.tatUs;
    }
    expect(tat).toBe(now + 2_000_000);
    expect(gcra(tat, now, p)).toEqual({ admitted: false, retryAfterUs: 100_000 });
    // One interval later exactly one more cell is free.
    expect(gcra(tat, now + 100_000, p).admitted).toBe(true);
    expect(gcra(tat, now + 99_999, p).admitted).toBe(false);
  });

  it("keeps a sustained overload within burst + rate × elapsed, and fills that bound", () => {
    // 50 req/s offered for 3 s against 10 req/s with burst 20.
    const times = Array.from({ length: 150 }, (_, i) => T0 + i * 20);
    const ok = simulate(10, 20, times);
    const spanS = ((ok.at(-1) ?? T0) - T0) / 1000;
    expect(ok.length).toBeLessThanOrEqual(20 + 10 * spanS);
    expect(ok.length).toBe(20 + Math.floor(10 * 2.98)); // 20 at once, then one per 100 ms
  });

  it("lets an idle subject burst again once the TAT has passed", () => {
    const ok = simulate(5, 5, [...Array.from({ length: 10 }, () => T0), ...Array.from({ length: 10 }, () => T0 + 1_000)]);
    expect(ok.filter((t) => t === T0)).toHaveLength(5);
    expect(ok.filter((t) => t === T0 + 1_000)).toHaveLength(5);
  });

  it("without a burst admits one request per interval", () => {
    expect(simulate(2, 1, [T0, T0 + 1, T0 + 499, T0 + 500, T0 + 999, T0 + 1000])).toEqual([T0, T0 + 500, T0 + 1000]);
  });

  it("rounds odd rates to whole microseconds", () => {
    expect(gcraParams(3, 1).intervalUs).toBe(333_333);
    expect(gcraParams(1_000_000, 1).intervalUs).toBe(1);
    expect(toMicros(1.5)).toBe(1500);
  });

  it("Retry-After is whole seconds and at least 1", () => {
    expect(retryAfterSeconds(0)).toBe(1);
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(1_000_000)).toBe(1);
    expect(retryAfterSeconds(1_000_001)).toBe(2);
  });

  it("reports the rate window: burst as the limit, what could go now, and time to refill", () => {
    const p = gcraParams(10, 20);
    const now = toMicros(T0);
    expect(rateWindow(undefined, now, p)).toEqual({ limit: 20, remaining: 20, resetSeconds: 0 });
    expect(rateWindow(now + 100_000, now, p)).toEqual({ limit: 20, remaining: 19, resetSeconds: 1 });
    expect(rateWindow(now + 2_000_000, now, p)).toEqual({ limit: 20, remaining: 0, resetSeconds: 2 });
    expect(rateWindow(now - 5_000_000, now, p).remaining).toBe(20);
  });
});

describe("months", () => {
  it("are UTC calendar months that reset at the first instant of the next", () => {
    const last = Date.UTC(2026, 11, 31, 23, 59, 59, 999);
    expect(monthOf(last)).toEqual({ period: "2026-12", startMs: Date.UTC(2026, 11, 1), resetMs: Date.UTC(2027, 0, 1) });
    expect(monthOf(last + 1).period).toBe("2027-01");
    expect(monthOf(Date.UTC(2028, 1, 29, 12)).resetMs).toBe(Date.UTC(2028, 2, 1));
    expect(monthOf(Date.UTC(2026, 0, 1)).period).toBe("2026-01");
  });

  it("quota windows count down to the month's end, never below 1 s", () => {
    const m = monthOf(T0);
    expect(quotaWindow(100, 30, m, T0)).toEqual({ limit: 100, remaining: 70, resetSeconds: 2 * 86_400 + 11 * 3600 });
    expect(quotaWindow(100, 130, m, T0).remaining).toBe(0);
    expect(quotaWindow(100, 100, m, m.resetMs - 1).resetSeconds).toBe(1);
  });

  it("token reservations fit the quota, and with no estimate refuse only once it is spent", () => {
    expect(tokenCeiling(1000, 100)).toBe(900);
    expect(tokenCeiling(1000, 0)).toBe(999);
    expect(tokenReservation(1000, 250.2)).toBe(251);
    expect(tokenReservation(1000)).toBe(0);
    // An estimate above the whole quota reserves the quota: admitted in an untouched month only.
    expect(tokenReservation(1000, 5000)).toBe(1000);
    expect(tokenCeiling(1000, 1000)).toBe(0);
  });
});

describe("headers", () => {
  const state: RateLimitState = {
    requests: { limit: 20, remaining: 7, resetSeconds: 2 },
    tokens: { limit: 10_000, remaining: 9_000, resetSeconds: 3600 },
  };

  it("map each family to the x-ratelimit-* trio", () => {
    expect(rateLimitHeaders(state)).toEqual({
      "x-ratelimit-limit-requests": "20",
      "x-ratelimit-remaining-requests": "7",
      "x-ratelimit-reset-requests": "2",
      "x-ratelimit-limit-tokens": "10000",
      "x-ratelimit-remaining-tokens": "9000",
      "x-ratelimit-reset-tokens": "3600",
    });
    expect(rateLimitHeaders({})).toEqual({});
    expect(Object.keys(rateLimitHeaders({ requests: { limit: 1, remaining: 0, resetSeconds: 1 } }))).toHaveLength(3);
  });

  it("report the binding window when two limits (or subjects) apply", () => {
    const rate = { limit: 20, remaining: 7, resetSeconds: 2 };
    const quota = { limit: 100, remaining: 3, resetSeconds: 86_400 };
    expect(tighter(rate, quota)).toBe(quota);
    expect(tighter(rate, { ...rate, resetSeconds: 9 })?.resetSeconds).toBe(9);
    expect(tighter(undefined, rate)).toBe(rate);
    expect(mergeStates(state, { requests: quota })).toEqual({ requests: quota, tokens: state.tokens });
  });

  it("a refusal becomes a 429 with Retry-After and the headers", () => {
    const r = refused("ratePerSecond", "slow down", 0.2, state);
    expect(r.retryAfterSeconds).toBe(1);
    const res = toErrorResponse(refusalError(r), "req-1");
    expect(res.statusCode).toBe(429);
    expect(res.headers["retry-after"]).toBe("1");
    expect(res.headers["x-ratelimit-remaining-requests"]).toBe("7");
    expect(JSON.parse(res.body)).toEqual({ error: { type: "rate_limited", message: "slow down", request_id: "req-1" } });
  });
});

describe("validateLimits", () => {
  it("accepts positive integers and keeps burst unset (it defaults to the rate)", () => {
    const v = validateLimits({ ratePerSecond: 10, monthlyRequests: 1000, monthlyTokens: 5, concurrency: 2 });
    expect(v).toEqual({ ok: true, limits: { ratePerSecond: 10, monthlyRequests: 1000, monthlyTokens: 5, concurrency: 2 } });
    expect(validateLimits({})).toEqual({ ok: true, limits: {} });
    expect(validateLimits({ ratePerSecond: 1, burst: 1 }).ok).toBe(true);
  });

  it.each([
    [{ ratePerSecond: 0 }, "ratePerSecond must be a positive integer, got 0"],
    [{ burst: 0, ratePerSecond: 1 }, "burst must be a positive integer, got 0"],
    [{ monthlyRequests: -5 }, "monthlyRequests must be a positive integer, got -5"],
    [{ monthlyTokens: 1.5 }, "monthlyTokens must be a positive integer, got 1.5"],
    [{ concurrency: "3" }, 'concurrency must be a positive integer, got "3"'],
    [{ concurrency: 1001 }, "concurrency must be at most 1000, got 1001"],
    [{ ratePerSecond: null }, "ratePerSecond must be a positive integer, got null"],
    [{ burst: 5 }, "burst needs ratePerSecond"],
    [{ rps: 5 }, "unknown limit 'rps'"],
    [null, "limits must be an object"],
    [[1], "limits must be an object"],
  ])("refuses %j", (input, message) => {
    const v = validateLimits(input);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.message).toContain(message);
  });

  it("hasLimits and subjects", () => {
    expect(hasLimits({})).toBe(false);
    expect(hasLimits({ concurrency: 1 })).toBe(true);
    expect(limitSubject("acme")).toBe("acme");
    expect(limitSubject("acme", "k1")).toBe("acme/k1");
  });
});

describe("MemoryLimitStore and chargeAll", () => {
  const ctx = (requestId: string, now = T0, tokenEstimate?: number) => ({ requestId, now, ...(tokenEstimate ? { tokenEstimate } : {}) });

  it("a refusal by the key's limits charges the tenant nothing", async () => {
    const store = new MemoryLimitStore();
    const tenant = { subject: "acme", limits: { ratePerSecond: 10, monthlyRequests: 100, concurrency: 5 } };
    const key = { subject: "acme/k1", limits: { monthlyRequests: 1 } };
    const first = await chargeAll(store, [tenant, key], ctx("r1"));
    expect(first.admitted).toBe(true);
    const before = await store.peek("acme", tenant.limits, T0);
    const second = await chargeAll(store, [tenant, key], ctx("r2"));
    expect(second).toMatchObject({ admitted: false, limit: "monthlyRequests" });
    expect(await store.peek("acme", tenant.limits, T0)).toEqual(before);
    if (first.admitted) {
      expect(first.headers["x-ratelimit-remaining-requests"]).toBe("0"); // the key's quota binds
      await releaseAll(store, first.handles, {});
    }
  });

  it("settles tokens to the real count and frees the slot; subjects without limits cost nothing", async () => {
    const store = new MemoryLimitStore();
    const limits = { monthlyTokens: 1000, concurrency: 1 };
    const a = await store.charge("t", limits, ctx("r1", T0, 400));
    expect(a.admitted && a.state.tokens?.remaining).toBe(600);
    expect((await store.charge("t", limits, ctx("r2", T0, 1))).admitted).toBe(false);
    if (a.admitted) await store.release(a.handle, { actualTokens: 150 });
    if (a.admitted) await store.release(a.handle, { actualTokens: 150 }); // idempotent
    expect((await store.peek("t", limits, T0)).tokens?.remaining).toBe(850);
    expect((await store.charge("t", limits, ctx("r3"))).admitted).toBe(true);
    expect(await chargeAll(store, [{ subject: "free", limits: {} }], ctx("r4"))).toMatchObject({
      admitted: true,
      handles: [],
      headers: {},
    });
  });

  it("a slot whose holder never settles comes back after the lease", async () => {
    const store = new MemoryLimitStore(1_000);
    expect((await store.charge("c", { concurrency: 1 }, ctx("r1"))).admitted).toBe(true);
    expect((await store.charge("c", { concurrency: 1 }, ctx("r2", T0 + 999))).admitted).toBe(false);
    expect((await store.charge("c", { concurrency: 1 }, ctx("r3", T0 + 1_001))).admitted).toBe(true);
  });
});

describe("per-key limits at admission", () => {
  const base = { tenantId: "acme", keyId: "k2", scopes: ["invoke" as const], models: ["iris"], plan: "default" };
  const ctx = (requestId: string) => ({ requestId, now: T0, tokenEstimate: 0 });

  it("check the tenant's and the key's limits as separate subjects; a rotated key charges its predecessor's", () => {
    expect(limitChecksOf(base)).toEqual([]);
    expect(limitChecksOf({ ...base, limits: { concurrency: 2 }, keyLimits: { monthlyRequests: 3 } })).toEqual([
      { of: "tenant", subject: "acme", limits: { concurrency: 2 } },
      { of: "key", subject: "acme/k2", limits: { monthlyRequests: 3 } },
    ]);
    expect(limitChecksOf({ ...base, keyLimits: { monthlyRequests: 3 }, limitKeyId: "k1" })).toEqual([
      { of: "key", subject: "acme/k1", limits: { monthlyRequests: 3 } },
    ]);
  });

  it("travel through the authorizer context and back", () => {
    const p = { ...base, limits: { ratePerSecond: 5 }, keyLimits: { monthlyRequests: 3 }, limitKeyId: "k1" };
    expect(principalFromContext(principalToContext(p))).toEqual(p);
    expect(principalFromContext(principalToContext(base))).toEqual(base);
  });

  it("a key over its own quota gets a 429 while its tenant (and its other keys) go on", async () => {
    const store = new MemoryLimitStore();
    const limited = { ...base, limits: { monthlyRequests: 100 }, keyLimits: { monthlyRequests: 2 } };
    const other = { ...base, keyId: "k3", limits: { monthlyRequests: 100 } };
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push(await admit(store, limited, ctx(`a${i}`)));
    expect(outcomes.map((o) => "refused" in o)).toEqual([false, false, true]);
    const refusal = outcomes[2];
    expect(refusal && "refused" in refusal && refusal.refused).toBeInstanceOf(RateLimitedError);
    if (refusal && "refused" in refusal && refusal.refused instanceof RateLimitedError)
      expect(refusal.refused.headers["x-ratelimit-limit-requests"]).toBe("2");
    // The refused request charged the tenant nothing: 2 of its 100 are used.
    expect((await store.peek("acme", { monthlyRequests: 100 }, T0)).requests?.remaining).toBe(98);
    const fromOther = await admit(store, other, ctx("b0"));
    expect("refused" in fromOther).toBe(false);
    if (!("refused" in fromOther)) expect(fromOther.headers["x-ratelimit-remaining-requests"]).toBe("97");

    // What `GET /v1/usage` shows the caller: each set of limits and where it stands, charging nothing.
    const status = await limitStatusOf(store, limited, T0);
    expect(status).toMatchObject({
      tenant: { monthlyRequests: 100, now: { requests: { limit: 100, remaining: 97 } } },
      key: { monthlyRequests: 2, now: { requests: { limit: 2, remaining: 0 } } },
    });
    expect(await limitStatusOf(store, limited, T0)).toEqual(status);
    expect(await limitStatusOf(store, base, T0)).toEqual({});
  });
});
