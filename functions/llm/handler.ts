import { createAwsClients } from "../aws/clients";
import { settingsFromEnv } from "../aws/settings";
import { inferenceMetrics, powertoolsMetrics } from "../http/metrics";
import { createLlmHandler } from "./create-llm-handler";
import { llmDeps } from "./deps";

/**
 * The cloud's composition root of the LLM function: Lambda response streaming behind API
 * Gateway's STREAM integrations (`awslambda` is the Node.js runtime's global).
 */
export const handler = awslambda.streamifyResponse(
  createLlmHandler(
    llmDeps(createAwsClients(), settingsFromEnv(), {
      ...(process.env.SHADOW_FUNCTION_NAME ? { shadowFunctionName: process.env.SHADOW_FUNCTION_NAME } : {}),
      metrics: inferenceMetrics(powertoolsMetrics()),
    }),
  ),
);
