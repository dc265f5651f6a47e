import type { AwsClients } from "../aws/clients";
import { DynamoLimitStore, type LimitStoreOptions } from "../aws/limit-store";
import { DynamoUsageReader } from "../aws/usage-reader";
import type { FunctionSettings } from "../contract/settings";
import type { UsageDeps } from "./create-usage-handler";

/** The usage function's adapters: the same for both hosts, tuned by the host. */
export function usageDeps(clients: AwsClients, settings: FunctionSettings, limitStore: LimitStoreOptions = {}): UsageDeps {
  return {
    usage: new DynamoUsageReader(clients.dynamo, settings.tables.usage),
    limits: new DynamoLimitStore(clients.dynamo, settings.tables.usage, limitStore),
    currency: settings.currency,
  };
}
