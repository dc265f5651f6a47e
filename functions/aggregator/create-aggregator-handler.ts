import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import { type AggregateStore, packOfStreamRecord } from "../aws/usage-aggregates";
import { aggregateShard } from "../core/usage";
import { planTransactions, type StreamUnit, unitsOfPack } from "../core/usage-aggregation";
import { logger } from "../http/logger";

export interface AggregatorDeps {
  readonly store: AggregateStore;
  /** DynamoDB's limit on items in one transaction (one of them is the checkpoint). @default 100 */
  readonly maxItemsPerTransaction?: number;
}

/**
 * A batch from the usage table's stream. The event source mapping runs with a tumbling window,
 * which is what makes Lambda name the stream shard (`shardId`) the records come from; the
 * window's `state` is not used, but must be answered.
 */
export type AggregatorEvent = DynamoDBStreamEvent & { readonly shardId?: string; readonly window?: unknown };
export type AggregatorResult = DynamoDBBatchResponse & { readonly state?: Record<string, string> };

/** A checkpoint that keeps moving under a batch means another invocation owns the shard. */
const MAX_REPLANS = 5;

/**
 * Applies the packs of a stream batch to the hour and day aggregates exactly once. Delivery is
 * at least once (retries, bisected batches, a killed invocation): each transaction adds the
 * deltas of consecutive units of the batch and moves the shard's checkpoint from the position
 * read to its last unit's, conditionally, so a unit at or before the checkpoint is never
 * applied again and a transaction racing another one applies nothing and re-plans. On a
 * failure the batch reports the first record not applied (ReportBatchItemFailures): Lambda
 * retries from there, and what was applied before is skipped by the checkpoint anyway.
 */
export function createAggregatorHandler(deps: AggregatorDeps): (event: AggregatorEvent) => Promise<AggregatorResult> {
  const maxDeltas = (deps.maxItemsPerTransaction ?? 100) - 1;
  return async (event) => {
    const answer = (failed?: string): AggregatorResult => ({
      batchItemFailures: failed === undefined ? [] : [{ itemIdentifier: failed }],
      ...(event.window !== undefined ? { state: {} } : {}),
    });
    const shardId = event.shardId;
    const first = event.Records[0]?.dynamodb?.SequenceNumber;
    if (!shardId) {
      // Without a shard there is no checkpoint to make a redelivery harmless: apply nothing.
      logger.error("stream batch without shardId: the event source mapping needs a tumbling window", { records: event.Records.length });
      return answer(first);
    }
    const shard = aggregateShard(shardId);
    const units: StreamUnit[] = [];
    for (const record of event.Records) {
      const pack = packOfStreamRecord(record);
      if (!pack) continue;
      units.push(
        ...unitsOfPack(pack, shard, maxDeltas, (r, fields) =>
          logger.warn("usage counts not aggregated: not non-negative integers under the cap", {
            requestId: r.requestId,
            tenantId: r.tenantId,
            fields,
          }),
        ),
      );
    }
    let next = 0;
    try {
      for (let plans = 0; next < units.length; plans++) {
        if (plans >= MAX_REPLANS) throw new Error(`checkpoint of ${shardId} keeps moving`);
        const stored = await deps.store.checkpoint(shardId);
        while (next < units.length && stored !== undefined && (units[next] as StreamUnit).position <= stored) next++;
        let expected = stored;
        let moved = false;
        for (const tx of planTransactions(units.slice(next), maxDeltas)) {
          if ((await deps.store.apply(shardId, expected, tx)) === "moved") {
            moved = true;
            break;
          }
          expected = tx.position;
          while (next < units.length && (units[next] as StreamUnit).position <= tx.position) next++;
        }
        if (!moved) break;
      }
      logger.debug("stream batch applied", { shardId, records: event.Records.length, units: units.length });
      return answer();
    } catch (err) {
      const failed = units[next]?.sequenceNumber ?? first;
      logger.error("stream batch not fully applied", { shardId, failedSequenceNumber: failed, error: String(err) });
      return answer(failed);
    }
  };
}
