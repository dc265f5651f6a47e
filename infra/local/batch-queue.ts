import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { BatchMessage, BatchQueue, BatchStore } from "../../functions/core/batch/ports";

export interface LocalBatchQueueOptions {
  /** Messages handed to the worker at once (its reserved concurrency, in the cloud). @default 2 */
  readonly concurrency?: number;
  /** How long a failed message waits before it is delivered again (SQS's visibility timeout). @default 1000 */
  readonly retryDelayMs?: number;
  /** Deliveries before a message is given up on (the cloud moves it to the dead-letter queue then). @default 5 */
  readonly maxReceives?: number;
  readonly log?: (message: string) => void;
}

type WorkerHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;

interface Queued {
  readonly id: string;
  readonly message: BatchMessage;
  receives: number;
}

/**
 * The local host's SQS: batch work in memory, delivered to the same worker handler Lambda's
 * event source mapping calls, one message per event. Memory alone would lose work at a crash;
 * the work's state is in DynamoDB, so `recover` at start re-queues what every unfinished batch
 * still needs (each step is idempotent, so what was already done is a no-op).
 */
export class LocalBatchQueue implements BatchQueue {
  private readonly queue: Queued[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private handler: WorkerHandler | undefined;
  private closed = false;
  private seq = 0;

  constructor(private readonly options: LocalBatchQueueOptions = {}) {}

  /** The worker handler is built with this queue (it sends to it), so it is attached after. */
  attach(handler: WorkerHandler): void {
    this.handler = handler;
    this.pump();
  }

  async send(messages: readonly BatchMessage[]): Promise<void> {
    for (const message of messages) this.queue.push({ id: `local-${++this.seq}`, message, receives: 0 });
    this.pump();
  }

  /** Re-queues the next step of every batch not yet finished (after a restart, a kill -9 included). */
  async recover(store: BatchStore): Promise<number> {
    const active = await store.activeBatches();
    const messages: BatchMessage[] = [];
    for (const { tenantId, batchId } of active) {
      const b = await store.getBatch(tenantId, batchId);
      if (!b) continue;
      // `validate` on a running batch sends its chunks again; finalizing and cancelling batches finish.
      if (b.status === "validating" || b.status === "in_progress") messages.push({ step: "validate", tenantId, batchId });
      else messages.push({ step: "finalize", tenantId, batchId });
    }
    await this.send(messages);
    return messages.length;
  }

  /** Stops delivering and waits for the messages being worked on. */
  async stop(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    await Promise.all([...this.inFlight]);
  }

  private pump(): void {
    const max = this.options.concurrency ?? 2;
    while (!this.closed && this.handler && this.inFlight.size < max && this.queue.length > 0) {
      const item = this.queue.shift() as Queued;
      const run = this.deliver(this.handler, item).finally(() => {
        this.inFlight.delete(run);
        this.pump();
      });
      this.inFlight.add(run);
    }
  }

  private async deliver(handler: WorkerHandler, item: Queued): Promise<void> {
    item.receives += 1;
    let failed: boolean;
    try {
      const out = await handler({ Records: [sqsRecord(item)] });
      failed = out.batchItemFailures.length > 0;
    } catch {
      failed = true;
    }
    if (!failed || this.closed) return;
    if (item.receives >= (this.options.maxReceives ?? 5)) {
      this.options.log?.(
        `batch message ${JSON.stringify(item.message)} failed ${item.receives} times; dropped (the cloud's dead-letter queue)`,
      );
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.queue.push(item);
      this.pump();
    }, this.options.retryDelayMs ?? 1000);
    this.timers.add(timer);
  }
}

function sqsRecord(item: Queued): SQSRecord {
  return {
    messageId: item.id,
    receiptHandle: item.id,
    body: JSON.stringify(item.message),
    attributes: {
      ApproximateReceiveCount: String(item.receives),
      SentTimestamp: String(Date.now()),
      SenderId: "local",
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:local:000000000000:batch",
    awsRegion: "local",
  };
}
