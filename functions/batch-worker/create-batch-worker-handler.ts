import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { BatchMessage } from "../core/batch/ports";
import { type BatchWorkerDeps, runBatchStep } from "../core/batch/worker";
import { logger } from "../http/logger";

/**
 * The batch worker: SQS messages of batch work (functions/core/batch/worker.ts), each step
 * idempotent. A step that fails is reported back on its own (a partial batch response), so SQS
 * delivers it again after the visibility timeout and, past the queue's receive count, moves it
 * to the dead-letter queue, whose alarm an operator answers.
 */
export function createBatchWorkerHandler(deps: BatchWorkerDeps) {
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const failures: SQSBatchResponse["batchItemFailures"] = [];
    await Promise.all(
      event.Records.map(async (record) => {
        let msg: BatchMessage;
        try {
          msg = JSON.parse(record.body) as BatchMessage;
        } catch {
          // Nothing will ever parse it: dropped, with a log line, rather than retried into the DLQ.
          logger.error("batch message is not JSON", { messageId: record.messageId });
          return;
        }
        try {
          await runBatchStep(deps, msg);
        } catch (err) {
          logger.error("batch step failed", { messageId: record.messageId, step: msg.step, batchId: msg.batchId, error: err as Error });
          failures.push({ itemIdentifier: record.messageId });
        }
      }),
    );
    return { batchItemFailures: failures };
  };
}
