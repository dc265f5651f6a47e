import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { BadRequestError, toErrorResponse } from "../core/errors";
import { type InferenceDeps, InferenceFailedError, type InferenceRequest, runInference } from "../core/inference";
import { openModel } from "../core/model-access";
import { isGranted, type Principal, principalFromContext } from "../core/principal";
import { parseVersionOrAlias, type VersionSelector } from "../core/routing";
import { parseVersionNumber } from "../core/version-number";
import { bodyBytes, header, jsonBody, pathParam, queryParam, requestIdOf } from "../http/event";
import { httpHandler, type LogFields } from "../http/handler";
import { warnRejectedTokens } from "../http/logger";
import { type InferenceMetricsPublisher, requestMetrics } from "../http/metrics";
import { versionHeaders } from "../http/model-headers";
import { bytes, json } from "../http/respond";

/** What the invoke function needs: the inference path's ports, its body cap, and where metrics go. */
export interface InvokeDeps extends InferenceDeps {
  readonly maxBodyBytes: number;
  /** Per-request metrics; without a publisher none are emitted (the local host by default). */
  readonly metrics?: InferenceMetricsPublisher;
}

function rawSelector(event: APIGatewayProxyEvent): VersionSelector {
  const alias = queryParam(event, "alias");
  const version = queryParam(event, "version");
  if (alias && version) throw new BadRequestError("give either ?alias= or ?version=, not both");
  if (version) {
    const number = parseVersionNumber(version);
    if (number === undefined) throw new BadRequestError("?version= must be a version number");
    return { kind: "version", version: number };
  }
  if (alias) return parseVersionOrAlias(alias);
  return { kind: "default" };
}

/** What weighted aliases route this request by: the caller's `x-routing-key`, else its key id. */
function routingKeyOf(event: APIGatewayProxyEvent, principal: Principal): string {
  return header(event, "x-routing-key") ?? principal.keyId;
}

/** The caller, from the authorizer context only, noted on the request's log line. */
function callerOf(event: APIGatewayProxyEvent, log: LogFields): Principal {
  const principal = principalFromContext(event.requestContext.authorizer);
  log.tenantId = principal.tenantId;
  return principal;
}

/** The model and version a metadata or readiness request is about (the default alias, routed like inference). */
function openDefault(registry: InvokeDeps["registry"], event: APIGatewayProxyEvent, log: LogFields) {
  const principal = callerOf(event, log);
  return openModel(registry, principal, {
    model: pathParam(event, "model"),
    selector: { kind: "default" },
    routingKey: routingKeyOf(event, principal),
  });
}

/**
 * The invoke function: KServe v2 and raw inference routes, model metadata and readiness, and
 * the caller's model list. Built by each host's composition root; no side effects here.
 */
