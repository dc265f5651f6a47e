import { ACCESS_LOG_GROUP_ENV } from "../../infra/shared/function-env";
import { createAwsClients } from "../aws/clients";
import { CloudWatchAccessLog } from "../aws/cloudwatch-access-log";
import { requireEnv } from "../aws/env";
import { settingsFromEnv } from "../aws/settings";
import { createAdminHandler } from "./create-admin-handler";
import { adminDeps } from "./deps";

const clients = createAwsClients();

/**
 * The cloud's composition root of the admin function. Versions become ready by `cdk deploy`;
 * reconciliation reads the API stage's access log through Logs Insights.
 */
export const handler = createAdminHandler(
  adminDeps(clients, settingsFromEnv(), {
    ...(process.env.MODEL_BUCKET ? { modelBucket: process.env.MODEL_BUCKET } : {}),
    versionActivation: "deploy",
    accessLog: new CloudWatchAccessLog(clients.logs(), requireEnv(ACCESS_LOG_GROUP_ENV)),
  }),
);
