import { randomUUID } from "node:crypto";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { RecordOutcome, UsageSink } from "../core/ports";
import type { UsageRecord } from "../core/usage";
import { backoff } from "./backoff";
import { byRecordPosition, MAX_RECORDS_PER_PACK, PACK_SPAN_MS, packItem } from "./usage-items";

interface Pending {
  readonly record: UsageRecord;
  readonly resolve: (o: RecordOutcome) => void;
  readonly reject: (e: unknown) => void;
  /** When it was queued (performance.now()), for the commit window. */
  readonly queuedAt: number;
  /** No record arrived within the commit window before it: nothing suggests company is coming. */
  readonly alone: boolean;
}

export interface UsageSinkOptions {
  readonly retentionDays: number;
  /**
   * Records one item may hold. @default MAX_RECORDS_PER_PACK. Pass 1 where the same request id
   * can be delivered again by another process (asynchronous retries of the shadow function, a
   * repair): a pack is keyed by its earliest record only, so only a one-record commit is
   * idempotent by itself against a writer this sink does not know of.
   */
  readonly maxRecordsPerPack?: number;
  /**
   * Commits in flight at once. @default 4. The local host passes 1: DynamoDB Local serializes
   * writes anyway, and fewer, larger packs cost it least per record.
   */
  readonly maxInFlight?: number;
  /**
   * How long a commit may wait, from its oldest record's arrival, for more records to join it
   * (milliseconds), when records arrive closer together than that. @default 0: commit at once (a
   * Lambda instance has one request in flight; nothing would join). The local host, whose one
   * process serves many requests against a DynamoDB Local that spends a few milliseconds of CPU
   * per write whatever the item holds, waits a little under load: fewer, larger packs. A record
   * that arrives alone (the one before it longer ago than the window) never waits.
   */
  readonly commitWindowMs?: number;
  /** Attempts for a commit refused by throttling before its requests fail. */
  readonly maxAttempts?: number;
  /**
   * Told of each pack this sink forms, before its first write, and awaited: a journal notes the
   * pack (its commit id and records) so that after a crash it can write the very same pack again
   * with `commitPack` (infra/local/usage-journal.ts).
   */
  readonly onPack?: (pack: PackIntent) => Promise<void>;
}

/** A pack about to be written: its records' request ids, earliest first, and its commit id. */
export interface PackIntent {
  readonly commitId: string;
  readonly requestIds: readonly string[];
}

/** Errors that mean "try again": throttling, capacity, a transient server error. */
const RETRYABLE = new Set(["ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded", "InternalServerError"]);
/** Request ids this sink remembers having recorded, so a repeated call is a duplicate without a write. */
const REMEMBERED_IDS = 10_000;

/**
 * Usage sink with group commit: the records of concurrent requests of one tenant and received
 * day share one item (a pack), written by one conditional PutItem — not a transaction, no index
 * entry, and no aggregates: those are applied from the table's stream (functions/aggregator). A
 * record resolves only once its own pack is stored. With one request in flight (a Lambda
 * instance) every pack holds exactly one record.
 *
 * Exactly once, per record:
 * - A pack's key is its earliest record's alone: partition REC#<tenant>#<day>#<shard of its
 *   request id>, sort key <time>#<request id>. A one-record pack's key is thus fixed by its
 *   record, and every write of that record, by any writer, meets the same item.
 * - Request ids are unique per request (the gateway's), and a record is written by the request
 *   that owns the id; only shadow redeliveries and repairs write an id again, and those sinks
 *   commit one record per pack (maxRecordsPerPack 1). A repair carries the record's own time
 *   (the gateway's request time), so it lands on the key of a one-record original too, and
 *   `attribute_not_exists(pk)` refuses whichever write comes second.
 * - This sink never writes one id twice: an id in flight waits for its commit, and an id it
 *   recorded is answered "duplicate" without a write.
 * - A retried commit (the SDK's, or this sink's after throttling) writes the same item, with the
 *   same commit id, under the same key. When the condition fails, the stored item is read back
 *   from the failure (ALL_OLD): if it carries this commit id, an earlier attempt landed and
 *   every record is recorded; otherwise the pack's key record (its earliest) was already
 *   stored by another writer ("duplicate") and the others are committed again, in a new item,
 *   without it.
 * - `usage reconcile --repair` writes a missing record only after the longest request lifetime,
 *   once the request itself can no longer write it.
 */
