import { type AttributeValue, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import { CHECKPOINT_PK, freshnessPk, freshnessSk, minuteOf } from "../contract/usage-keys";
import type { AggregateTransaction, StreamPack } from "../core/usage-aggregation";
import { backoff } from "./backoff";
import { aggregateUpdate, isPack, packPosition, recordsOf } from "./usage-items";

/** The outcome of applying a transaction: done, or the checkpoint was not where expected. */
export type ApplyOutcome = "applied" | "moved";

/** Where the aggregator keeps its checkpoints and applies deltas. */
export interface AggregateStore {
  /** The position last applied on a stream shard, if any. */
  checkpoint(shardId: string): Promise<string | undefined>;
  /**
   * Applies `tx` atomically with moving the shard's checkpoint from `expected` (undefined: none
   * yet) to `tx.position`; "moved" (nothing applied) when the checkpoint is elsewhere.
   */
  apply(shardId: string, expected: string | undefined, tx: AggregateTransaction): Promise<ApplyOutcome>;
}

/** Applied counts expire with the records they count: freshness only looks at recent minutes. */
const FRESHNESS_TTL_S = 2 * 86_400;
/** Cancellation codes worth another attempt: contention on an aggregate, throttling. */
const RETRYABLE = new Set(["TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"]);

export class DynamoAggregateStore implements AggregateStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly maxAttempts = 5,
  ) {}

  async checkpoint(shardId: string): Promise<string | undefined> {
    return this.checkpointField(shardId, "position");
  }

  /** The stream sequence number of the record last applied (in whole or part) on a shard: where a reader resumes. */
  async resumeAt(shardId: string): Promise<string | undefined> {
    return this.checkpointField(shardId, "sequenceNumber");
  }

  private async checkpointField(shardId: string, field: "position" | "sequenceNumber"): Promise<string | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: CHECKPOINT_PK, sk: shardId }, ConsistentRead: true }),
    );
    const value = out.Item?.[field];
    return typeof value === "string" ? value : undefined;
  }

  async apply(shardId: string, expected: string | undefined, tx: AggregateTransaction): Promise<ApplyOutcome> {
    const now = Date.now();
    const checkpoint = {
      Update: {
        TableName: this.table,
        Key: { pk: CHECKPOINT_PK, sk: shardId },
        UpdateExpression: "SET #position = :to, sequenceNumber = :seq, #type = :type, updatedAt = :now",
        // Conditional on the position read: a replayed, bisected or concurrent batch that
        // finds the checkpoint elsewhere applies nothing.
        ConditionExpression: expected === undefined ? "attribute_not_exists(pk)" : "#position = :from",
        ExpressionAttributeNames: { "#position": "position", "#type": "type" },
        ExpressionAttributeValues: {
          ":to": tx.position,
          ":seq": tx.lastSequenceNumber,
          ":type": "aggregator-checkpoint",
          ":now": new Date(now).toISOString(),
          ...(expected === undefined ? {} : { ":from": expected }),
        },
      },
    };
    const deltas = tx.deltas.map((d) =>
      d.kind === "aggregate"
        ? { Update: aggregateUpdate(this.table, d.key, d.counters) }
        : {
            Update: {
              TableName: this.table,
              Key: { pk: freshnessPk(d.tenantId), sk: freshnessSk(d.minute) },
              UpdateExpression: "SET #type = :type, expiresAt = :exp ADD applied :n",
              ExpressionAttributeNames: { "#type": "type" },
              ExpressionAttributeValues: { ":type": "usage-applied", ":exp": Math.floor(now / 1000) + FRESHNESS_TTL_S, ":n": d.records },
            },
          },
    );
    for (let attempt = 1; ; attempt++) {
      try {
        await this.doc.send(new TransactWriteCommand({ TransactItems: [checkpoint, ...deltas] }));
        return "applied";
      } catch (err) {
        if (!(err instanceof TransactionCanceledException)) throw err;
        const reasons = err.CancellationReasons ?? [];
        if (reasons[0]?.Code === "ConditionalCheckFailed") return "moved";
        const retryable = reasons.every((r) => !r.Code || r.Code === "None" || RETRYABLE.has(r.Code));
        if (!retryable || attempt >= this.maxAttempts) throw err;
        await backoff(attempt, 20);
      }
    }
  }
}

/**
 * The pack a stream record carries: only INSERTs of packs count. Old single records were
 * aggregated in the transaction that wrote them, and TTL removals are no usage.
 */
export function packOfStreamRecord(r: DynamoDBRecord): StreamPack | undefined {
  const image = r.dynamodb?.NewImage;
  const sequenceNumber = r.dynamodb?.SequenceNumber;
  if (r.eventName !== "INSERT" || !image || !sequenceNumber) return undefined;
  const item = unmarshall(image as Record<string, AttributeValue>);
  if (!isPack(item)) return undefined;
  return {
    sequenceNumber,
    tenantId: String(item.tenantId),
    minute: minuteOf(packPosition(item)),
    records: recordsOf(item),
  };
}
