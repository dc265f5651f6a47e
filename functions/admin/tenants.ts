import {
  createTenant,
  deleteTenant,
  disableTenant,
  enableTenant,
  listTenants,
  requireTenant,
  tenantView,
  updateTenant,
} from "../core/tenants";
import { jsonBody, pathParam, queryParam, requestIdOf } from "../http/event";
import { json, parseWith } from "../http/respond";
import type { AdminDeps, AdminRoutes } from "./deps";
import { limitBodies, listLimit, tenantIdParam } from "./schemas";

/** Tenant routes of the admin API. */
export function tenantRoutes(deps: AdminDeps) {
  const { identity, maxBodyBytes } = deps;
  const { createTenantBody, updateTenantBody } = limitBodies(deps.currency);
  return {
    "POST /admin/tenants": async (event, log) => {
      const body = parseWith(createTenantBody, jsonBody(event, maxBodyBytes).json);
      log.tenantId = body.tenantId;
      return json(201, tenantView(await createTenant(identity, body)), requestIdOf(event));
    },
    "GET /admin/tenants": async (event) => {
      const limit = parseWith(listLimit, queryParam(event, "limit"));
      const page = await listTenants(identity, limit, queryParam(event, "cursor"));
      return json(200, { tenants: page.items.map(tenantView), ...(page.cursor ? { cursor: page.cursor } : {}) }, requestIdOf(event));
    },
    "GET /admin/tenants/{tenantId}": async (event) => {
      const tenantId = parseWith(tenantIdParam, pathParam(event, "tenantId"));
      return json(200, tenantView(await requireTenant(identity, tenantId)), requestIdOf(event));
    },
    "PATCH /admin/tenants/{tenantId}": async (event, log) => {
      const tenantId = parseWith(tenantIdParam, pathParam(event, "tenantId"));
      log.tenantId = tenantId;
      const body = parseWith(updateTenantBody, jsonBody(event, maxBodyBytes).json);
      return json(200, tenantView(await updateTenant(identity, tenantId, body)), requestIdOf(event));
    },
    "POST /admin/tenants/{tenantId}/disable": async (event, log) => {
      const tenantId = parseWith(tenantIdParam, pathParam(event, "tenantId"));
      log.tenantId = tenantId;
      return json(200, tenantView(await disableTenant(identity, tenantId)), requestIdOf(event));
    },
    "POST /admin/tenants/{tenantId}/enable": async (event, log) => {
      const tenantId = parseWith(tenantIdParam, pathParam(event, "tenantId"));
      log.tenantId = tenantId;
      return json(200, tenantView(await enableTenant(identity, tenantId)), requestIdOf(event));
    },
    "DELETE /admin/tenants/{tenantId}": async (event, log) => {
      const tenantId = parseWith(tenantIdParam, pathParam(event, "tenantId"));
      log.tenantId = tenantId;
      return json(200, await deleteTenant(identity, tenantId), requestIdOf(event));
    },
  } satisfies AdminRoutes;
}
