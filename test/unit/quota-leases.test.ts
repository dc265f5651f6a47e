import { describe, expect, it } from "@jest/globals";
import { admit } from "../../functions/core/admission";
import { type InferenceRequest, runInference } from "../../functions/core/inference";
import type { CounterBounds, CounterKey, LeaseReturn, QuotaLease } from "../../functions/core/limits/cells";
import { LimitLedger } from "../../functions/core/limits/ledger";
import { monthOf } from "../../functions/core/limits/math";
import type { QuotaLeaseOptions } from "../../functions/core/limits/quota-leases";
import { type Admission, type Admitted, chargeAll, type TenantLimits } from "../../functions/core/limits/tenant-limits";
import type { Page, RegistryReader, UsageReader } from "../../functions/core/ports";
import type { Principal } from "../../functions/core/principal";
import type { ModelRecord } from "../../functions/core/registry";
import type { UsageRecord } from "../../functions/core/usage";
import { MemoryLimitCells } from "../support/memory-limit-store";

// The lease rules of monthly quotas (functions/core/limits/quota-leases.ts) on memory cells:
// several ledgers over one set of cells are several holders (processes) sharing a counter.

const T0 = Date.UTC(2026, 5, 10, 12, 0, 30);
const monthKey = (subject: string, now = T0): CounterKey => ({ subject, window: "month", period: monthOf(now).period, endsAtMs: 0 });

/** Memory cells that count what a DynamoDB table would be asked to do. */
class CountingCells extends MemoryLimitCells {
  writes = 0;
  reads = 0;
  /** Leases taken, with the counter before the write and what the write gave back. */
  readonly taken: { lease: QuotaLease; before: number; back: number }[] = [];
  override async takeQuotaLease(key: CounterKey, lease: QuotaLease, bounds: CounterBounds, back?: LeaseReturn) {
    this.writes++;
    const before = await super.readQuotaLeases(key);
    const out = await super.takeQuotaLease(key, lease, bounds, back);
    if (out.ok) this.taken.push({ lease, before: before.requests, back: back?.requests ?? 0 });
    return out;
  }
  override async endQuotaLease(key: CounterKey, back: LeaseReturn) {
    this.writes++;
    return super.endQuotaLease(key, back);
  }
  override async addCounts(...args: Parameters<MemoryLimitCells["addCounts"]>) {
    this.writes++;
    return super.addCounts(...args);
  }
  override async adjustCounts(...args: Parameters<MemoryLimitCells["adjustCounts"]>) {
    this.writes++;
    return super.adjustCounts(...args);
  }
  override async readQuotaLeases(key: CounterKey) {
    this.reads++;
    return super.readQuotaLeases(key);
  }
}

/** Usage records as a reclaim reads them: per tenant and day, filtered by time. */
class MemoryRecords implements Pick<UsageReader, "records"> {
  readonly items: UsageRecord[] = [];
  add(requestId: string, time: number, leases: readonly string[], tokens?: number): void {
    this.items.push({
      requestId,
      time: new Date(time).toISOString(),
      tenantId: "t",
      keyId: "k",
      model: "m",
      version: 1,
      status: 200,
      latencyMs: 1,
      bytesIn: 1,
      bytesOut: 1,
      leases,
      ...(tokens !== undefined ? { tokens: { input: 0, output: tokens } } : {}),
    });
  }
  async records(tenantId: string, day: string, q: { fromTime: string; toTime: string }): Promise<Page<UsageRecord>> {
    return {
      items: this.items.filter((r) => r.tenantId === tenantId && r.time.startsWith(day) && r.time >= q.fromTime && r.time <= q.toTime),
    };
  }
}

const options = (o: Partial<QuotaLeaseOptions> = {}): QuotaLeaseOptions => ({ settleMs: 10_000, holders: 2, idleMs: 0, ...o });
const ledgers = (cells: CountingCells, n: number, o?: Partial<QuotaLeaseOptions>) =>
  Array.from({ length: n }, () => new LimitLedger(cells, { quotaLeases: options(o) }));
