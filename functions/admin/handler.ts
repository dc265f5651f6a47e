import { createAwsClients } from "../aws/clients";
import { settingsFromEnv } from "../aws/settings";
import { createAdminHandler } from "./create-admin-handler";
import { adminDeps } from "./deps";

/** The cloud's composition root of the admin function. Versions become ready by `cdk deploy`. */
export const handler = createAdminHandler(
  adminDeps(createAwsClients(), settingsFromEnv(), {
    ...(process.env.MODEL_BUCKET ? { modelBucket: process.env.MODEL_BUCKET } : {}),
    versionActivation: "deploy",
  }),
);
