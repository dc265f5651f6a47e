import { createAwsClients } from "../aws/clients";
import { optionalFunctionSetting, settingsFromEnv } from "../aws/settings";
import { inferenceMetrics, powertoolsMetrics } from "../http/metrics";
import { createLlmHandler } from "./create-llm-handler";
import { llmDeps } from "./deps";

const shadowFunctionName = optionalFunctionSetting("shadowFunctionName");

/**
 * The cloud's composition root of the LLM function: Lambda response streaming behind API
 * Gateway's STREAM integrations (`awslambda` is the Node.js runtime's global).
 */
export const handler = awslambda.streamifyResponse(
  createLlmHandler(
    llmDeps(createAwsClients(), settingsFromEnv(), {
      ...(shadowFunctionName ? { shadowFunctionName } : {}),
      metrics: inferenceMetrics(powertoolsMetrics()),
    }),
  ),
);
