import type { APIGatewayProxyEvent } from "aws-lambda";
import { reconcile } from "../core/access";
import { NotFoundError } from "../core/errors";
import { allTenantIds } from "../core/tenants";
import { EXPORT_QUERY_PARAMS, exportUsage } from "../core/usage-export";
import { OVERVIEW_QUERY_PARAMS, usageOverview } from "../core/usage-overview";
import { USAGE_QUERY_PARAMS, usageReport, usageReportJson } from "../core/usage-query";
import { jsonBody, pathParam, queryParams, requestIdOf } from "../http/event";
import type { LogFields } from "../http/handler";
import { json, parseWith } from "../http/respond";
import type { AdminDeps, AdminRoutes } from "./deps";
import { reconcileBody, tenantIdParam } from "./schemas";

/** Usage routes of the admin API: any tenant's report and records. */
export function usageRoutes(deps: AdminDeps) {
  const { identity, usage, reconciliation, maxBodyBytes } = deps;
  /** The tenant of the path; 404 if it never existed. Usage outlives its tenant: a deleted one's stays readable. */
  async function usageTenant(event: APIGatewayProxyEvent, log: LogFields): Promise<string> {
    const tenantId = parseWith(tenantIdParam, pathParam(event, "tenantId"));
    log.tenantId = tenantId;
    if (!(await identity.getTenant(tenantId))) throw new NotFoundError(`tenant '${tenantId}' does not exist`);
    return tenantId;
  }

  return {
    "GET /admin/tenants/{tenantId}/usage": async (event, log) => {
      const report = await usageReport(usage, await usageTenant(event, log), queryParams(event, USAGE_QUERY_PARAMS));
      return json(200, usageReportJson(report, deps.currency), requestIdOf(event));
    },
    "GET /admin/tenants/{tenantId}/usage/records": async (event, log) => {
      const page = await exportUsage(usage, await usageTenant(event, log), queryParams(event, EXPORT_QUERY_PARAMS));
      return json(200, page, requestIdOf(event));
    },
    "GET /admin/usage": async (event) => {
      const tenants = await allTenantIds(identity);
      const overview = await usageOverview(usage, tenants, queryParams(event, OVERVIEW_QUERY_PARAMS), {
        now: Date.now(),
        currency: deps.currency,
      });
      return json(200, overview, requestIdOf(event));
    },
    /** Access records without usage records in a range: reported, and written with `repair`. */
    "POST /admin/usage/reconcile": async (event) => {
      const report = await reconcile(reconciliation, parseWith(reconcileBody, jsonBody(event, maxBodyBytes, { optional: true }).json));
      return json(200, report, requestIdOf(event));
    },
  } satisfies AdminRoutes;
}
