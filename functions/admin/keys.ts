import type { APIGatewayProxyEvent } from "aws-lambda";
import { createKey, listKeys, revokeKey, rotateKey, updateKeyLimits } from "../core/api-keys";
import { jsonBody, pathParam, requestIdOf } from "../http/event";
import type { LogFields } from "../http/handler";
import { json, parseWith } from "../http/respond";
import type { AdminDeps, AdminRoutes } from "./deps";
import { keyIdParam, limitBodies, rotateKeyBody, tenantIdParam } from "./schemas";

/** Responses that carry a secret must never be cached anywhere. */
const NO_STORE = { "cache-control": "no-store" };

/** The tenant and key a `…/keys/{keyId}` route names, logged with the request. */
function keyOfPath(event: APIGatewayProxyEvent, log: LogFields): { tenantId: string; keyId: string } {
  const tenantId = parseWith(tenantIdParam, pathParam(event, "tenantId"));
  const keyId = parseWith(keyIdParam, pathParam(event, "keyId"));
  log.tenantId = tenantId;
  log.keyId = keyId;
  return { tenantId, keyId };
}

/** API key routes of the admin API. */
export function keyRoutes(deps: AdminDeps) {
  const { identity, maxKeysPerTenant, maxBodyBytes } = deps;
  const { createKeyBody, keyLimitsBody } = limitBodies(deps.currency);
  return {
    "POST /admin/tenants/{tenantId}/keys": async (event, log) => {
      const tenantId = parseWith(tenantIdParam, pathParam(event, "tenantId"));
      log.tenantId = tenantId;
      const body = parseWith(createKeyBody, jsonBody(event, maxBodyBytes, { optional: true }).json);
      const key = await createKey(identity, tenantId, body, new Date(), maxKeysPerTenant);
      log.keyId = key.keyId;
      return json(201, key, requestIdOf(event), NO_STORE);
    },
    "GET /admin/tenants/{tenantId}/keys": async (event) => {
      const tenantId = parseWith(tenantIdParam, pathParam(event, "tenantId"));
      return json(200, { tenantId, keys: await listKeys(identity, tenantId) }, requestIdOf(event));
    },
    "PATCH /admin/tenants/{tenantId}/keys/{keyId}": async (event, log) => {
      const { tenantId, keyId } = keyOfPath(event, log);
      const { limits } = parseWith(keyLimitsBody, jsonBody(event, maxBodyBytes, { optional: true }).json);
      return json(200, await updateKeyLimits(identity, tenantId, keyId, limits), requestIdOf(event));
    },
    "DELETE /admin/tenants/{tenantId}/keys/{keyId}": async (event, log) => {
      const { tenantId, keyId } = keyOfPath(event, log);
      return json(200, await revokeKey(identity, tenantId, keyId), requestIdOf(event));
    },
    "POST /admin/tenants/{tenantId}/keys/{keyId}/rotate": async (event, log) => {
      const { tenantId, keyId } = keyOfPath(event, log);
      const body = parseWith(rotateKeyBody, jsonBody(event, maxBodyBytes, { optional: true }).json);
      const key = await rotateKey(identity, tenantId, keyId, body, new Date(), maxKeysPerTenant);
      return json(201, key, requestIdOf(event), NO_STORE);
    },
  } satisfies AdminRoutes;
}
