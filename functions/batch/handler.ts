import { createAwsClients } from "../aws/clients";
import { requiredFunctionSetting, settingsFromEnv } from "../aws/settings";
import { SqsBatchQueue } from "../aws/sqs-batch-queue";
import { createBatchHandler } from "./create-batch-handler";
import { batchDeps } from "./deps";

const clients = createAwsClients();

/** The cloud's composition root of the Batch API function (files, batches, presigned uploads). */
export const handler = createBatchHandler(
  batchDeps(clients, settingsFromEnv(), {
    modelBucket: requiredFunctionSetting("modelBucket"),
    queue: new SqsBatchQueue(clients.sqs(), requiredFunctionSetting("batchQueueUrl")),
  }),
);
