import { createAwsClients } from "../aws/clients";
import { EventBridgeBudgetAlerts } from "../aws/eventbridge-budget-alerts";
import { requiredFunctionSetting, settingsFromEnv } from "../aws/settings";
import { SqsBatchQueue } from "../aws/sqs-batch-queue";
import { createBatchWorkerHandler } from "./create-batch-worker-handler";
import { batchWorkerDeps } from "./deps";

const clients = createAwsClients();

/** The cloud's composition root of the batch worker: SQS event source, reserved concurrency (infra/aws). */
export const handler = createBatchWorkerHandler(
  batchWorkerDeps(clients, settingsFromEnv(), {
    modelBucket: requiredFunctionSetting("modelBucket"),
    queue: new SqsBatchQueue(clients.sqs(), requiredFunctionSetting("batchQueueUrl")),
    budgetAlerts: new EventBridgeBudgetAlerts(clients.events()),
  }),
);
