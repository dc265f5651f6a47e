import { createAwsClients } from "../aws/clients";
import { optionalFunctionSetting, settingsFromEnv } from "../aws/settings";
import { createUsageHandler } from "./create-usage-handler";
import { usageDeps } from "./deps";

/** The cloud's composition root of the tenant usage function (usage reports, records, invoices). */
export const handler = createUsageHandler(
  usageDeps(createAwsClients(), settingsFromEnv(), {}, { modelBucket: optionalFunctionSetting("modelBucket") }),
);
