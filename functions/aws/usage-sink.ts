import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import type { RecordOutcome, UsageSink } from "../core/ports";
import {
  AGGREGATE_SHARDS,
  type AggregateKey,
  addCounters,
  aggregateKeysOf,
  aggregateShard,
  countersOf,
  emptyCounters,
  type UsageCounters,
  type UsageRecord,
} from "../core/usage";
import { aggregateKeyId, aggregateUpdate, recordItem } from "./usage-items";

interface Pending {
  readonly record: UsageRecord;
  /** The record's aggregates with the shard left open: each transaction picks one shard for all. */
  readonly aggregates: readonly { readonly group: string; readonly key: AggregateKey }[];
  readonly resolve: (o: RecordOutcome) => void;
  readonly reject: (e: unknown) => void;
}

export interface UsageSinkOptions {
  readonly retentionDays: number;
  /** DynamoDB's limit on items in one transaction. */
  readonly maxItemsPerTransaction?: number;
  /**
   * Transactions in flight at once, at most AGGREGATE_SHARDS. @default AGGREGATE_SHARDS.
   * Transactions in flight together never share an item: each writes its aggregates to a shard
   * no other one in flight uses, and a request id in flight waits for its transaction to end.
   * The local host passes 1: DynamoDB Local serializes writes anyway, and fewer, larger batches
   * cost it least per record.
   */
  readonly maxInFlight?: number;
  /** Attempts for a batch cancelled by conflicts or throttling before its requests fail. */
  readonly maxAttempts?: number;
}

/** Codes in a cancellation that mean "try again": contention, throttling, capacity. */
const RETRYABLE = new Set(["TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"]);

/**
 * Usage sink with group commit: records of concurrent requests share TransactWriteItems
 * calls (each record a conditional put keyed by request id, each touched aggregate one
 * update). A record resolves only once its own transaction committed. With one request in
 * flight (a Lambda instance) every transaction holds exactly one record.
 *
 * A transaction adds all its records to one aggregate shard, the one of its first record's
 * request id (the next free one when that is in use by another transaction in flight). Reads
 * sum the shards, so totals do not depend on the shard; a batch then updates 2 aggregate items
 * (day, hour) per tenant, model, version and key instead of up to 2 × AGGREGATE_SHARDS, and its
 * writes land on one partition. A one-record transaction (Lambda) keeps its request id's shard.
 */
export class DynamoUsageSink implements UsageSink {
  private readonly queue: Pending[] = [];
  /** Request ids in the transactions in flight, and the shards those transactions write. */
  private readonly busyIds = new Set<string>();
  private readonly busyShards = new Set<number>();
  private readonly maxItems: number;
  private readonly maxInFlight: number;
  private readonly maxAttempts: number;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly options: UsageSinkOptions,
  ) {
    this.maxItems = options.maxItemsPerTransaction ?? 100;
    this.maxInFlight = Math.min(AGGREGATE_SHARDS, Math.max(1, options.maxInFlight ?? AGGREGATE_SHARDS));
    this.maxAttempts = options.maxAttempts ?? 6;
  }

  record(record: UsageRecord): Promise<RecordOutcome> {
    const aggregates = aggregateKeysOf(record).map((key) => ({ group: aggregateKeyId({ ...key, shard: 0 }), key }));
    return new Promise<RecordOutcome>((resolve, reject) => {
      this.queue.push({ record, aggregates, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.busyShards.size < this.maxInFlight && this.queue.length > 0) {
      const batch = this.takeBatch();
      // Every queued record's request id is in flight: the next completion pumps again.
      if (batch.length === 0) return;
      const shard = this.freeShard((batch[0] as Pending).record.requestId);
      const ids = batch.map((p) => p.record.requestId);
      for (const id of ids) this.busyIds.add(id);
      this.busyShards.add(shard);
      void this.commit(batch, shard).finally(() => {
        for (const id of ids) this.busyIds.delete(id);
        this.busyShards.delete(shard);
        this.pump();
      });
    }
  }

  /** The request id's own shard, or the next one no transaction in flight writes. */
  private freeShard(requestId: string): number {
    const first = aggregateShard(requestId);
    for (let i = 0; i < AGGREGATE_SHARDS; i++) {
      const shard = (first + i) % AGGREGATE_SHARDS;
      if (!this.busyShards.has(shard)) return shard;
    }
    throw new Error("no free aggregate shard"); // Unreachable: maxInFlight <= AGGREGATE_SHARDS.
  }

  /**
   * Takes queued records, oldest first, while records plus distinct aggregates fit in one
   * transaction; skips (leaves queued, in order) those whose request id is in flight or already
   * in the batch, since a transaction may not touch one item twice.
   */
  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    const ids = new Set<string>();
    const groups = new Set<string>();
    const rest: Pending[] = [];
    let i = 0;
    for (; i < this.queue.length; i++) {
      const next = this.queue[i] as Pending;
      const id = next.record.requestId;
      if (ids.has(id) || this.busyIds.has(id)) {
        rest.push(next);
        continue;
      }
      const added = next.aggregates.filter((a) => !groups.has(a.group));
      if (batch.length + 1 + groups.size + added.length > this.maxItems) break;
      batch.push(next);
      ids.add(id);
      for (const a of added) groups.add(a.group);
    }
    if (batch.length > 0) this.queue.splice(0, i, ...rest);
    return batch;
  }

  private async commit(batch: Pending[], shard: number): Promise<void> {
    let live = batch;
    for (let attempt = 1; live.length > 0; attempt++) {
      try {
        await this.doc.send(new TransactWriteCommand({ TransactItems: this.transactItems(live, shard) }));
        for (const p of live) p.resolve("recorded");
        return;
      } catch (err) {
        const reasons = err instanceof TransactionCanceledException ? (err.CancellationReasons ?? []) : undefined;
        if (reasons) {
          // Items are ordered records first, so reason i belongs to live[i] for i < live.length.
          const duplicates = live.filter((_, i) => reasons[i]?.Code === "ConditionalCheckFailed");
          if (duplicates.length > 0) {
            for (const p of duplicates) p.resolve("duplicate");
            live = live.filter((p) => !duplicates.includes(p));
            attempt--; // Dropping duplicates is progress, not a failed attempt.
            continue;
          }
          const retryable = reasons.every((r) => !r.Code || r.Code === "None" || RETRYABLE.has(r.Code));
          if (retryable && attempt < this.maxAttempts) {
            await backoff(attempt);
            continue;
          }
        }
        for (const p of live) p.reject(err);
        return;
      }
    }
  }

  private transactItems(batch: readonly Pending[], shard: number) {
    const aggregates = new Map<string, { key: AggregateKey; counters: UsageCounters }>();
    for (const p of batch) {
      const counters = countersOf(p.record);
      for (const { group, key } of p.aggregates) {
        const agg = aggregates.get(group) ?? { key: { ...key, shard }, counters: emptyCounters() };
        addCounters(agg.counters, counters);
        aggregates.set(group, agg);
      }
    }
    return [
      ...batch.map((p) => ({
        Put: {
          TableName: this.table,
          Item: recordItem(p.record, this.options.retentionDays),
          ConditionExpression: "attribute_not_exists(pk)",
        },
      })),
      ...[...aggregates.values()].map(({ key, counters }) => ({ Update: aggregateUpdate(this.table, key, counters) })),
    ];
  }
}

function backoff(attempt: number): Promise<void> {
  const ms = Math.min(1000, 10 * 2 ** attempt) * (0.5 + Math.random() / 2);
  return new Promise((r) => setTimeout(r, ms));
}
