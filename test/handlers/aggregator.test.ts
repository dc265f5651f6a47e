import { marshall } from "@aws-sdk/util-dynamodb";
import { describe, expect, it } from "@jest/globals";
import type { DynamoDBRecord } from "aws-lambda";
import { createAggregatorHandler } from "../../functions/aggregator/create-aggregator-handler";
import type { AggregateStore, ApplyOutcome } from "../../functions/aws/usage-aggregates";
import { packItem } from "../../functions/aws/usage-items";
import { buildUsageRecord, type UsageRecord } from "../../functions/core/usage";
import type { AggregateTransaction } from "../../functions/core/usage-aggregation";

/** Checkpoints and counters in memory, with the store's conditional move of the checkpoint. */
class MemoryAggregateStore implements AggregateStore {
  readonly checkpoints = new Map<string, string>();
  readonly requests = new Map<string, number>();
  readonly applied = new Map<string, number>();
  readonly transactions: number[] = [];
  /** Fails every apply after this many (a function killed mid-batch). */
  failAfter = Number.POSITIVE_INFINITY;

  async checkpoint(shardId: string) {
    return this.checkpoints.get(shardId);
  }

  async apply(shardId: string, expected: string | undefined, tx: AggregateTransaction): Promise<ApplyOutcome> {
    if (this.transactions.length >= this.failAfter) throw new Error("killed");
    if (this.checkpoints.get(shardId) !== expected) return "moved";
    this.checkpoints.set(shardId, tx.position);
    this.transactions.push(tx.deltas.length + 1);
    for (const d of tx.deltas) {
      if (d.kind === "applied") this.applied.set(d.tenantId, (this.applied.get(d.tenantId) ?? 0) + d.records);
      else if (d.key.granularity === "day")
        this.requests.set(d.key.tenantId, (this.requests.get(d.key.tenantId) ?? 0) + d.counters.requests);
    }
    return "applied";
  }
}

let seq = 100;
function record(tenantId: string, keyId: string): UsageRecord {
  const now = Date.now();
  return buildUsageRecord({
    requestId: `r${seq++}`,
    receivedAt: now,
    finishedAt: now + 1,
    tenantId,
    keyId,
    model: "iris",
    version: 1,
    status: 200,
    bytesIn: 1,
    bytesOut: 2,
  });
}

/** A stream record of a pack, as the event source mapping delivers it. */
function streamRecord(records: UsageRecord[], eventName: DynamoDBRecord["eventName"] = "INSERT"): DynamoDBRecord {
  const item = packItem(records, 30);
  return {
    eventName,
    dynamodb: { SequenceNumber: String(seq++), NewImage: marshall(item, { removeUndefinedValues: true }) as never },
  };
}

const packs = (n: number, perPack: number, keys: number) =>
  Array.from({ length: n }, (_, p) =>
    streamRecord(Array.from({ length: perPack }, (_, i) => record(p % 2 ? "acme" : "globex", `k${(p * perPack + i) % keys}`))),
  );

describe("aggregator handler", () => {
  it("splits a batch into transactions of at most 100 items, each moving the checkpoint", async () => {
    const store = new MemoryAggregateStore();
    const batch = packs(6, 50, 50); // 100 aggregates + 1 applied count per pack: more than one transaction each
    const result = await createAggregatorHandler({ store })({ Records: batch, shardId: "s1" });
    expect(result.batchItemFailures).toEqual([]);
    expect(store.transactions.length).toBeGreaterThan(6);
    expect(Math.max(...store.transactions)).toBeLessThanOrEqual(100);
    expect(store.requests).toEqual(
      new Map([
        ["globex", 150],
        ["acme", 150],
      ]),
    );
    expect(store.applied).toEqual(
      new Map([
        ["globex", 150],
        ["acme", 150],
      ]),
    );
  });

  it("changes nothing when the same batch, or a bisected part of it, comes again", async () => {
    const store = new MemoryAggregateStore();
    const handler = createAggregatorHandler({ store, maxItemsPerTransaction: 7 });
    const batch = packs(5, 4, 3);
    await handler({ Records: batch, shardId: "s1" });
    const once = new Map(store.requests);
    await handler({ Records: batch, shardId: "s1" });
    await handler({ Records: batch.slice(0, 2), shardId: "s1" });
    await handler({ Records: batch.slice(2), shardId: "s1" });
    expect(store.requests).toEqual(once);
    expect([...once.values()].reduce((a, b) => a + b, 0)).toBe(20);
  });

  it("reports the first record not applied when killed mid-batch; the retry from there completes it once", async () => {
    const store = new MemoryAggregateStore();
    store.failAfter = 3;
    const batch = packs(6, 5, 5);
    const killed = await createAggregatorHandler({ store, maxItemsPerTransaction: 12 })({ Records: batch, shardId: "s1" });
    expect(killed.batchItemFailures).toHaveLength(1);
    const from = batch.findIndex((r) => r.dynamodb?.SequenceNumber === killed.batchItemFailures[0]?.itemIdentifier);
    expect(from).toBeGreaterThan(0);
    store.failAfter = Number.POSITIVE_INFINITY;
    // Lambda retries from the reported record; a restarted function may also get all of it again.
    const restarted = createAggregatorHandler({ store, maxItemsPerTransaction: 12 });
    expect((await restarted({ Records: batch.slice(from), shardId: "s1" })).batchItemFailures).toEqual([]);
    expect((await restarted({ Records: batch, shardId: "s1" })).batchItemFailures).toEqual([]);
    expect([...store.requests.values()].reduce((a, b) => a + b, 0)).toBe(30);
  });

  it("keeps one checkpoint per shard, ignores what is not an INSERT of a pack, and answers a tumbling window's state", async () => {
    const store = new MemoryAggregateStore();
    const handler = createAggregatorHandler({ store });
    const remove = streamRecord([record("acme", "k1")], "REMOVE");
    const oldRecord: DynamoDBRecord = {
      eventName: "INSERT",
      dynamodb: {
        SequenceNumber: String(seq++),
        NewImage: marshall({ pk: "REQ#x", sk: "REQ", type: "usage", ...record("acme", "k1") }) as never,
      },
    };
    const result = await handler({ Records: [remove, oldRecord, ...packs(1, 1, 1)], shardId: "s1", window: { start: "", end: "" } });
    expect(result).toEqual({ batchItemFailures: [], state: {} });
    await handler({ Records: packs(1, 1, 1), shardId: "s2" });
    expect([...store.checkpoints.keys()].sort()).toEqual(["s1", "s2"]);
    expect([...store.requests.values()].reduce((a, b) => a + b, 0)).toBe(2);
  });

  it("applies nothing and reports the batch when the event names no shard (no checkpoint to guard it)", async () => {
    const store = new MemoryAggregateStore();
    const batch = packs(2, 1, 1);
    const result = await createAggregatorHandler({ store })({ Records: batch });
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: batch[0]?.dynamodb?.SequenceNumber }]);
    expect(store.transactions).toEqual([]);
  });
});
