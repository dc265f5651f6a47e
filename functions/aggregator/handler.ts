import { createAwsClients } from "../aws/clients";
import { settingsFromEnv } from "../aws/settings";
import { createAggregatorHandler } from "./create-aggregator-handler";
import { aggregatorDeps } from "./deps";

/** The cloud's composition root of the aggregator (the usage table's stream, through an event source mapping). */
export const handler = createAggregatorHandler(aggregatorDeps(createAwsClients(), settingsFromEnv()));
