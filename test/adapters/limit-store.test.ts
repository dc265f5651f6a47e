import { randomUUID } from "node:crypto";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "@jest/globals";
import { CONC_SK, limitKey, minuteSk, monthSk, RATE_SK } from "../../functions/aws/limit-items";
import { DynamoLimitStore, type LimitStoreOptions } from "../../functions/aws/limit-store";
import { usageTable } from "../../functions/contract/tables";
import { minuteOf, monthOf } from "../../functions/core/limits/math";
import { type Admission, chargeAll, type Refused, type TenantLimits } from "../../functions/core/limits/tenant-limits";
import { e2eTable, localDocumentClient } from "./dynamo";

const doc = localDocumentClient();
const table = e2eTable(usageTable);

/** Several stores with their own clients: as many Lambda instances / processes. */
const stores = (n: number, options?: LimitStoreOptions) =>
  Array.from({ length: n }, () => new DynamoLimitStore(localDocumentClient(), table, options));
/** Every admission charges the month's counter and the TAT itself, as before leases and blocks (these tests read those items). */
const PER_REQUEST: LimitStoreOptions = { quotaLeases: false, rateBlocks: false };
const subject = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
/** DynamoDB Local applies one item's writes one at a time, ~100–200 ms each on a loaded 2-core machine. */
const HEAVY_MS = 240_000;
const ctx = (now: number, tokenEstimate?: number) => ({ now, requestId: randomUUID(), ...(tokenEstimate ? { tokenEstimate } : {}) });

