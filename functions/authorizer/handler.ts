import { createAwsClients } from "../aws/clients";
import { DynamoIdentityStore } from "../aws/identity-store";
import { settingsFromEnv } from "../aws/settings";
import { createAuthorizerHandler } from "./create-authorizer-handler";

/** The cloud's composition root of the REQUEST authorizer. */
export const handler = createAuthorizerHandler({
  keys: new DynamoIdentityStore(createAwsClients().dynamo, settingsFromEnv().tables.identity),
});
