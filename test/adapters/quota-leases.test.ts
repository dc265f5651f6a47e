import { type ChildProcess, fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "@jest/globals";
import { limitKey, monthSk } from "../../functions/aws/limit-items";
import { DynamoLimitStore } from "../../functions/aws/limit-store";
import { usageTable } from "../../functions/contract/tables";
import { monthOf } from "../../functions/core/limits/math";
import type { Admitted, TenantLimits } from "../../functions/core/limits/tenant-limits";
import type { Page, UsageReader } from "../../functions/core/ports";
import type { UsageRecord } from "../../functions/core/usage";
import { e2ePlatform } from "../e2e/helpers";
import { e2eTable, localDocumentClient } from "./dynamo";

// Monthly quotas from leased blocks and the rate in blocks of cells, on DynamoDB Local, across real processes.

const table = e2eTable(usageTable);
const doc = localDocumentClient();
const HEAVY_MS = 240_000;
const subject = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
const WRITES = new Set(["UpdateItemCommand", "PutItemCommand", "DeleteItemCommand", "TransactWriteItemsCommand", "BatchWriteItemCommand"]);

/** A document client whose writes are counted, as DynamoDB would bill them (one per item written). */
function countingClient(): { doc: DynamoDBDocumentClient; writes: () => number } {
  let writes = 0;
  const client = new DynamoDBClient({
    endpoint: e2ePlatform().dynamodb,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (WRITES.has(context.commandName ?? "")) writes++;
      return next(args);
    },
    { step: "initialize", name: "countWrites" },
  );
  return { doc: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }), writes: () => writes };
}

interface Held {
  readonly requestId: string;
  readonly lease: string;
}

/** A holder process (test/adapters/lease-holder.ts) admitting `count` requests at once. */
function holder(env: Record<string, string>): { child: ChildProcess; admitted: Promise<Held[]> } {
  const child = fork("test/adapters/lease-holder.ts", {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "ignore", "pipe", "ipc"],
    env: { ...process.env, MG_DYNAMODB: e2ePlatform().dynamodb, MG_TABLE: table, MG_LEASE_MS: "30000", MG_SETTLE_MS: "30000", ...env },
  });
  let log = "";
  child.stderr?.on("data", (d: Buffer) => {
    log += d.toString();
  });
  const admitted = new Promise<Held[]>((resolve, reject) => {
    child.once("message", (m) => resolve((m as { admitted: Held[] }).admitted));
    child.once("exit", (code, signal) => reject(new Error(`holder exited (${code ?? signal}) before reporting: ${log}`)));
  });
  return { child, admitted };
}

/** Usage records as a reclaim reads them, for records this test writes itself. */
class MemoryRecords implements Pick<UsageReader, "records"> {
  private readonly items: UsageRecord[] = [];
  add(tenantId: string, requestId: string, time: number, leases: readonly string[]): void {
    const at = new Date(time).toISOString();
    this.items.push({
      requestId,
      time: at,
      tenantId,
      keyId: "k",
      model: "m",
      version: 1,
      status: 200,
      latencyMs: 1,
      bytesIn: 1,
      bytesOut: 1,
      leases,
    });
  }
  async records(tenantId: string, day: string, q: { fromTime: string; toTime: string }): Promise<Page<UsageRecord>> {
    return {
      items: this.items.filter((r) => r.tenantId === tenantId && r.time.startsWith(day) && r.time >= q.fromTime && r.time <= q.toTime),
    };
  }
}

async function monthItem(s: string, now: number) {
  return (await doc.send(new GetCommand({ TableName: table, Key: limitKey(s, monthSk(monthOf(now).period)), ConsistentRead: true }))).Item;
}

const admittedOnes = <T extends { admitted: boolean }>(rs: readonly T[]) => rs.filter((r) => r.admitted) as unknown as Admitted[];

