import { createAwsClients } from "../aws/clients";
import { CloudWatchAccessLog } from "../aws/cloudwatch-access-log";
import { optionalFunctionSetting, requiredFunctionSetting, settingsFromEnv } from "../aws/settings";
import { createAdminHandler } from "./create-admin-handler";
import { adminDeps } from "./deps";

const clients = createAwsClients();
const modelBucket = optionalFunctionSetting("modelBucket");

/**
 * The cloud's composition root of the admin function. Versions become ready by `cdk deploy`;
 * reconciliation reads the API stage's access log through Logs Insights.
 */
export const handler = createAdminHandler(
  adminDeps(clients, settingsFromEnv(), {
    ...(modelBucket ? { modelBucket } : {}),
    versionActivation: "deploy",
    accessLog: new CloudWatchAccessLog(clients.logs(), requiredFunctionSetting("accessLogGroup")),
  }),
);
