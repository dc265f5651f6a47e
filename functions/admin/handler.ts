import { createAwsClients } from "../aws/clients";
import { CloudWatchAccessLog } from "../aws/cloudwatch-access-log";
import { CostExplorerPoolCosts } from "../aws/cost-explorer-pool-costs";
import { requireEnv } from "../aws/env";
import { SageMakerPoolState } from "../aws/sagemaker-pool-state";
import { optionalFunctionSetting, requiredFunctionSetting, settingsFromEnv } from "../aws/settings";
import { withCors } from "../http/cors";
import { createAdminHandler } from "./create-admin-handler";
import { adminDeps } from "./deps";

const clients = createAwsClients();
const modelBucket = optionalFunctionSetting("modelBucket");

/**
 * The cloud's composition root of the admin function. Versions become ready by `cdk deploy`;
 * reconciliation reads the API stage's access log through Logs Insights; showback reads pool
 * costs from Cost Explorer; the cloud console's origin may read the answers (CORS).
 */
export const handler = withCors(
  createAdminHandler(
    adminDeps(clients, settingsFromEnv(), {
      ...(modelBucket ? { modelBucket } : {}),
      versionActivation: "deploy",
      accessLog: new CloudWatchAccessLog(clients.logs(), requiredFunctionSetting("accessLogGroup")),
      // Lambda sets AWS_REGION: the region the pools run in, whose list prices the estimate takes.
      poolCosts: new CostExplorerPoolCosts(clients.costExplorer, { region: requireEnv("AWS_REGION") }),
      poolState: new SageMakerPoolState(clients.sagemaker()),
    }),
  ),
  // The console calls from its CloudFront origin (CORS); the CLI sends no Origin.
  optionalFunctionSetting("consoleOrigin"),
);
