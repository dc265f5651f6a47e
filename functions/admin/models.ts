import type { APIGatewayProxyEvent } from "aws-lambda";
import { inferenceComponentName, POOL_VARIANT_NAME, variantName } from "../contract/sagemaker-names";
import { aliasHistory, moveAlias, rollbackAlias } from "../core/aliases";
import { NotFoundError } from "../core/errors";
import type { Alias, ModelRecord, ModelVersion } from "../core/registry";
import { registerVersion, retireVersion, uploadTicket } from "../core/versions";
import { jsonBody, pathParam, queryParam, requestIdOf } from "../http/event";
import { json, parseWith } from "../http/respond";
import type { AdminDeps, AdminRoutes } from "./deps";
import { actorOf } from "./request";
import { aliasParam, listLimit, modelParam, registerVersionBody, setAliasBody, uploadBody, versionParam } from "./schemas";

const modelOf = (event: APIGatewayProxyEvent) => parseWith(modelParam, pathParam(event, "model"));
const aliasOf = (event: APIGatewayProxyEvent) => parseWith(aliasParam, pathParam(event, "alias"));

const versionsOf = (m: ModelRecord): ModelVersion[] => [...m.versions.values()].sort((a, b) => a.version - b.version);
const aliasesOf = (m: ModelRecord): Alias[] => [...m.aliases.values()].sort((a, b) => a.alias.localeCompare(b.alias));

/** Admin routes of the model registry: models, versions (upload → register → retire), aliases. */
export function modelRoutes(deps: AdminDeps) {
  const { registry, artifacts, maxBodyBytes, versionActivation, platformName } = deps;
  async function requireModel(model: string): Promise<ModelRecord> {
    const record = await registry.getModel(model);
    if (!record) throw new NotFoundError(`model '${model}' does not exist`);
    return record;
  }

  return {
    "GET /admin/models": async (event) => {
      const names = await registry.listModels();
      const models = await Promise.all(
        names.map(async (name) => {
          const m = await registry.getModel(name);
          const versions = m ? versionsOf(m) : [];
          return {
            model: name,
            description: m?.description,
            defaultAlias: m?.defaultAlias,
            versions: versions.length,
            ready: versions.filter((v) => v.status === "ready").length,
            latest: versions.at(-1)?.version,
            aliases: m ? aliasesOf(m).map((a) => a.alias) : [],
          };
        }),
      );
      return json(200, { models }, requestIdOf(event));
    },
    "GET /admin/models/{model}": async (event) => {
      const m = await requireModel(modelOf(event));
      return json(
        200,
        { model: m.model, description: m.description, defaultAlias: m.defaultAlias, versions: versionsOf(m), aliases: aliasesOf(m) },
        requestIdOf(event),
      );
    },
    "GET /admin/models/{model}/versions": async (event) => {
      const m = await requireModel(modelOf(event));
      return json(200, { model: m.model, versions: versionsOf(m) }, requestIdOf(event));
    },
    "GET /admin/models/{model}/versions/{version}": async (event) => {
      const m = await requireModel(modelOf(event));
      const version = parseWith(versionParam, pathParam(event, "version"));
      const v = m.versions.get(version);
      if (!v) throw new NotFoundError(`model '${m.model}' has no version ${version}`);
      return json(200, v, requestIdOf(event));
    },
    "POST /admin/models/{model}/uploads": async (event) => {
      const m = await requireModel(modelOf(event));
      const { fileName } = parseWith(uploadBody, jsonBody(event, maxBodyBytes).json);
      return json(201, uploadTicket(artifacts(), m.model, fileName), requestIdOf(event));
    },
    "POST /admin/models/{model}/versions": async (event) => {
      const m = await requireModel(modelOf(event));
      const body = parseWith(registerVersionBody, jsonBody(event, maxBodyBytes).json);
      // A new version joins the model's endpoint as one more variant, on the latest version's instance
      // type; or, when the latest is an inference component, the latest's pool as one more component.
      const latest = versionsOf(m).at(-1);
      if (!latest) throw new NotFoundError(`model '${m.model}' has no endpoint yet; declare its first version in the config`);
      const onPool = latest.inferenceComponentName !== undefined;
      const v = await registerVersion(registry, artifacts(), {
        model: m.model,
        upload: body.upload,
        sha256: body.sha256,
        size: body.size,
        runtime: body.runtime,
        version: body.version,
        inputs: body.inputs,
        outputs: body.outputs,
        endpointName: latest.endpointName,
        variantName: onPool ? () => POOL_VARIANT_NAME : variantName,
        inferenceComponentName: onPool ? (n: number) => inferenceComponentName(platformName, m.model, n) : undefined,
        instanceType: latest.instanceType,
      });
      return json(201, { ...v, activation: versionActivation }, requestIdOf(event));
    },
    "POST /admin/models/{model}/versions/{version}/retire": async (event) => {
      const model = modelOf(event);
      const version = parseWith(versionParam, pathParam(event, "version"));
      await retireVersion(registry, model, version);
      const m = await requireModel(model);
      return json(200, m.versions.get(version), requestIdOf(event));
    },
    "GET /admin/models/{model}/aliases/{alias}": async (event) => {
      const model = modelOf(event);
      const aliasName = aliasOf(event);
      const alias = await registry.getAlias(model, aliasName);
      if (!alias) throw new NotFoundError(`model '${model}' has no alias '${aliasName}'`);
      return json(200, alias, requestIdOf(event));
    },
    "PUT /admin/models/{model}/aliases/{alias}": async (event) => {
      const body = parseWith(setAliasBody, jsonBody(event, maxBodyBytes).json);
      const targets = typeof body.target === "number" ? [{ version: body.target, weight: 100 }] : body.target;
      const alias = await moveAlias(
        registry,
        modelOf(event),
        aliasOf(event),
        { targets, ...(body.shadow ? { shadow: body.shadow } : {}), ...(body.fallback !== undefined ? { fallback: body.fallback } : {}) },
        body.expectedRevision,
        actorOf(event),
      );
      return json(200, alias, requestIdOf(event));
    },
    "GET /admin/models/{model}/aliases/{alias}/history": async (event) => {
      const limit = parseWith(listLimit, queryParam(event, "limit"));
      const entries = await aliasHistory(registry, modelOf(event), aliasOf(event), limit);
      return json(200, { history: entries }, requestIdOf(event));
    },
    "POST /admin/models/{model}/aliases/{alias}/rollback": async (event) => {
      const alias = await rollbackAlias(registry, modelOf(event), aliasOf(event), actorOf(event));
      return json(200, alias, requestIdOf(event));
    },
  } satisfies AdminRoutes;
}
