import { createAwsClients } from "../aws/clients";
import { EventBridgeBudgetAlerts } from "../aws/eventbridge-budget-alerts";
import { optionalFunctionSetting, settingsFromEnv } from "../aws/settings";
import { inferenceMetrics, powertoolsMetrics } from "../http/metrics";
import { createLlmHandler } from "./create-llm-handler";
import { llmDeps } from "./deps";

const shadowFunctionName = optionalFunctionSetting("shadowFunctionName");
const clients = createAwsClients();

/**
 * The cloud's composition root of the LLM function: Lambda response streaming behind API
 * Gateway's STREAM integrations (`awslambda` is the Node.js runtime's global).
 */
export const handler = awslambda.streamifyResponse(
  createLlmHandler(
    llmDeps(clients, settingsFromEnv(), {
      ...(shadowFunctionName ? { shadowFunctionName } : {}),
      metrics: inferenceMetrics(powertoolsMetrics()),
      budgetAlerts: new EventBridgeBudgetAlerts(clients.events()),
    }),
  ),
);
