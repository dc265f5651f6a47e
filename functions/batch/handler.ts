import { fromEnv } from "@aws-sdk/credential-providers";
import { createAwsClients } from "../aws/clients";
import { requireEnv } from "../aws/env";
import { requiredFunctionSetting, settingsFromEnv } from "../aws/settings";
import { SqsBatchQueue } from "../aws/sqs-batch-queue";
import { createBatchHandler } from "./create-batch-handler";
import { batchDeps } from "./deps";

/** The cloud's composition root of the Batch API function (files, batches, presigned uploads). */
export const handler = createBatchHandler(
  batchDeps(createAwsClients(), settingsFromEnv(), {
    modelBucket: requiredFunctionSetting("modelBucket"),
    queue: new SqsBatchQueue(requiredFunctionSetting("batchQueueUrl"), fromEnv(), requireEnv("AWS_REGION")),
  }),
);
