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
  readonly resolve: (o: RecordOutcome) => void;
  readonly reject: (e: unknown) => void;
}

export interface UsageSinkOptions {
  readonly retentionDays: number;
  /** DynamoDB's limit on items in one transaction. */
  readonly maxItemsPerTransaction?: number;
  /** Transactions in flight at once. @default 1: concurrent ones would conflict on shared aggregate items; the batch grows instead. */
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
 */
export class DynamoUsageSink implements UsageSink {
  private readonly queue: Pending[] = [];
  private inFlight = 0;
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
    return new Promise<RecordOutcome>((resolve, reject) => {
      this.queue.push({ record, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.takeBatch();
      this.inFlight++;
      void this.commit(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  /** Takes queued records while records plus distinct aggregates fit in one transaction. */
  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    const ids = new Set<string>();
    const aggregates = new Set<string>();
    const deferred: Pending[] = [];
    while (this.queue.length > 0) {
      const next = this.queue[0] as Pending;
      // A transaction may not touch one item twice: a repeated request id waits for the next batch.
      if (ids.has(next.record.requestId)) {
        deferred.push(this.queue.shift() as Pending);
        continue;
      }
      const keys = aggregateKeysOf(next.record)
        .map(aggregateKeyId)
        .filter((k) => !aggregates.has(k));
      if (batch.length + 1 + aggregates.size + keys.length > this.maxItems) break;
      this.queue.shift();
      batch.push(next);
      ids.add(next.record.requestId);
      for (const k of keys) aggregates.add(k);
    }
    this.queue.unshift(...deferred);
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
    for (const { record } of batch) {
      const counters = countersOf(record);
      for (const key of aggregateKeysOf(record)) {
        const id = aggregateKeyId(key);
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

function backoff(attempt: number): Promise<void> {
  const ms = Math.min(1000, 10 * 2 ** attempt) * (0.5 + Math.random() / 2);
  return new Promise((r) => setTimeout(r, ms));
}
