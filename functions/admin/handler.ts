import { moveAlias } from "../core/admin";
import { NotFoundError } from "../core/errors";
import { jsonBody, pathParam, requestIdOf } from "../http/event";
import { httpHandler } from "../http/handler";
import { json, parseWith } from "../http/respond";
import { actorOf, maxBodyBytes, registry } from "./deps";
import { keyRoutes } from "./keys";
import { aliasParam, modelParam, setAliasBody } from "./schemas";
import { tenantRoutes } from "./tenants";

/** Admin API: reached only through IAM (SigV4) authorization, never with a tenant key. */
export const handler = httpHandler({
  ...tenantRoutes,
  ...keyRoutes,
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
