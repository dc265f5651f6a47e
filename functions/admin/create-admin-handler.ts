import { httpHandler } from "../http/handler";
import type { AdminDeps } from "./deps";
import { invoiceRoutes } from "./invoices";
import { keyRoutes } from "./keys";
import { modelRoutes } from "./models";
import { priceRoutes } from "./prices";
import { showbackRoutes } from "./showback";
import { tenantRoutes } from "./tenants";
import { usageRoutes } from "./usage";

/** Admin API: reached only through IAM (SigV4) authorization, never with a tenant key. */
export function createAdminHandler(deps: AdminDeps) {
  return httpHandler<"admin">({
    ...tenantRoutes(deps),
    ...usageRoutes(deps),
    ...keyRoutes(deps),
    ...modelRoutes(deps),
    ...priceRoutes(deps),
    ...showbackRoutes(deps),
    ...invoiceRoutes(deps),
  });
}
