import { createAwsClients } from "../aws/clients";
import { settingsFromEnv } from "../aws/settings";
import { inferenceMetrics, powertoolsMetrics } from "../http/metrics";
import { createInvokeHandler } from "./create-invoke-handler";
import { invokeDeps } from "./deps";

/** The cloud's composition root of the invoke function: built once per Lambda instance. */
export const handler = createInvokeHandler(
  invokeDeps(createAwsClients(), settingsFromEnv(), {
    ...(process.env.SHADOW_FUNCTION_NAME ? { shadowFunctionName: process.env.SHADOW_FUNCTION_NAME } : {}),
    metrics: inferenceMetrics(powertoolsMetrics()),
  }),
);