/** Every refusal must say when to come back: whole seconds, at least 1. */
function refusals(results: readonly Admission[]): Refused[] {
  const out = results.filter((r): r is Refused => !r.admitted);
  for (const r of out) {
    expect(Number.isInteger(r.retryAfterSeconds)).toBe(true);
    expect(r.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(r.message).not.toBe("");
  }
  return out;
}

async function item(s: string, sk: string) {
  return (await doc.send(new GetCommand({ TableName: table, Key: limitKey(s, sk), ConsistentRead: true }))).Item;
}

describe("DynamoLimitStore (DynamoDB Local)", () => {
  it(
    "a monthly quota of 100 admits exactly 100 of 300 concurrent requests from 3 stores (leased blocks)",
    async () => {
      const s = subject("quota");
      const limits: TenantLimits = { monthlyRequests: 100 };
      const pool = stores(3);
      const now = Date.now();
      const results = await Promise.all(
        Array.from({ length: 300 }, (_, i) => (pool[i % 3] as DynamoLimitStore).charge(s, limits, ctx(now))),
      );
      expect(results.filter((r) => r.admitted)).toHaveLength(100);
      const refused = refusals(results);
      expect(refused).toHaveLength(200);
      expect(new Set(refused.map((r) => r.limit))).toEqual(new Set(["monthlyRequests"]));
      expect(refused[0]?.headers["x-ratelimit-remaining-requests"]).toBe("0");
      expect(refused[0]?.retryAfterSeconds).toBe(Math.ceil((monthOf(now).resetMs - now) / 1000));
      expect((await item(s, monthSk(monthOf(now).period)))?.requests).toBe(100);
    },
    HEAVY_MS,
  );

  it(
    "50 req/s offered for 3 s against 10 req/s burst 20 admits burst + rate × elapsed (injected clock)",
    async () => {
      const s = subject("rate");
      const limits: TenantLimits = { ratePerSecond: 10, burst: 20 };
      const pool = stores(2);
      const t0 = Date.now();
      const admittedAt: number[] = [];
      // Every 100 ms of virtual time, 5 requests at once from two processes: 50 req/s.
      for (let tick = 0; tick < 30; tick++) {
        const now = t0 + tick * 100;
        const results = await Promise.all(
          Array.from({ length: 5 }, (_, i) => (pool[i % 2] as DynamoLimitStore).charge(s, limits, ctx(now))),
        );
        refusals(results);
        for (const r of results) if (r.admitted) admittedAt.push(now);
      }
      const spanS = ((admittedAt.at(-1) ?? t0) - t0) / 1000;
      const bound = 20 + 10 * spanS; // 20 + 10 × 2.9 = 49
      expect(admittedAt.length).toBeLessThanOrEqual(bound);
      expect(admittedAt.length).toBe(49); // the bound is met exactly: no overshoot, no lost cell
    },
    HEAVY_MS,
  );

  it(
    "never exceeds burst + rate × span when 150 requests over 3 s all race at once, out of order",
    async () => {
      const s = subject("race");
      const limits: TenantLimits = { ratePerSecond: 10, burst: 20 };
      const pool = stores(3);
      const t0 = Date.now();
      // Stamps 20 ms apart (50 req/s), sent together in a shuffled order: the worst interleaving
      // of the two GCRA branches, and clocks that disagree between processes.
      const stamps = Array.from({ length: 150 }, (_, i) => t0 + i * 20).sort(() => Math.random() - 0.5);
      const results = await Promise.all(stamps.map((now, i) => (pool[i % 3] as DynamoLimitStore).charge(s, limits, ctx(now))));
      refusals(results);
      const admittedAt = stamps.filter((_, i) => results[i]?.admitted);
      const spanS = (Math.max(...admittedAt) - Math.min(...admittedAt)) / 1000;
      const bound = 20 + 10 * spanS;
      console.info(`rate race: admitted ${admittedAt.length} of 150, stamps spanning ${spanS.toFixed(2)} s, bound ${bound.toFixed(1)}`);
      expect(admittedAt.length).toBeGreaterThanOrEqual(20);
      expect(admittedAt.length).toBeLessThanOrEqual(bound);
    },
    HEAVY_MS,
  );

  it(
    "concurrent token reservations never pass the quota; settling frees the unused part (a write per admission)",
    async () => {
      const s = subject("tokens");
      const quota = 1_000;
      const estimate = 100;
      const limits: TenantLimits = { monthlyTokens: quota };
      const pool = stores(2, PER_REQUEST);
      const now = Date.now();
      const key = monthSk(monthOf(now).period);
      let spent = 0;
      for (let wave = 0; wave < 5; wave++) {
        const results = await Promise.all(
          Array.from({ length: 40 }, (_, i) => (pool[i % 2] as DynamoLimitStore).charge(s, limits, ctx(now, estimate))),
        );
        const granted = results.filter((r) => r.admitted);
        refusals(results);
        // Reserved + spent tokens never exceed the quota, whatever the interleaving.
        expect(granted.length).toBe(Math.floor((quota - spent) / estimate));
        expect((await item(s, key))?.tokens).toBeLessThanOrEqual(quota);
        // The models used less than estimated: 60 each.
        await Promise.all(granted.map((r) => (pool[0] as DynamoLimitStore).release(r.handle, { actualTokens: 60 })));
        spent += granted.length * 60;
        expect((await item(s, key))?.tokens).toBe(spent);
      }
      expect(spent).toBeLessThanOrEqual(quota);
      // A request whose actual count exceeds its reservation overshoots by at most that excess.
      const last = await (pool[0] as DynamoLimitStore).charge(s, limits, ctx(now, quota - spent));
      expect(last.admitted).toBe(true);
      if (last.admitted) await (pool[0] as DynamoLimitStore).release(last.handle, { actualTokens: quota - spent + estimate });
      expect((await item(s, key))?.tokens).toBe(quota + estimate);
      const after = await (pool[1] as DynamoLimitStore).charge(s, limits, ctx(now));
      expect(after).toMatchObject({ admitted: false, limit: "monthlyTokens" });
      expect(refusals([after])[0]?.headers["x-ratelimit-remaining-tokens"]).toBe("0");
    },
    HEAVY_MS,
  );

  it(
    "tokensPerMinute 100: 30 concurrent reservations of 10 admit exactly 10; settling lowers the minute, a new minute starts empty",
    async () => {
      const s = subject("tpm");
      const limits: TenantLimits = { tokensPerMinute: 100 };
      const pool = stores(2);
      // 20 s into a minute, so the refusals' Retry-After is the 40 s to the next one.
      const now = minuteOf(Date.now()).startMs + 20_000;
      const key = minuteSk(minuteOf(now).period);
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) => (pool[i % 2] as DynamoLimitStore).charge(s, limits, ctx(now, 10))),
      );
      const granted = results.filter((r) => r.admitted);
      // tokenCeiling(100, 10) = 90: admitted at 0, 10, …, 90 used, so never more than the limit reserved.
      expect(granted).toHaveLength(10);
      const refused = refusals(results);
      expect(refused.every((r) => r.limit === "tokensPerMinute" && r.retryAfterSeconds === 40)).toBe(true);
      expect(refused[0]?.headers).toMatchObject({ "x-ratelimit-limit-tokens": "100", "x-ratelimit-remaining-tokens": "0" });
      expect((await item(s, key))?.tokens).toBe(100);
      // The models used 4 each: settling within the minute gives back the other 6.
      await Promise.all(granted.map((r) => (pool[1] as DynamoLimitStore).release(r.handle, { actualTokens: 4, now: now + 1_000 })));
      expect((await item(s, key))?.tokens).toBe(40);
      expect((await (pool[0] as DynamoLimitStore).peek(s, limits, now)).tokens).toEqual({ limit: 100, remaining: 60, resetSeconds: 40 });
      const more = await Promise.all(Array.from({ length: 10 }, () => (pool[0] as DynamoLimitStore).charge(s, limits, ctx(now, 10))));
      expect(more.filter((r) => r.admitted)).toHaveLength(6);
      // A settlement after its minute has ended leaves that minute as it was; the next one starts empty.
      const late = more.find((r) => r.admitted);
      if (late?.admitted) await (pool[0] as DynamoLimitStore).release(late.handle, { actualTokens: 0, now: now + 60_000 });
      expect((await item(s, key))?.tokens).toBe(100);
      const next = await (pool[1] as DynamoLimitStore).charge(s, limits, ctx(now + 60_000, 10));
      expect(next).toMatchObject({ admitted: true, headers: { "x-ratelimit-remaining-tokens": "90" } });
      expect((await item(s, minuteSk(minuteOf(now + 60_000).period)))?.expiresAt).toBe((minuteOf(now + 60_000).resetMs + 300_000) / 1000);
    },
    HEAVY_MS,
  );

  it("a refusal after the minute's charge gives its tokens back; the binding token window is reported", async () => {
    const s = subject("tpm-undo");
    const limits: TenantLimits = { tokensPerMinute: 1_000, monthlyTokens: 50, concurrency: 1 };
    const store = (stores(1) as [DynamoLimitStore])[0];
    const now = Date.now();
    const held = await store.charge(s, limits, ctx(now, 20));
    // The month (30 left) binds the tokens headers, not the minute (980 left).
    expect(held).toMatchObject({ admitted: true, headers: { "x-ratelimit-limit-tokens": "50", "x-ratelimit-remaining-tokens": "30" } });
    expect(await store.charge(s, limits, ctx(now, 40))).toMatchObject({
      admitted: false,
      limit: "monthlyTokens",
      retryAfterSeconds: Math.ceil((monthOf(now).resetMs - now) / 1000),
    });
    expect(await store.charge(s, limits, ctx(now, 10))).toMatchObject({ admitted: false, limit: "concurrency" });
    expect((await item(s, minuteSk(minuteOf(now).period)))?.tokens).toBe(20);
    if (held.admitted) await store.cancel(held.handle);
    expect((await item(s, minuteSk(minuteOf(now).period)))?.tokens).toBe(0);
  });

  it("20 concurrent holders against a cap of 5: 5 hold a slot, and released slots are reused", async () => {
    const s = subject("conc");
    const limits: TenantLimits = { concurrency: 5 };
    const pool = stores(4);
    const now = Date.now();
    const first = await Promise.all(Array.from({ length: 20 }, (_, i) => (pool[i % 4] as DynamoLimitStore).charge(s, limits, ctx(now))));
    const holders = first.filter((r) => r.admitted);
    expect(holders).toHaveLength(5);
    expect(refusals(first).every((r) => r.limit === "concurrency")).toBe(true);
    expect(Object.keys((await item(s, CONC_SK))?.leases ?? {})).toHaveLength(5);
    await Promise.all(holders.map((h) => (pool[0] as DynamoLimitStore).release(h.handle, {})));
    const second = await Promise.all(Array.from({ length: 20 }, (_, i) => (pool[i % 4] as DynamoLimitStore).charge(s, limits, ctx(now))));
    expect(second.filter((r) => r.admitted)).toHaveLength(5);
    refusals(second);
  });

  it("a crashed holder's slot comes back once its lease has run out", async () => {
    const s = subject("lease");
    const [a, b] = stores(2, { leaseMs: 5_000 }) as [DynamoLimitStore, DynamoLimitStore];
    const now = Date.now();
    expect((await a.charge(s, { concurrency: 2 }, ctx(now))).admitted).toBe(true);
    expect((await a.charge(s, { concurrency: 2 }, ctx(now))).admitted).toBe(true); // process a then dies holding both
    refusals([await b.charge(s, { concurrency: 2 }, ctx(now + 4_999))]);
    const later = await Promise.all([b.charge(s, { concurrency: 2 }, ctx(now + 5_001)), b.charge(s, { concurrency: 2 }, ctx(now + 5_001))]);
    expect(later.every((r) => r.admitted)).toBe(true);
    expect(Object.keys((await item(s, CONC_SK))?.leases ?? {})).toHaveLength(2);
  });

  it("refused requests consume nothing: rate cells, requests and tokens are given back (a write per admission)", async () => {
    const s = subject("nothing");
    const limits: TenantLimits = { ratePerSecond: 100, burst: 100, monthlyRequests: 1_000, monthlyTokens: 10_000, concurrency: 2 };
    const store = (stores(1, PER_REQUEST) as [DynamoLimitStore])[0];
    const now = Date.now();
    const held = await Promise.all([store.charge(s, limits, ctx(now, 10)), store.charge(s, limits, ctx(now, 10))]);
    expect(held.every((r) => r.admitted)).toBe(true);
    const rateBefore = (await item(s, RATE_SK))?.tatUs;
    const monthBefore = await item(s, monthSk(monthOf(now).period));
    // Refused by concurrency, after rate and month were charged.
    const byConcurrency = await Promise.all(Array.from({ length: 10 }, () => store.charge(s, limits, ctx(now, 10))));
    expect(refusals(byConcurrency).map((r) => r.limit)).toEqual(Array(10).fill("concurrency"));
    // Refused by tokens, after the rate was charged.
    const byTokens = await store.charge(s, limits, ctx(now, 20_000));
    expect(byTokens).toMatchObject({ admitted: false, limit: "monthlyTokens" });
    expect((await item(s, RATE_SK))?.tatUs).toBe(rateBefore);
    const monthAfter = await item(s, monthSk(monthOf(now).period));
    expect({ requests: monthAfter?.requests, tokens: monthAfter?.tokens }).toEqual({ requests: 2, tokens: 20 });
    expect(monthAfter?.requests).toBe(monthBefore?.requests);
    // cancel gives back an admitted request entirely.
    const first = held[0];
    if (first?.admitted) await store.cancel(first.handle);
    expect(await item(s, monthSk(monthOf(now).period))).toMatchObject({ requests: 1, tokens: 10 });
    expect((await store.charge(s, limits, ctx(now, 10))).admitted).toBe(true);
  });

  it("chargeAll: a key refusal leaves the tenant's counters untouched (a write per admission)", async () => {
    const tenant = subject("tenant");
    const store = (stores(1, PER_REQUEST) as [DynamoLimitStore])[0];
    const now = Date.now();
    const checks = [
      { subject: tenant, limits: { monthlyRequests: 50, ratePerSecond: 50 } },
      { subject: `${tenant}/k1`, limits: { monthlyRequests: 1 } },
    ];
    const ok = await chargeAll(store, checks, ctx(now));
    expect(ok.admitted).toBe(true);
    const before = await store.peek(tenant, checks[0]?.limits ?? {}, now);
    const no = await chargeAll(store, checks, ctx(now));
    expect(no).toMatchObject({ admitted: false, limit: "monthlyRequests" });
    expect(await store.peek(tenant, checks[0]?.limits ?? {}, now)).toEqual(before);
    expect((await item(tenant, monthSk(monthOf(now).period)))?.requests).toBe(1);
  });

  it("successful admissions carry the x-ratelimit headers of the binding limit", async () => {
    const s = subject("hdr");
    const store = (stores(1) as [DynamoLimitStore])[0];
    const now = Date.now();
    const limits: TenantLimits = { ratePerSecond: 5, burst: 10, monthlyRequests: 1_000, monthlyTokens: 500 };
    const a = await store.charge(s, limits, ctx(now, 50));
    expect(a.headers).toMatchObject({
      "x-ratelimit-limit-requests": "10",
      "x-ratelimit-remaining-requests": "9",
      "x-ratelimit-reset-requests": "1",
      "x-ratelimit-limit-tokens": "500",
      "x-ratelimit-remaining-tokens": "450",
    });
    expect(a.headers["x-ratelimit-reset-tokens"]).toBe(String(Math.ceil((monthOf(now).resetMs - now) / 1000)));
  });

  it("a subject without limits costs no DynamoDB call; DynamoDB errors propagate (fail closed)", async () => {
    let calls = 0;
    const throttling = Object.assign(new Error("Rate of requests exceeds the allowed throughput."), { name: "ThrottlingException" });
    const failing = {
      send: async () => {
        calls++;
        throw throttling;
      },
    } as unknown as typeof doc;
    const store = new DynamoLimitStore(failing, table);
    const free = await store.charge("free", {}, ctx(Date.now()));
    expect(free).toMatchObject({ admitted: true, headers: {} });
    if (free.admitted) await store.release(free.handle, { actualTokens: 5 });
    expect(calls).toBe(0);
    await expect(store.charge("t", { monthlyRequests: 5 }, ctx(Date.now()))).rejects.toThrow(/throughput/);
    await expect(store.charge("t", { ratePerSecond: 5 }, ctx(Date.now()))).rejects.toThrow(/throughput/);
  });
});