export class DynamoUsageSink implements UsageSink {
  private readonly queue: Pending[] = [];
  /** Request ids in the commits in flight. */
  private readonly busyIds = new Set<string>();
  /** Request ids recorded (or found recorded) by this sink, oldest first (a Set keeps insertion order). */
  private readonly recordedIds = new Set<string>();
  private inFlight = 0;
  private readonly maxRecords: number;
  private readonly maxInFlight: number;
  private readonly maxAttempts: number;
  private readonly commitWindowMs: number;
  private lastArrival = Number.NEGATIVE_INFINITY;
  /** Pumps when the oldest queued record's commit window closes. */
  private windowTimer: ReturnType<typeof setTimeout> | undefined;
  /** Someone waits for the queued records (shipNow): no commit waits for company until the queue is empty. */
  private hurry = false;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly options: UsageSinkOptions,
  ) {
    this.maxRecords = Math.min(MAX_RECORDS_PER_PACK, Math.max(1, options.maxRecordsPerPack ?? MAX_RECORDS_PER_PACK));
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 4);
    this.maxAttempts = options.maxAttempts ?? 6;
    this.commitWindowMs = Math.max(0, options.commitWindowMs ?? 0);
  }

  record(record: UsageRecord): Promise<RecordOutcome> {
    if (this.recordedIds.has(record.requestId)) return Promise.resolve("duplicate");
    return new Promise<RecordOutcome>((resolve, reject) => {
      const queuedAt = performance.now();
      const alone = queuedAt - this.lastArrival >= this.commitWindowMs;
      this.lastArrival = queuedAt;
      this.queue.push({ record, resolve, reject, queuedAt, alone });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      if (this.windowOpen()) return;
      const batch = this.takeBatch();
      // Every queued record's request id is in flight: the next completion pumps again.
      if (batch.length === 0) return;
      const ids = batch.map((p) => p.record.requestId);
      for (const id of ids) this.busyIds.add(id);
      this.inFlight++;
      void this.announceAndCommit(batch).finally(() => {
        for (const id of ids) this.busyIds.delete(id);
        this.inFlight--;
        this.pump();
      });
    }
    // Everything the hurried reader waited for is taken: later records wait for company again.
    if (this.queue.length === 0) this.hurry = false;
  }

  /**
   * True while the oldest queued record waits for company: records are arriving closer together
   * than the commit window, it is still open, and the queue cannot fill a pack yet. A timer
   * pumps when it closes.
   */
  private windowOpen(): boolean {
    const oldest = this.queue[0];
    if (this.hurry || this.commitWindowMs === 0 || oldest === undefined || this.queue.length >= this.maxRecords) return false;
    if (this.queue.length === 1 && oldest.alone) return false;
    const left = oldest.queuedAt + this.commitWindowMs - performance.now();
    if (left <= 0) return false;
    this.windowTimer ??= setTimeout(() => {
      this.windowTimer = undefined;
      this.pump();
    }, Math.ceil(left));
    return true;
  }

  /**
   * Takes the oldest queued record whose id is not in flight, and after it, in order, queued
   * records of the same tenant and received day within PACK_SPAN_MS of it; leaves the others
   * queued, in order. An id already recorded meanwhile resolves "duplicate" here.
   */
  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    const ids = new Set<string>();
    const rest: Pending[] = [];
    let lo = 0;
    let hi = 0;
    for (const next of this.queue) {
      const r = next.record;
      if (this.recordedIds.has(r.requestId)) {
        next.resolve("duplicate");
        continue;
      }
      const first = batch[0]?.record;
      const t = Date.parse(r.time);
      const fits =
        batch.length < this.maxRecords &&
        !ids.has(r.requestId) &&
        !this.busyIds.has(r.requestId) &&
        (first === undefined ||
          (r.tenantId === first.tenantId &&
            r.time.slice(0, 10) === first.time.slice(0, 10) &&
            Math.max(hi, t) - Math.min(lo, t) <= PACK_SPAN_MS));
      if (!fits) {
        rest.push(next);
        continue;
      }
      if (first === undefined) lo = hi = t;
      lo = Math.min(lo, t);
      hi = Math.max(hi, t);
      batch.push(next);
      ids.add(r.requestId);
    }
    this.queue.splice(0, this.queue.length, ...rest);
    return batch;
  }

  /**
   * Commits what is queued without waiting out the commit window: a reader waits for these
   * records (infra/local/usage-journal.ts). Later records wait for company again.
   */
  shipNow(): void {
    if (this.queue.length === 0) return;
    this.hurry = true;
    this.pump();
  }

  /**
   * Writes a pack noted before (a journal's, after a crash) exactly as it was first written:
   * the same records under the same commit id, so that an attempt that landed then is
   * recognized now instead of written twice. Resolves with each record's outcome by request id.
   */
  async commitPack(records: readonly UsageRecord[], commitId: string): Promise<Map<string, RecordOutcome>> {
    const outcomes = new Map<string, RecordOutcome>();
    let failure: unknown;
    const batch = records.map(
      (record): Pending => ({
        record,
        queuedAt: performance.now(),
        alone: true,
        resolve: (o) => outcomes.set(record.requestId, o),
        reject: (e) => {
          failure ??= e;
        },
      }),
    );
    await this.commit(batch, commitId);
    if (failure !== undefined) throw failure;
    return outcomes;
  }

  private async announceAndCommit(batch: Pending[]): Promise<void> {
    const commitId = randomUUID();
    if (this.options.onPack) {
      try {
        await this.options.onPack({
          commitId,
          requestIds: [...batch].sort((a, b) => byRecordPosition(a.record, b.record)).map((p) => p.record.requestId),
        });
      } catch (err) {
        for (const p of batch) p.reject(err);
        return;
      }
    }
    await this.commit(batch, commitId);
  }

  private async commit(batch: Pending[], commitId: string): Promise<void> {
    // Earliest first: the pack is keyed by live[0], the record a refused write names as stored.
    let live = [...batch].sort((a, b) => byRecordPosition(a.record, b.record));
    let item: Record<string, unknown> | undefined;
    let dropped = 0;
    for (let attempt = 1; live.length > 0; attempt++) {
      // One item per set of records, retried as is: its commit id tells its own landed attempt
      // apart from another writer's item under the same key. The id of what remains after
      // dropping duplicates follows from the pack's own, so a pack written again after a crash
      // (commitPack) repeats every step of its first writing and meets each item it left.
      item ??= {
        ...packItem(
          live.map((p) => p.record),
          this.options.retentionDays,
        ),
        commitId: dropped === 0 ? commitId : `${commitId}+${dropped}`,
      };
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: item,
            ConditionExpression: "attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          }),
        );
        this.settle(live, "recorded");
        return;
      } catch (err) {
        if (err instanceof ConditionalCheckFailedException) {
          const stored = err.Item ? unmarshall(err.Item) : undefined;
          if (stored?.commitId === item.commitId) {
            // An earlier attempt of this very pack landed (its answer was lost).
            this.settle(live, "recorded");
            return;
          }
          const [first, ...others] = live;
          if (first) this.settle([first], "duplicate");
          live = others;
          item = undefined;
          dropped++;
          attempt--; // Dropping a duplicate is progress, not a failed attempt.
          continue;
        }
        if (RETRYABLE.has((err as Error).name) && attempt < this.maxAttempts) {
          await backoff(attempt);
          continue;
        }
        for (const p of live) p.reject(err);
        return;
      }
    }
  }

  private settle(done: readonly Pending[], outcome: RecordOutcome): void {
    for (const p of done) {
      this.remember(p.record.requestId);
      p.resolve(outcome);
    }
  }

  private remember(requestId: string): void {
    this.recordedIds.add(requestId);
    if (this.recordedIds.size > REMEMBERED_IDS) {
      const oldest = this.recordedIds.values().next().value;
      if (oldest !== undefined) this.recordedIds.delete(oldest);
    }
  }
}
