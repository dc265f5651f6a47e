import { setTimeout as delay } from "node:timers/promises";
import { DescribeTableCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type Shard,
  type ShardIteratorType,
  type _Record as StreamRecord,
  TrimmedDataAccessException,
} from "@aws-sdk/client-dynamodb-streams";
import type { DynamoDBRecord } from "aws-lambda";
import type { AggregatorEvent, AggregatorResult } from "../../functions/aggregator/create-aggregator-handler";
import { AGGREGATOR_STREAM } from "../../functions/contract/tables";
import { quietPauseMs, type TableWrites } from "./table-writes";

/**
 * Pause before reading a shard again once a read came back with less than a full batch (caught
 * up): Lambda polls each shard of a DynamoDB stream 4 times a second. Reading again at once would
 * cost DynamoDB Local a call (~2 ms of its CPU) per few records under load.
 */
const POLL_INTERVAL_MS = 250;
/** Pause between listings of the stream's shards (new shards are found by them). */
const LIST_INTERVAL_MS = 1000;

export interface StreamPollerOptions {
  readonly dynamo: DynamoDBClient;
  readonly streams: DynamoDBStreamsClient;
  readonly tableName: string;
  readonly handler: (event: AggregatorEvent) => Promise<AggregatorResult>;
  /** Where a shard's reading starts: the sequence number last applied, if known (from the aggregator's checkpoint). */
  readonly startAfter: (shardId: string) => Promise<string | undefined>;
  /** A batch dropped after its retries: the cloud's on-failure destination. */
  readonly onDiscard: (shardId: string, first: string, last: string, err: unknown) => void;
  /** Retries of a failing batch before it is discarded. @default AGGREGATOR_STREAM.retryAttempts */
  readonly retryAttempts?: number;
  /** @default AGGREGATOR_STREAM.maxBatchingWindowSeconds * 1000 */
  readonly batchingWindowMs?: number;
  /**
   * This process's writes to the table. With them, a shard read dry is read again ever less
   * often (250 ms, doubling up to `idlePollMs`) and at once after such a write, and the shards
   * are listed ever less often (up to 5 × `idlePollMs`) while none is new: an idle platform then
   * makes a call every 2 s instead of five a second. Without them, Lambda's cadence throughout.
   */
  readonly writes?: Pick<TableWrites, "pause">;
  /** The longest pause of an idle shard, when `writes` is given; a write by another process waits this long at most. @default 2000 */
  readonly idlePollMs?: number;
}

export interface StreamPoller {
  stop(): Promise<void>;
}

/** Stream records as Lambda's event source mapping hands them over (the same shape, and filter). */
export function lambdaRecordOf(r: StreamRecord, streamArn: string): DynamoDBRecord {
  const d = r.dynamodb;
  return {
    eventID: r.eventID,
    eventName: r.eventName as DynamoDBRecord["eventName"],
    eventVersion: r.eventVersion,
    eventSource: r.eventSource,
    awsRegion: r.awsRegion,
    eventSourceARN: streamArn,
    dynamodb: {
      ...(d?.ApproximateCreationDateTime
        ? { ApproximateCreationDateTime: Math.floor(d.ApproximateCreationDateTime.getTime() / 1000) }
        : {}),
      Keys: d?.Keys as never,
      NewImage: d?.NewImage as never,
      SequenceNumber: d?.SequenceNumber,
      SizeBytes: d?.SizeBytes,
      StreamViewType: d?.StreamViewType as never,
    },
  };
}

/** The event source mapping's filter (AGGREGATOR_STREAM.filter): INSERTs of packs. */
function passesFilter(r: StreamRecord): boolean {
  const type = r.dynamodb?.NewImage?.type;
  return (
    (AGGREGATOR_STREAM.filter.eventName as readonly string[]).includes(r.eventName ?? "") &&
    type !== undefined &&
    "S" in type &&
    (AGGREGATOR_STREAM.filter.dynamodb.NewImage.type.S as readonly string[]).includes(type.S ?? "")
  );
}