export function createInvokeHandler(wiring: InvokeDeps) {
  const deps: InvokeDeps = { onRejectedTokens: warnRejectedTokens, ...wiring };
  /** Runs an inference and shapes the answer; failures keep the version headers when a model was chosen. */
  async function infer(
    event: APIGatewayProxyEvent,
    log: LogFields,
    req: Omit<InferenceRequest, "requestId" | "receivedAt" | "principal" | "routingKey">,
  ) {
    const requestId = requestIdOf(event);
    const principal = callerOf(event, log);
    log.keyId = principal.keyId;
    log.model = req.model;
    const receivedAt = event.requestContext.requestTimeEpoch ?? Date.now();
    const publish = requestMetrics(deps.metrics, { tenantId: principal.tenantId, keyId: principal.keyId, requestId, receivedAt });
    try {
      const out = await runInference(deps, {
        ...req,
        requestId,
        receivedAt,
        principal,
        routingKey: routingKeyOf(event, principal),
      });
      log.version = out.version;
      if (out.fallbackFrom !== undefined) log.fallbackFrom = out.fallbackFrom;
      publish(out.model, out.version, 200, out);
      return bytes(200, out.body, out.contentType, {
        ...out.headers,
        "x-request-id": requestId,
        ...versionHeaders(out.model, out.version, out.alias, out.fallbackFrom),
      });
    } catch (err) {
      if (!(err instanceof InferenceFailedError)) throw err;
      log.version = err.version;
      const res = toErrorResponse(err.error, requestId);
      publish(err.model, err.version, res.statusCode, undefined, err.error);
      return { ...res, headers: { ...err.headers, ...res.headers, ...versionHeaders(err.model, err.version, err.alias) } };
    }
  }

  function kserveInfer(selectorOf: (e: APIGatewayProxyEvent) => VersionSelector) {
    return (event: APIGatewayProxyEvent, log: LogFields) => {
      const { json: parsed, bytes } = jsonBody(event, deps.maxBodyBytes);
      return infer(event, log, {
        model: pathParam(event, "model"),
        selector: selectorOf(event),
        protocol: "kserve",
        json: parsed,
        body: bytes,
        contentType: "application/json",
      });
    };
  }

  /** KServe v2 model metadata, from the registry (the version the default alias serves this key). */
  async function metadata(event: APIGatewayProxyEvent, log: LogFields): Promise<APIGatewayProxyResult> {
    const { model, resolution } = await openDefault(deps.registry, event, log);
    const { version, alias } = resolution;
    const versions = [...model.versions.values()].filter((v) => v.status !== "retired").map((v) => String(v.version));
    return json(
      200,
      {
        name: model.model,
        versions,
        platform: version.runtime === "onnx" ? "onnxruntime_onnx" : version.runtime,
        inputs: version.inputs ?? [],
        outputs: version.outputs ?? [],
        ...(model.description ? { parameters: { description: model.description } } : {}),
      },
      requestIdOf(event),
      versionHeaders(model.model, version.version, alias),
    );
  }

  async function modelReady(event: APIGatewayProxyEvent, log: LogFields): Promise<APIGatewayProxyResult> {
    const { model, resolution } = await openDefault(deps.registry, event, log);
    const ready = resolution.version.status === "ready";
    return json(ready ? 200 : 503, { name: model.model, ready }, requestIdOf(event), ready ? {} : { "retry-after": "5" });
  }

  async function grantedModels(event: APIGatewayProxyEvent, log: LogFields): Promise<APIGatewayProxyResult> {
    const principal = callerOf(event, log);
    const names = (await deps.registry.listModels()).filter((m) => isGranted(principal, m));
    // OpenAI's list shape, so the openai SDKs' `models.list()` works; modelgate's fields ride along.
    const data = await Promise.all(
      names.map(async (name) => {
        const m = await deps.registry.getModel(name);
        const firstVersion = m ? Math.min(...[...m.versions.values()].map((v) => Date.parse(v.createdAt) || Number.POSITIVE_INFINITY)) : 0;
        return {
          id: name,
          object: "model",
          created: Number.isFinite(firstVersion) ? Math.floor(firstVersion / 1000) : 0,
          owned_by: "modelgate",
          description: m?.description,
          defaultAlias: m?.defaultAlias,
          aliases: m ? [...m.aliases.keys()].sort() : [],
        };
      }),
    );
    return json(200, { object: "list", data }, requestIdOf(event));
  }

  return httpHandler<"invoke">({
    "GET /v2/health/ready": async (event) => json(200, { ready: true }, requestIdOf(event)),
    "GET /v2/models/{model}": metadata,
    "GET /v2/models/{model}/ready": modelReady,
    "POST /v2/models/{model}/infer": kserveInfer(() => ({ kind: "default" })),
    "POST /v2/models/{model}/versions/{version}/infer": kserveInfer((e) => parseVersionOrAlias(pathParam(e, "version"))),
    "POST /v1/models/{model}/invoke": (event, log) => {
      const contentType = header(event, "content-type") ?? "application/octet-stream";
      const accept = header(event, "accept");
      return infer(event, log, {
        model: pathParam(event, "model"),
        selector: rawSelector(event),
        protocol: "raw",
        body: bodyBytes(event, deps.maxBodyBytes),
        contentType,
        ...(accept ? { accept } : {}),
      });
    },
    "GET /v1/models": grantedModels,
  });
}
