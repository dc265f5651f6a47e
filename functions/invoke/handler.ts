import { createAwsClients } from "../aws/clients";
import { EventBridgeBudgetAlerts } from "../aws/eventbridge-budget-alerts";
import { optionalFunctionSetting, settingsFromEnv } from "../aws/settings";
import { inferenceMetrics, powertoolsMetrics } from "../http/metrics";
import { createInvokeHandler } from "./create-invoke-handler";
import { invokeDeps } from "./deps";

const shadowFunctionName = optionalFunctionSetting("shadowFunctionName");
const clients = createAwsClients();

/** The cloud's composition root of the invoke function: built once per Lambda instance. */
export const handler = createInvokeHandler(
  invokeDeps(clients, settingsFromEnv(), {
    ...(shadowFunctionName ? { shadowFunctionName } : {}),
    metrics: inferenceMetrics(powertoolsMetrics()),
    budgetAlerts: new EventBridgeBudgetAlerts(clients.events()),
  }),
);
