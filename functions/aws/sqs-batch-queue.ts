import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { BatchMessage, BatchQueue } from "../core/batch/ports";

/** SQS takes at most 10 messages per SendMessageBatch. */
const PER_CALL = 10;

/** Batch work onto SQS, ten messages a call; a message SQS refuses fails the send (the caller retries the step). */
export class SqsBatchQueue implements BatchQueue {
  constructor(
    private readonly sqs: Pick<SQSClient, "send">,
    private readonly queueUrl: string,
  ) {}

  async send(messages: readonly BatchMessage[]): Promise<void> {
    for (let i = 0; i < messages.length; i += PER_CALL) {
      const entries = messages.slice(i, i + PER_CALL).map((m, j) => ({ Id: String(i + j), MessageBody: JSON.stringify(m) }));
      const out = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }));
      const failed = out.Failed ?? [];
      if (failed.length > 0) throw new Error(`SQS refused ${failed.length} batch message(s): ${JSON.stringify(failed).slice(0, 300)}`);
    }
  }
}