/**
 * A small event source mapping for DynamoDB Local: reads the usage table's stream
 * (DescribeStream, GetShardIterator, GetRecords), shard by shard in lineage order (a child
 * only after its parent is read to its end), filters, batches (batch size and window) and
 * invokes the aggregator handler as Lambda would: records left after a reported item
 * failure are retried from it, a batch whose invocation throws is bisected, a batch that
 * keeps failing is discarded to `onDiscard` after the retry attempts.
 */
export async function startStreamPoller(opts: StreamPollerOptions): Promise<StreamPoller> {
  const table = await opts.dynamo.send(new DescribeTableCommand({ TableName: opts.tableName }));
  const streamArn = table.Table?.LatestStreamArn;
  if (!streamArn) throw new Error(`${opts.tableName} has no stream`);
  const windowMs = opts.batchingWindowMs ?? AGGREGATOR_STREAM.maxBatchingWindowSeconds * 1000;
  let stopping = false;
  const stop = new AbortController();
  const finished = new Set<string>();
  const running = new Map<string, Promise<void>>();
  /** Aborted when a shard is read to its end: its children are listed now, not at the next quiet listing. */
  let relist = new AbortController();
  const idlePollMs = opts.idlePollMs ?? 2000;
  const writes = opts.writes;
  const tableName = opts.tableName;
  /** Resolves after `ms` or once any signal aborts (the poller stops). */
  const sleep = (ms: number, ...signals: AbortSignal[]) =>
    delay(ms, undefined, { signal: AbortSignal.any([stop.signal, ...signals]) }).catch(() => undefined);

  async function invoke(shardId: string, records: DynamoDBRecord[], attempt = 0): Promise<void> {
    if (records.length === 0) return;
    let result: AggregatorResult | undefined;
    let error: unknown;
    try {
      result = await opts.handler({ Records: records, shardId, window: {} });
    } catch (err) {
      error = err;
    }
    const failed = result?.batchItemFailures[0]?.itemIdentifier;
    if (result && failed === undefined) return;
    const seq = (r: DynamoDBRecord) => r.dynamodb?.SequenceNumber ?? "";
    const first = seq(records[0] as DynamoDBRecord);
    const last = seq(records.at(-1) as DynamoDBRecord);
    if (attempt >= (opts.retryAttempts ?? AGGREGATOR_STREAM.retryAttempts)) {
      opts.onDiscard(shardId, first, last, error ?? new Error(`item ${failed} failed`));
      return;
    }
    if (stopping) return;
    await sleep(Math.min(1000, 50 * 2 ** attempt));
    if (error !== undefined && AGGREGATOR_STREAM.bisectBatchOnError && records.length > 1) {
      const half = Math.ceil(records.length / 2);
      await invoke(shardId, records.slice(0, half), attempt + 1);
      await invoke(shardId, records.slice(half), attempt + 1);
      return;
    }
    const from =
      error !== undefined
        ? 0
        : Math.max(
            0,
            records.findIndex((r) => seq(r) === failed),
          );
    await invoke(shardId, records.slice(from), attempt + 1);
  }

  async function iteratorOf(shardId: string, after: string | undefined): Promise<string | undefined> {
    const type: ShardIteratorType = after === undefined ? "TRIM_HORIZON" : "AT_SEQUENCE_NUMBER";
    try {
      const out = await opts.streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shardId,
          ShardIteratorType: type,
          ...(after ? { SequenceNumber: after } : {}),
        }),
      );
      return out.ShardIterator;
    } catch (err) {
      // The records after the checkpoint are gone (older than the stream keeps): start over.
      if (err instanceof TrimmedDataAccessException) return iteratorOf(shardId, undefined);
      throw err;
    }
  }

  async function readShard(shardId: string): Promise<void> {
    // AT the last applied record: a pack applied only in part is delivered again, and the
    // checkpoint skips the parts already applied.
    let lastSeen = await opts.startAfter(shardId);
    let iterator = await iteratorOf(shardId, lastSeen);
    /** The last record this reader took: one read again through a new iterator is not taken twice. */
    let taken: bigint | undefined;
    let pending: DynamoDBRecord[] = [];
    let windowStart = 0;
    /** Reads in a row that found nothing and left nothing pending: the longer the run, the longer the pause. */
    let dryReads = 0;
    while (iterator && !stopping) {
      let out: GetRecordsCommandOutput;
      try {
        out = await opts.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: AGGREGATOR_STREAM.batchSize }));
      } catch (err) {
        // An iterator expires 15 minutes after it was taken. DynamoDB Local also refuses, as
        // trimmed, one taken at TRIM_HORIZON of an empty shard once another table is written
        // before the shard's first record: it numbers records across tables, so the iterator
        // points before that record. Nothing is lost either way: read on from the last record seen.
        if (!(err instanceof ExpiredIteratorException || err instanceof TrimmedDataAccessException)) throw err;
        iterator = await iteratorOf(shardId, lastSeen);
        continue;
      }
      const records = out.Records ?? [];
      for (const r of records) {
        const seq = r.dynamodb?.SequenceNumber;
        if (seq === undefined) continue;
        if (taken !== undefined && BigInt(seq) <= taken) continue;
        taken = BigInt(seq);
        lastSeen = seq;
        if (!passesFilter(r)) continue;
        if (pending.length === 0) windowStart = Date.now();
        pending.push(lambdaRecordOf(r, streamArn as string));
      }
      iterator = out.NextShardIterator;
      const full = pending.length >= AGGREGATOR_STREAM.batchSize;
      if (pending.length > 0 && (full || !iterator || Date.now() - windowStart >= windowMs)) {
        const batch = pending.slice(0, AGGREGATOR_STREAM.batchSize);
        pending = pending.slice(batch.length);
        await invoke(shardId, batch);
        windowStart = Date.now();
      }
      const caughtUp = records.length < AGGREGATOR_STREAM.batchSize;
      dryReads = records.length === 0 && pending.length === 0 ? dryReads + 1 : 0;
      if (caughtUp && iterator) {
        if (writes && dryReads > 0) {
          await writes.pause(tableName, quietPauseMs(POLL_INTERVAL_MS, idlePollMs, dryReads), stop.signal);
        } else {
          // With records pending, read again no later than their window closes.
          const windowLeft = pending.length > 0 ? Math.max(0, windowStart + windowMs - Date.now()) : POLL_INTERVAL_MS;
          await sleep(Math.min(POLL_INTERVAL_MS, windowLeft));
        }
      }
    }
    if (!stopping) await invoke(shardId, pending);
    if (!iterator) {
      finished.add(shardId);
      relist.abort();
    }
  }

  async function describe(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let start: string | undefined;
    do {
      const out = await opts.streams.send(
        new DescribeStreamCommand({ StreamArn: streamArn, ...(start ? { ExclusiveStartShardId: start } : {}) }),
      );
      shards.push(...(out.StreamDescription?.Shards ?? []));
      start = out.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    return shards;
  }

  const loop = (async () => {
    /** Listings in a row that found no shard to start reading. */
    let quietListings = 0;
    while (!stopping) {
      let started = 0;
      try {
        const shards = await describe();
        const known = new Set(shards.map((s) => s.ShardId));
        for (const s of shards) {
          const id = s.ShardId as string;
          const parent = s.ParentShardId;
          // Lineage: a child's records come after its parent's, so it waits until the parent is read out.
          const ready = !parent || !known.has(parent) || finished.has(parent);
          if (ready && !finished.has(id) && !running.has(id)) {
            started++;
            running.set(
              id,
              readShard(id)
                .catch((err) => console.error(`stream poller: shard ${id}: ${(err as Error).message}`))
                .finally(() => running.delete(id)),
            );
          }
        }
      } catch (err) {
        if (!stopping) console.error(`stream poller: ${(err as Error).message}`);
      }
      quietListings = started > 0 ? 0 : quietListings + 1;
      if (!writes) await sleep(LIST_INTERVAL_MS);
      else {
        const ms = quietPauseMs(LIST_INTERVAL_MS, 5 * idlePollMs, quietListings);
        // With no shard being read, the table's next write is what makes one worth listing.
        if (running.size === 0) await writes.pause(tableName, ms, AbortSignal.any([stop.signal, relist.signal]));
        else await sleep(ms, relist.signal);
      }
      if (relist.signal.aborted) relist = new AbortController();
    }
  })();

  return {
    async stop() {
      stopping = true;
      stop.abort();
      await loop;
      await Promise.all(running.values());
    },
  };
}
