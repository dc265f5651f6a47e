import { createAwsClients } from "../aws/clients";
import { optionalFunctionSetting, settingsFromEnv } from "../aws/settings";
import { inferenceMetrics, powertoolsMetrics } from "../http/metrics";
import { createInvokeHandler } from "./create-invoke-handler";
import { invokeDeps } from "./deps";

const shadowFunctionName = optionalFunctionSetting("shadowFunctionName");

/** The cloud's composition root of the invoke function: built once per Lambda instance. */
export const handler = createInvokeHandler(
  invokeDeps(createAwsClients(), settingsFromEnv(), {
    ...(shadowFunctionName ? { shadowFunctionName } : {}),
    metrics: inferenceMetrics(powertoolsMetrics()),
  }),
);
