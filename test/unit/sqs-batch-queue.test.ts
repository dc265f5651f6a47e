import type { SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "@jest/globals";
import { SqsBatchQueue } from "../../functions/aws/sqs-batch-queue";
import type { BatchMessage } from "../../functions/core/batch/ports";

/**
 * No local SQS exists, so the adapter is checked against a client double that records the
 * commands the SDK would send and can refuse entries as SQS does (a partial failure).
 */
function sqsDouble(failIds: string[] = []) {
  const sent: SendMessageBatchCommand[] = [];
  return {
    sent,
    send: async (command: SendMessageBatchCommand) => {
      sent.push(command);
      const entries = command.input.Entries ?? [];
      return {
        Successful: entries
          .filter((e) => !failIds.includes(e.Id ?? ""))
          .map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}`, MD5OfMessageBody: "x" })),
        Failed: entries.filter((e) => failIds.includes(e.Id ?? "")).map((e) => ({ Id: e.Id, Code: "InternalError", SenderFault: false })),
      };
    },
  };
}

const message = (i: number): BatchMessage => ({ step: "chunk", tenantId: "t", batchId: `b${i}`, chunk: i });

describe("SqsBatchQueue", () => {
  it("sends messages ten a call to the queue, each body the message's JSON", async () => {
    const sqs = sqsDouble();
    await new SqsBatchQueue(sqs as never, "https://sqs.eu-west-1.amazonaws.com/1/q").send(Array.from({ length: 23 }, (_, i) => message(i)));
    expect(sqs.sent.map((c) => c.input.Entries?.length)).toEqual([10, 10, 3]);
    expect(sqs.sent.every((c) => c.input.QueueUrl === "https://sqs.eu-west-1.amazonaws.com/1/q")).toBe(true);
    expect(sqs.sent.flatMap((c) => c.input.Entries ?? []).map((e) => JSON.parse(e.MessageBody ?? "").batchId)).toEqual(
      Array.from({ length: 23 }, (_, i) => `b${i}`),
    );
  });

  it("fails the send when SQS refuses an entry, so the step is retried", async () => {
    await expect(new SqsBatchQueue(sqsDouble(["1"]) as never, "q").send([message(0), message(1)])).rejects.toThrow(
      /refused 1 batch message/,
    );
  });
});
