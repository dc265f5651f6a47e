import { createAwsClients } from "../aws/clients";
import { seedRegistry } from "../aws/registry-seed";
import { createSeedHandler } from "./create-seed-handler";

const { dynamo } = createAwsClients();

/** The cloud's composition root of the registry seed custom resource. */
export const handler = createSeedHandler((tableName, seed) => seedRegistry(dynamo, tableName, seed));
