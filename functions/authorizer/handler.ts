import { createAwsClients } from "../aws/clients";
import { DynamoIdentityStore } from "../aws/identity-store";
import { settingsFromEnv } from "../aws/settings";
import { rememberingUnknownKeys } from "../core/unknown-keys";
import { createAuthorizerHandler } from "./create-authorizer-handler";

/** The cloud's composition root of the REQUEST authorizer. */
export const handler = createAuthorizerHandler({
  keys: rememberingUnknownKeys(new DynamoIdentityStore(createAwsClients().dynamo, settingsFromEnv().tables.identity)),
});
