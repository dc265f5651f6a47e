import { createAwsClients } from "../aws/clients";
import { optionalFunctionSetting, settingsFromEnv } from "../aws/settings";
import { withCors } from "../http/cors";
import { createUsageHandler } from "./create-usage-handler";
import { usageDeps } from "./deps";

/**
 * The cloud's composition root of the tenant usage function (usage reports, records, invoices);
 * the console's tenant page calls it from the console's CloudFront origin (CORS).
 */
export const handler = withCors(
  createUsageHandler(usageDeps(createAwsClients(), settingsFromEnv(), {}, { modelBucket: optionalFunctionSetting("modelBucket") })),
  optionalFunctionSetting("consoleOrigin"),
);
