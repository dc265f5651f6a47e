import { createAwsClients } from "../aws/clients";
import { settingsFromEnv } from "../aws/settings";
import { createShadowHandler } from "./create-shadow-handler";
import { shadowDeps } from "./deps";

/** The cloud's composition root of the shadow function (asynchronous invocations). */
export const handler = createShadowHandler(shadowDeps(createAwsClients(), settingsFromEnv()));