describe("monthly quotas from leased blocks, the rate in blocks of cells (DynamoDB Local)", () => {
  it(
    "3 processes sending 100 concurrent requests each against a quota of 100 admit exactly 100",
    async () => {
      const s = subject("procs");
      const now = String(Date.now());
      const runs = Array.from({ length: 3 }, () => holder({ MG_SUBJECT: s, MG_QUOTA: "100", MG_COUNT: "100", MG_NOW: now }));
      const admitted = (await Promise.all(runs.map((r) => r.admitted))).map((a) => a.length);
      console.info(`admitted per process: ${admitted.join(", ")}`);
      expect(admitted.reduce((a, b) => a + b, 0)).toBe(100);
      const item = await monthItem(s, Number(now));
      expect(item?.requests).toBe(100);
      // Every process gave back its leases when it was done.
      expect(Object.keys(item?.leases ?? {})).toEqual([]);
    },
    HEAVY_MS,
  );

  it(
    "a holder killed with a lease: its unused part is admitted again once the lease is reclaimable, never beyond the quota",
    async () => {
      const s = subject("killed");
      const quota = 50;
      const t0 = Date.now();
      const leaseMs = 2_000;
      const settleMs = 2_000;
      const run = holder({
        MG_SUBJECT: s,
        MG_QUOTA: String(quota),
        MG_COUNT: "5",
        MG_NOW: String(t0),
        MG_LEASE_MS: String(leaseMs),
        MG_SETTLE_MS: String(settleMs),
        MG_HOLD: "1",
      });
      const held = await run.admitted;
      expect(held).toHaveLength(5);
      const outstanding = (await monthItem(s, t0))?.leases as Record<string, { r: number }>;
      const [leaseId, entry] = Object.entries(outstanding)[0] ?? [];
      expect(Object.keys(outstanding)).toHaveLength(1);
      // 4 requests wrote their usage records; one admitted under the outstanding lease died before its record.
      const lost = held.find((h) => h.lease === leaseId) as Held;
      const records = new MemoryRecords();
      for (const h of held) if (h !== lost) records.add(s, h.requestId, t0, [h.lease]);
      run.child.kill("SIGKILL");
      const debited = Number((await monthItem(s, t0))?.requests);
      const unused = Number(entry?.r) - held.filter((h) => h.lease === leaseId && h !== lost).length;
      expect(unused).toBeGreaterThan(0);

      const store = new DynamoLimitStore(localDocumentClient(), table, { quotaLeases: { settleMs, idleMs: 0, usage: records } });
      const limits: TenantLimits = { monthlyRequests: quota };
      const charge = (n: number) =>
        Promise.all(Array.from({ length: n }, () => store.charge(s, limits, { now: Date.now(), requestId: randomUUID() })));
      const before = admittedOnes(await charge(100));
      expect(before).toHaveLength(quota - debited);
      // The lease's end + settleMs: then no request admitted under it can still be recorded.
      await new Promise((r) => setTimeout(r, Math.max(0, t0 + leaseMs + settleMs + 50 - Date.now())));
      const after = admittedOnes(await charge(100));
      expect(after).toHaveLength(unused);
      // The 4 recorded, and everything admitted here: exactly the quota.
      expect(4 + before.length + after.length).toBe(quota);
      await store.returnLeases();
      const item = await monthItem(s, t0);
      expect(item?.requests).toBe(quota);
      expect(Object.keys(item?.leases ?? {})).toEqual([]);
    },
    HEAVY_MS,
  );

  it(
    "an admitted request of a tenant with only a monthly quota costs no write on most requests (1,000 requests)",
    async () => {
      const s = subject("writes");
      const counted = countingClient();
      const store = new DynamoLimitStore(counted.doc, table);
      const limits: TenantLimits = { monthlyRequests: 1_000_000 };
      let admitted = 0;
      // 20 in flight at a time, as a process serving concurrent requests.
      for (let wave = 0; wave < 50; wave++) {
        const results = await Promise.all(
          Array.from({ length: 20 }, () => store.charge(s, limits, { now: Date.now(), requestId: randomUUID() })),
        );
        for (const r of admittedOnes(results)) {
          admitted++;
          await store.release(r.handle, {});
        }
      }
      await store.returnLeases();
      const writes = counted.writes();
      console.info(
        `monthly quota, leased blocks: ${admitted} admitted requests, ${writes} DynamoDB writes (${(writes / admitted).toFixed(3)} per request)`,
      );
      expect(admitted).toBe(1_000);
      expect(writes).toBeLessThanOrEqual(20);
      expect((await monthItem(s, Date.now()))?.requests).toBe(1_000);

      // Once the quota is spent, refusals are answered from memory: at most one write per process and second.
      const spent = subject("spent");
      const refusing = countingClient();
      const quota = new DynamoLimitStore(refusing.doc, table);
      const first = await Promise.all(
        Array.from({ length: 10 }, () => quota.charge(spent, { monthlyRequests: 5 }, { now: Date.now(), requestId: randomUUID() })),
      );
      expect(admittedOnes(first)).toHaveLength(5);
      const before = refusing.writes();
      const refusals = await Promise.all(
        Array.from({ length: 200 }, () => quota.charge(spent, { monthlyRequests: 5 }, { now: Date.now(), requestId: randomUUID() })),
      );
      expect(refusals.every((r) => !r.admitted && r.limit === "monthlyRequests")).toBe(true);
      console.info(`200 refusals of a spent monthly quota: ${refusing.writes() - before} DynamoDB writes`);
      expect(refusing.writes() - before).toBeLessThanOrEqual(1);

      // The same without leases: a write per admission.
      const perRequest = countingClient();
      const old = new DynamoLimitStore(perRequest.doc, table, { quotaLeases: false });
      for (let i = 0; i < 100; i++) await old.charge(subject("writes-old"), limits, { now: Date.now(), requestId: randomUUID() });
      console.info(`monthly quota, a write per admission: 100 admitted requests, ${perRequest.writes()} DynamoDB writes`);
      expect(perRequest.writes()).toBe(100);
    },
    HEAVY_MS,
  );

  it(
    "token quotas from leases: reservations and leases never pass the quota, and the counter ends at what was used",
    async () => {
      const s = subject("tokens");
      const quota = 1_000;
      const limits: TenantLimits = { monthlyTokens: quota };
      const pool = [new DynamoLimitStore(localDocumentClient(), table), new DynamoLimitStore(localDocumentClient(), table)];
      const now = Date.now();
      let used = 0;
      for (let wave = 0; wave < 6; wave++) {
        // Each request is settled by the store that admitted it, as in a process.
        const results = await Promise.all(
          Array.from({ length: 20 }, async (_, i) => {
            const by = pool[i % 2] as DynamoLimitStore;
            return { by, r: await by.charge(s, limits, { now, requestId: randomUUID(), tokenEstimate: 100 }) };
          }),
        );
        const granted = results.filter((x) => x.r.admitted);
        expect(used + granted.length * 100).toBeLessThanOrEqual(quota);
        expect(Number((await monthItem(s, now))?.tokens)).toBeLessThanOrEqual(quota);
        await Promise.all(granted.map(({ by, r }) => r.admitted && by.release(r.handle, { actualTokens: 60 })));
        used += granted.length * 60;
      }
      expect(used).toBe(960);
      await Promise.all(pool.map((p) => p.returnLeases()));
      expect((await monthItem(s, now))?.tokens).toBe(960);
    },
    HEAVY_MS,
  );

  it(
    "rate blocks: below its rate a subject writes the TAT once per block; 3 stores at 5× overload stay within burst + rate × span + a block each",
    async () => {
      const limits: TenantLimits = { ratePerSecond: 20, burst: 160 };
      const calm = countingClient();
      const one = new DynamoLimitStore(calm.doc, table);
      const s1 = subject("rate-calm");
      const t0 = Date.now();
      // 5 requests/s for 20 s of virtual time: a quarter of the rate.
      for (let i = 0; i < 100; i++)
        expect((await one.charge(s1, limits, { now: t0 + i * 200, requestId: randomUUID() })).admitted).toBe(true);
      console.info(`rate blocks: 100 admissions at a quarter of the rate, ${calm.writes()} DynamoDB writes`);
      expect(calm.writes()).toBeLessThanOrEqual(25);

      const s2 = subject("rate-busy");
      const pool = [0, 1, 2].map(() => new DynamoLimitStore(localDocumentClient(), table));
      let admitted = 0;
      // 100 requests/s for 5 s: every 100 ms ten at once, over the three stores.
      for (let tick = 0; tick < 50; tick++) {
        const now = t0 + tick * 100;
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            (pool[(tick + i) % 3] as DynamoLimitStore).charge(s2, limits, { now, requestId: randomUUID() }),
          ),
        );
        admitted += admittedOnes(results).length;
      }
      const gcra = 160 + 20 * 4.9;
      // Each store holds at most one block of ⌊160 / (2 × 8)⌋ = 10 cells.
      console.info(`rate blocks: 5× overload from 3 stores admitted ${admitted}; GCRA alone ${gcra}, with a block per store ${gcra + 30}`);
      expect(admitted).toBeLessThanOrEqual(gcra + 30);
      expect(admitted).toBeGreaterThanOrEqual(20 * 4.9);
    },
    HEAVY_MS,
  );

  it("a lease take whose answer is lost (a timeout the SDK retries) is its holder's lease, not stranded quota", async () => {
    const s = subject("lost-answer");
    const client = new DynamoDBClient({
      endpoint: e2ePlatform().dynamodb,
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    let lost = 0;
    let takes = 0;
    // Inside the SDK's retry loop: every other lease take lands and its answer is lost, so the
    // SDK sends it again and meets its own landed write.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        const take = context.commandName === "UpdateItemCommand" && (args.input as { ReturnValues?: string }).ReturnValues === "ALL_NEW";
        if (take && takes++ % 2 === 0) {
          lost++;
          throw Object.assign(new Error("answer lost"), { name: "TimeoutError" });
        }
        return out;
      },
      { step: "finalizeRequest", priority: "low", name: "loseAnswers" },
    );
    const store = new DynamoLimitStore(DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }), table, {
      quotaLeases: { settleMs: 60_000, idleMs: 0, usage: new MemoryRecords() },
    });
    const limits: TenantLimits = { monthlyRequests: 20 };
    const results = await Promise.all(
      Array.from({ length: 40 }, () => store.charge(s, limits, { now: Date.now(), requestId: randomUUID() })),
    );
    expect(lost).toBeGreaterThan(0);
    expect(admittedOnes(results)).toHaveLength(20);
    await store.returnLeases();
    expect((await monthItem(s, Date.now()))?.requests).toBe(20);
  });
});
