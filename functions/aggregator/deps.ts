import type { AwsClients } from "../aws/clients";
import { DynamoAggregateStore } from "../aws/usage-aggregates";
import type { FunctionSettings } from "../contract/settings";
import type { AggregatorDeps } from "./create-aggregator-handler";

/** The aggregator's adapters: the same for both hosts. */
export function aggregatorDeps(clients: AwsClients, settings: FunctionSettings): AggregatorDeps {
  return { store: new DynamoAggregateStore(clients.dynamo, settings.tables.usage) };
}
