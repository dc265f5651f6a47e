import { httpHandler } from "../http/handler";
import { keyRoutes } from "./keys";
import { modelRoutes } from "./models";
import { tenantRoutes } from "./tenants";
import { usageRoutes } from "./usage";

/** Admin API: reached only through IAM (SigV4) authorization, never with a tenant key. */
export const handler = httpHandler({
  ...tenantRoutes,
  ...usageRoutes,
  ...keyRoutes,
  ...modelRoutes,
});
