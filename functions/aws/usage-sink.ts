import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import type { RecordOutcome, UsageSink } from "../core/ports";
import {
  type AggregateKey,
  addCounters,
  aggregateKeysOf,
  countersOf,
  emptyCounters,
  type UsageCounters,
  type UsageRecord,
} from "../core/usage";
import { aggregateKeyId, aggregateUpdate, recordItem } from "./usage-items";

interface Pending {
  readonly record: UsageRecord;
  /** The aggregate items the record adds to, computed once (the shard is a hash). */
  readonly aggregates: readonly { readonly id: string; readonly key: AggregateKey }[];
  readonly resolve: (o: RecordOutcome) => void;
  readonly reject: (e: unknown) => void;
}

export interface UsageSinkOptions {
  readonly retentionDays: number;
  /** DynamoDB's limit on items in one transaction. */
  readonly maxItemsPerTransaction?: number;
  /**
   * Transactions in flight at once. @default 1. Batches in flight together never share an
   * item (no request id, no aggregate), so they cannot conflict with each other; records that
   * would touch an item already in flight wait, and their batch grows instead. One is the
   * default because a transaction's fixed cost dominates on DynamoDB Local, which serializes
   * writes anyway: fewer, larger batches cost least per record (bench/README.md).
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
 * Several transactions may be in flight when their items are disjoint: records of different
 * aggregate shards (or tenants, models, keys) commit side by side, so a record never waits
 * behind a transaction it shares nothing with.
 */
export class DynamoUsageSink implements UsageSink {
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  /** Request ids and aggregate ids of the transactions in flight. */
  private readonly busy = new Set<string>();
  private readonly maxItems: number;
  private readonly maxInFlight: number;
  private readonly maxAttempts: number;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly options: UsageSinkOptions,
  ) {
    this.maxItems = options.maxItemsPerTransaction ?? 100;
    this.maxInFlight = options.maxInFlight ?? 1;
    this.maxAttempts = options.maxAttempts ?? 6;
  }

  record(record: UsageRecord): Promise<RecordOutcome> {
    const aggregates = aggregateKeysOf(record).map((key) => ({ id: aggregateKeyId(key), key }));
    return new Promise<RecordOutcome>((resolve, reject) => {
      this.queue.push({ record, aggregates, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.takeBatch();
      // Every queued record touches an item in flight: the next completion pumps again.
      if (batch.length === 0) return;
      const items = batch.flatMap((p) => [recordKey(p), ...p.aggregates.map((a) => a.id)]);
      for (const i of items) this.busy.add(i);
      this.inFlight++;
      void this.commit(batch).finally(() => {
        for (const i of items) this.busy.delete(i);
        this.inFlight--;
        this.pump();
      });
    }
  }

  /**
   * Takes queued records, oldest first, while records plus distinct aggregates fit in one
   * transaction; skips (leaves queued, in order) those touching an item in flight or a
   * request id already in the batch, since a transaction may not touch one item twice.
   */
  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    const taken = new Set<string>();
    let aggregates = 0;
    const rest: Pending[] = [];
    let i = 0;
    for (; i < this.queue.length; i++) {
      const next = this.queue[i] as Pending;
      const id = recordKey(next);
      if (taken.has(id) || this.busy.has(id) || next.aggregates.some((a) => this.busy.has(a.id))) {
        rest.push(next);
        continue;
      }
      const added = next.aggregates.filter((a) => !taken.has(a.id));
      if (batch.length + 1 + aggregates + added.length > this.maxItems) break;
      batch.push(next);
      taken.add(id);
      for (const a of added) taken.add(a.id);
      aggregates += added.length;
    }
    if (batch.length > 0) this.queue.splice(0, i, ...rest);
    return batch;
  }

  private async commit(batch: Pending[]): Promise<void> {
    let live = batch;
    for (let attempt = 1; live.length > 0; attempt++) {
      try {
        await this.doc.send(new TransactWriteCommand({ TransactItems: this.transactItems(live) }));
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

  private transactItems(batch: readonly Pending[]) {
    const aggregates = new Map<string, { key: AggregateKey; counters: UsageCounters }>();
    for (const p of batch) {
      const counters = countersOf(p.record);
      for (const { id, key } of p.aggregates) {
        const agg = aggregates.get(id) ?? { key, counters: emptyCounters() };
        addCounters(agg.counters, counters);
        aggregates.set(id, agg);
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

/** Busy-set key of a record's own item; aggregate ids start with `AGG#`, so they never collide. */
const recordKey = (p: Pending) => `REQ#${p.record.requestId}`;

/**
 * A sink that records nothing, for the benchmark's metering-off rounds only
 * (`USAGE_METERING=off`): it shows what metering costs, and must never serve real traffic.
 */
export const discardingUsageSink: UsageSink = { record: async () => "recorded" };

function backoff(attempt: number): Promise<void> {
  const ms = Math.min(1000, 10 * 2 ** attempt) * (0.5 + Math.random() / 2);
  return new Promise((r) => setTimeout(r, ms));
}