let seq = 0;
const ctx = (now = T0, tokenEstimate = 0) => ({ now, requestId: `r${seq++}`, tokenEstimate });
const admittedOnes = (rs: readonly Admission[]) => rs.filter((r): r is Admitted => r.admitted);

describe("monthly quotas from leased blocks", () => {
  it("300 concurrent requests from 3 holders against a quota of 100 admit exactly 100; returned leases leave the counter at 100", async () => {
    const cells = new CountingCells();
    const pool = ledgers(cells, 3);
    const limits: TenantLimits = { monthlyRequests: 100 };
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => (pool[i % 3] as LimitLedger).charge("t", limits, ctx())));
    expect(admittedOnes(results)).toHaveLength(100);
    expect(results.filter((r) => !r.admitted).every((r) => !r.admitted && r.limit === "monthlyRequests")).toBe(true);
    await Promise.all(pool.map((l) => l.returnLeases()));
    expect(await cells.readQuotaLeases(monthKey("t"))).toEqual({ requests: 100, tokens: 0, leases: expect.any(Array) });
    expect((await cells.readQuotaLeases(monthKey("t"))).leases.every((l) => l.requests > 0)).toBe(true);
    // Far fewer writes than admissions, even with the blocks shrinking to single requests at the end.
    expect(cells.writes).toBeLessThan(60);
  });

  it("blocks double while they run out, so 1,000 admissions of one holder cost about a dozen writes", async () => {
    const cells = new CountingCells();
    const [ledger] = ledgers(cells, 1) as [LimitLedger];
    for (let i = 0; i < 1_000; i++) expect((await ledger.charge("t", { monthlyRequests: 1_000_000 }, ctx())).admitted).toBe(true);
    expect(cells.taken.map((t) => t.lease.requests).slice(0, 6)).toEqual([1, 2, 4, 8, 16, 32]);
    expect(cells.taken.every((t) => t.lease.requests <= 10_000)).toBe(true);
    console.info(`1,000 admissions from leases: ${cells.writes} writes`);
    expect(cells.writes).toBeLessThanOrEqual(12);
    await ledger.returnLeases();
    expect((await cells.readQuotaLeases(monthKey("t"))).requests).toBe(1_000);
  });

  it("near the quota's end leases shrink to at most remaining / (2 × holders), and to single requests", async () => {
    const cells = new CountingCells();
    const pool = ledgers(cells, 2, { holders: 2 });
    const quota = 200;
    for (let i = 0; i < quota + 10; i++) await (pool[i % 2] as LimitLedger).charge("t", { monthlyRequests: quota }, ctx());
    for (const t of cells.taken) expect(t.lease.requests).toBeLessThanOrEqual(Math.max(1, Math.floor((quota - t.before + t.back) / 4)));
    expect(cells.taken.slice(-4).map((t) => t.lease.requests)).toEqual([1, 1, 1, 1]);
    expect((await cells.readQuotaLeases(monthKey("t"))).requests).toBe(quota);
  });

  it("a spent quota refuses from memory: never a write, and one read per recheckMs to look again", async () => {
    const cells = new CountingCells();
    const [a, b] = ledgers(cells, 2, { recheckMs: 1_000, leaseMs: 60_000 }) as [LimitLedger, LimitLedger];
    const limits = { monthlyRequests: 3 };
    for (let i = 0; i < 2; i++) expect((await a.charge("t", limits, ctx())).admitted).toBe(true);
    expect((await b.charge("t", limits, ctx())).admitted).toBe(true);
    const first = await b.charge("t", limits, ctx());
    expect(first).toMatchObject({ admitted: false, limit: "monthlyRequests", headers: { "x-ratelimit-remaining-requests": "0" } });
    expect(!first.admitted && first.retryAfterSeconds).toBe(Math.ceil((monthOf(T0).resetMs - T0) / 1000));
    const { writes, reads } = cells;
    const soon = await Promise.all(Array.from({ length: 50 }, () => b.charge("t", limits, ctx(T0 + 500))));
    expect(soon.every((r) => !r.admitted)).toBe(true);
    expect({ writes: cells.writes, reads: cells.reads }).toEqual({ writes, reads });
    const later = await Promise.all(Array.from({ length: 50 }, () => b.charge("t", limits, ctx(T0 + 1_500))));
    expect(later.every((r) => !r.admitted)).toBe(true);
    expect({ writes: cells.writes, reads: cells.reads }).toEqual({ writes, reads: reads + 1 });
    // A raised quota is a different question: asked again.
    expect((await b.charge("t", { monthlyRequests: 5 }, ctx(T0 + 1_500))).admitted).toBe(true);
  });

  it("a cancelled admission gives its request back to the lease without a write; after the lease ended, to the counter", async () => {
    const cells = new CountingCells();
    const [ledger] = ledgers(cells, 1) as [LimitLedger];
    const limits = { monthlyRequests: 10 };
    const a = await ledger.charge("t", limits, ctx());
    const writes = cells.writes;
    if (a.admitted) await ledger.cancel(a.handle);
    expect(cells.writes).toBe(writes);
    const b = await ledger.charge("t", limits, ctx());
    expect(b.admitted && b.handle.quotaLease).toBe(a.admitted && a.handle.quotaLease);
    await ledger.returnLeases();
    expect((await cells.readQuotaLeases(monthKey("t"))).requests).toBe(1);
    if (b.admitted) await ledger.cancel(b.handle);
    expect((await cells.readQuotaLeases(monthKey("t"))).requests).toBe(0);
  });

  it("a key's refusal gives the tenant's leased request back in memory", async () => {
    const cells = new CountingCells();
    const [ledger] = ledgers(cells, 1) as [LimitLedger];
    const checks = [
      { subject: "t", limits: { monthlyRequests: 10 } },
      { subject: "t/k", limits: { monthlyRequests: 1 } },
    ];
    expect((await chargeAll(ledger, checks, ctx())).admitted).toBe(true);
    expect((await chargeAll(ledger, checks, ctx())).admitted).toBe(false);
    await ledger.returnLeases();
    expect((await cells.readQuotaLeases(monthKey("t"))).requests).toBe(1);
  });

  it("token quotas: reservations come from the lease, settlements go back to it, the counter ends at what was used", async () => {
    const cells = new CountingCells();
    const pool = ledgers(cells, 2);
    const quota = 1_000;
    const limits: TenantLimits = { monthlyTokens: quota };
    let used = 0;
    for (let wave = 0; wave < 6; wave++) {
      // Each request is settled by the holder that admitted it, as in a process.
      const results = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => ({
          by: pool[i % 2] as LimitLedger,
          r: await (pool[i % 2] as LimitLedger).charge("t", limits, ctx(T0, 100)),
        })),
      );
      const granted = results.filter((x) => x.r.admitted);
      // Reserved and used together never pass the quota.
      expect(used + granted.length * 100).toBeLessThanOrEqual(quota);
      await Promise.all(granted.map(({ by, r }) => r.admitted && by.release(r.handle, { actualTokens: 60 })));
      used += granted.length * 60;
    }
    // 60 of each 100 used: once the reservations have settled, the quota fits 16 of them.
    expect(used).toBe(960);
    await Promise.all(pool.map((l) => l.returnLeases()));
    expect((await cells.readQuotaLeases(monthKey("t"))).tokens).toBe(960);
    expect(await (pool[0] as LimitLedger).charge("t", limits, ctx(T0, 100))).toMatchObject({ admitted: false, limit: "monthlyTokens" });
    expect((await (pool[1] as LimitLedger).charge("t", limits, ctx(T0, 40))).admitted).toBe(true);
  });

  it("a settlement above the reservation is charged when the lease ends: the overshoot is the excess, as without leases", async () => {
    const cells = new CountingCells();
    const [ledger] = ledgers(cells, 1) as [LimitLedger];
    const a = await ledger.charge("t", { monthlyTokens: 100 }, ctx(T0, 100));
    if (a.admitted) await ledger.release(a.handle, { actualTokens: 130 });
    expect(await ledger.charge("t", { monthlyTokens: 100 }, ctx(T0, 1))).toMatchObject({ admitted: false, limit: "monthlyTokens" });
    expect((await cells.readQuotaLeases(monthKey("t"))).tokens).toBe(130);
  });

  it("a dead holder's lease is reclaimed once past its end + settleMs: what its records used stays, the rest comes back", async () => {
    const cells = new CountingCells();
    const records = new MemoryRecords();
    const o = { leaseMs: 30_000, settleMs: 10_000, usage: records };
    const [dead, live] = ledgers(cells, 2, o) as [LimitLedger, LimitLedger];
    const limits = { monthlyRequests: 20 };
    // The holder admits 4 (blocks of 1, 2 and 4: 7 debited, the last lease 3 unused); 3 wrote their records, the 4th died unrecorded.
    const taken = admittedOnes(await Promise.all(Array.from({ length: 4 }, () => dead.charge("t", limits, ctx()))));
    expect(taken).toHaveLength(4);
    for (const r of taken.slice(0, 3)) records.add(r.handle.requestId, T0, [r.handle.quotaLease ?? ""]);
    const debited = (await cells.readQuotaLeases(monthKey("t"))).requests;
    expect(debited).toBe(7);
    // Before the reclaim time the other holder can only use what is not leased.
    const early = await Promise.all(Array.from({ length: 30 }, () => live.charge("t", limits, ctx(T0 + 39_000))));
    expect(admittedOnes(early)).toHaveLength(20 - debited);
    // After it, the dead holder's unused part (all but its 3 recorded requests) is admitted again.
    const late = await Promise.all(Array.from({ length: 30 }, () => live.charge("t", limits, ctx(T0 + 40_001))));
    expect(admittedOnes(late)).toHaveLength(debited - 3);
    await live.returnLeases();
    const after = await cells.readQuotaLeases(monthKey("t"));
    expect(after.requests).toBe(20);
    expect(after.leases.map((l) => l.id)).not.toContain(taken[0]?.handle.quotaLease);
  });

  it("without a record reader a dead holder's lease is never given back: nothing beyond the quota, ever", async () => {
    const cells = new CountingCells();
    const [dead, live] = ledgers(cells, 2) as [LimitLedger, LimitLedger];
    const limits = { monthlyRequests: 10 };
    expect((await dead.charge("t", limits, ctx())).admitted).toBe(true);
    const late = await Promise.all(Array.from({ length: 20 }, () => live.charge("t", limits, ctx(T0 + 3_600_000))));
    expect(admittedOnes(late)).toHaveLength(9);
  });

  it("a reclaimed token lease keeps what its records report", async () => {
    const cells = new CountingCells();
    const records = new MemoryRecords();
    const [dead, live] = ledgers(cells, 2, { leaseMs: 30_000, settleMs: 10_000, usage: records }) as [LimitLedger, LimitLedger];
    const limits = { monthlyTokens: 1_000 };
    const a = await dead.charge("t", limits, ctx(T0, 300));
    if (!a.admitted) throw new Error("not admitted");
    records.add(a.handle.requestId, T0 + 1_000, [a.handle.quotaLease ?? ""], 250);
    const late = await live.charge("t", limits, ctx(T0 + 41_000, 750));
    expect(late.admitted).toBe(true);
    expect(await live.charge("t", limits, ctx(T0 + 41_000, 1))).toMatchObject({ admitted: false, limit: "monthlyTokens" });
  });

  it("a holder whose lease was reclaimed while it was away never gives it back twice", async () => {
    const cells = new CountingCells();
    const records = new MemoryRecords();
    const [away, other] = ledgers(cells, 2, { leaseMs: 30_000, settleMs: 10_000, usage: records }) as [LimitLedger, LimitLedger];
    const limits = { monthlyRequests: 10 };
    const a = await away.charge("t", limits, ctx());
    if (a.admitted) records.add(a.handle.requestId, T0, [a.handle.quotaLease ?? ""]);
    // The other holder reclaims it (1 recorded, nothing to give back), then uses the rest.
    expect(admittedOnes(await Promise.all(Array.from({ length: 12 }, () => other.charge("t", limits, ctx(T0 + 41_000)))))).toHaveLength(9);
    // The holder comes back after its lease ended: its next lease finds the old one gone and gives nothing back for it.
    expect((await away.charge("t", limits, ctx(T0 + 42_000))).admitted).toBe(false);
    await other.returnLeases();
    expect((await cells.readQuotaLeases(monthKey("t"))).requests).toBe(10);
  });

  it("admission puts the lease ids on the ticket, for the usage record", async () => {
    const ledger = new LimitLedger(new MemoryLimitCells(), { quotaLeases: options() });
    const principal = {
      tenantId: "t",
      keyId: "k",
      limits: { monthlyRequests: 5 },
      keyLimits: { monthlyRequests: 3 },
    } as unknown as Principal;
    const ticket = await admit(ledger, principal, { now: T0, requestId: "r", tokenEstimate: 0 });
    expect("leases" in ticket && ticket.leases).toHaveLength(2);
    if ("handles" in ticket) expect(ticket.leases).toEqual(ticket.handles.map((h) => h.quotaLease));
  });

  it("the usage record of a request carries its leases, and a reclaim over those records gives back exactly the rest", async () => {
    const version = {
      model: "iris",
      version: 1,
      runtime: "onnx",
      status: "ready",
      endpointName: "e",
      variantName: "v1",
      artifactUri: "s3://b/k",
      createdAt: "",
    };
    const target = { model: "iris", alias: "prod", targets: [{ version: 1, weight: 100 }], revision: 1, updatedAt: "", updatedBy: "" };
    const model = {
      model: "iris",
      defaultAlias: "prod",
      versions: new Map([[1, version]]),
      aliases: new Map([["prod", target]]),
    } as ModelRecord;
    const registry: RegistryReader = { getModel: async () => model, listModels: async () => ["iris"] };
    const stored = new MemoryRecords();
    const usage = {
      record: async (r: UsageRecord) => {
        stored.items.push(r);
        return "recorded" as const;
      },
    };
    const cells = new CountingCells();
    const o = { leaseMs: 30_000, settleMs: 10_000, usage: stored };
    const [dead, live] = ledgers(cells, 2, o) as [LimitLedger, LimitLedger];
    const principal = {
      tenantId: "t",
      keyId: "k",
      scopes: ["invoke" as const],
      models: ["iris"],
      plan: "p",
      limits: { monthlyRequests: 10 },
    };
    const request = (requestId: string): InferenceRequest => ({
      requestId,
      receivedAt: T0,
      principal,
      model: "iris",
      selector: { kind: "default" },
      routingKey: "k",
      protocol: "kserve",
      json: { inputs: [{ name: "input", shape: [1, 1], datatype: "FP32", data: [1] }] },
      body: new Uint8Array(2),
      contentType: "application/json",
    });
    const invoker = { invoke: async () => ({ body: new Uint8Array(2), contentType: "application/json" }) };
    const deps = { registry, invoker, usage, invokeTimeoutMs: 1_000, limits: dead, now: () => T0 };
    for (const id of ["a", "b", "c"]) await runInference(deps, request(id));
    expect(stored.items.map((r) => r.leases?.length)).toEqual([1, 1, 1]);
    expect(new Set(stored.items.map((r) => r.leases?.[0])).size).toBe(2); // blocks of 1 and 2
    // The holder dies with its second lease used up and a third (of 4) untouched after one more admission.
    expect((await dead.charge("t", principal.limits, ctx())).admitted).toBe(true);
    const late = await Promise.all(Array.from({ length: 20 }, () => live.charge("t", principal.limits, ctx(T0 + 40_001))));
    // 3 served with records; the 4th admission never wrote one, so 7 of the 10 are admitted again.
    expect(admittedOnes(late)).toHaveLength(7);
  });

  it("a lease unused for idleMs goes back to the counter by itself", async () => {
    const cells = new CountingCells();
    const [ledger] = ledgers(cells, 1, { idleMs: 20 }) as [LimitLedger];
    for (let i = 0; i < 4; i++) await ledger.charge("t", { monthlyRequests: 100 }, ctx());
    expect((await cells.readQuotaLeases(monthKey("t"))).requests).toBe(7); // blocks of 1, 2 and 4, the last with 3 unused
    await new Promise((r) => setTimeout(r, 60));
    expect(await cells.readQuotaLeases(monthKey("t"))).toEqual({ requests: 4, tokens: 0, leases: [] });
  });
});
