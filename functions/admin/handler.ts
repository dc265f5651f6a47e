import type { APIGatewayProxyEvent } from "aws-lambda";
import { TABLE_ENV } from "../../infra/shared/tables";
import { documentClient } from "../aws/clients";
import { intEnv, requireEnv } from "../aws/env";
import { DynamoIdentityStore } from "../aws/identity-store";
import { DynamoRegistry } from "../aws/registry-store";
import { DynamoUsageReader } from "../aws/usage-reader";
import { createKey, createTenant, moveAlias, requireTenant } from "../core/admin";
import { NotFoundError } from "../core/errors";
import { usageReport } from "../core/usage-query";
import { jsonBody, pathParam, queryParam, requestIdOf } from "../http/event";
import { httpHandler } from "../http/handler";
import { json, parseWith } from "../http/respond";
import { aliasParam, createKeyBody, createTenantBody, keyIdParam, modelParam, setAliasBody, tenantIdParam } from "./schemas";

const doc = documentClient();
const identity = new DynamoIdentityStore(doc, requireEnv(TABLE_ENV.identity));
const registry = new DynamoRegistry(doc, requireEnv(TABLE_ENV.registry));
const usage = new DynamoUsageReader(doc, requireEnv(TABLE_ENV.usage));
const maxBodyBytes = intEnv("MAX_BODY_BYTES", 6 * 1024 * 1024);

/** Who made an admin call: the IAM principal API Gateway verified (SigV4). */
function actorOf(event: APIGatewayProxyEvent): string {
  return event.requestContext.identity?.userArn ?? event.requestContext.identity?.caller ?? "unknown";
}

/** Admin API: reached only through IAM (SigV4) authorization, never with a tenant key. */
export const handler = httpHandler({
  "POST /admin/tenants": async (event, log) => {
    const body = parseWith(createTenantBody, jsonBody(event, maxBodyBytes));
    log.tenantId = body.tenantId;
    return json(201, await createTenant(identity, body), requestIdOf(event));
  },
  "GET /admin/tenants/{tenantId}": async (event) => {
    const tenantId = parseWith(tenantIdParam, pathParam(event, "tenantId"));
    return json(200, await requireTenant(identity, tenantId), requestIdOf(event));
  },
  "POST /admin/tenants/{tenantId}/keys": async (event, log) => {
    const tenantId = parseWith(tenantIdParam, pathParam(event, "tenantId"));
    const body = parseWith(createKeyBody, event.body ? jsonBody(event, maxBodyBytes) : {});
    const key = await createKey(identity, tenantId, body);
    log.tenantId = tenantId;
    log.keyId = key.keyId;
    return json(201, key, requestIdOf(event), { "cache-control": "no-store" });
  },
  "DELETE /admin/tenants/{tenantId}/keys/{keyId}": async (event) => {
    const tenantId = parseWith(tenantIdParam, pathParam(event, "tenantId"));
    const keyId = parseWith(keyIdParam, pathParam(event, "keyId"));
    await identity.revokeKey(tenantId, keyId);
    return json(200, { tenantId, keyId, status: "revoked" }, requestIdOf(event));
  },
  "GET /admin/tenants/{tenantId}/usage": async (event) => {
    const tenantId = parseWith(tenantIdParam, pathParam(event, "tenantId"));
    await requireTenant(identity, tenantId);
    const report = await usageReport(usage, tenantId, {
      from: queryParam(event, "from"),
      to: queryParam(event, "to"),
      model: queryParam(event, "model"),
      by: queryParam(event, "by"),
    });
    return json(200, report, requestIdOf(event));
  },
  "GET /admin/models/{model}/aliases/{alias}": async (event) => {
    const model = parseWith(modelParam, pathParam(event, "model"));
    const aliasName = parseWith(aliasParam, pathParam(event, "alias"));
    const alias = await registry.getAlias(model, aliasName);
    if (!alias) throw new NotFoundError(`model '${model}' has no alias '${aliasName}'`);
    return json(200, alias, requestIdOf(event));
  },
  "PUT /admin/models/{model}/aliases/{alias}": async (event) => {
    const model = parseWith(modelParam, pathParam(event, "model"));
    const aliasName = parseWith(aliasParam, pathParam(event, "alias"));
    const body = parseWith(setAliasBody, jsonBody(event, maxBodyBytes));
    const targets = typeof body.target === "number" ? [{ version: body.target, weight: 100 }] : body.target;
    const alias = await moveAlias(registry, model, aliasName, targets, body.expectedRevision, actorOf(event));
    return json(200, alias, requestIdOf(event));
  },
});
