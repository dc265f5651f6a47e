import type { APIGatewayProxyEvent } from "aws-lambda";
import {
  embeddingsBody,
  embeddingsResponse,
  embeddingTokenReservation,
  inputCount,
  normalizeInput,
  outputDimensions,
  requireEmbeddingModel,
  upstreamEmbeddingsBody,
} from "../core/embeddings";
import { InferenceFailedError, runInference } from "../core/inference";
import { lookupGrantedModel } from "../core/model-access";
import { parseModelRef, toOpenAIErrorResponse } from "../core/openai";
import { requireScope } from "../core/principal";
import { jsonBody } from "../http/event";
import type { LogFields } from "../http/handler";
import { requestMetrics } from "../http/metrics";
import { versionHeaders } from "../http/model-headers";
import { parseWith } from "../http/respond";
import type { HttpStream, StreamingRoute } from "../http/streaming-handler";
import type { LlmDeps } from "./create-llm-handler";
import { openAICall, openAIInferenceHead } from "./openai-call";

/**
 * `POST /v1/embeddings`: parse, check the model is an embedding model and the `dimensions`
 * asked for, then the same inference path as every model route (grant, alias, limits with the
 * input tokens reserved, one usage record with the engine's count), and OpenAI's answer shaped
 * from the engine's (core/embeddings.ts). Never streamed: one JSON document.
 */
export function embeddingsRoute(deps: LlmDeps): StreamingRoute {
  return async (event: APIGatewayProxyEvent, res: HttpStream, log: LogFields) => {
    const call = openAICall(event, log);
    const { requestId, receivedAt, principal } = call;
    // A key without `invoke` learns nothing about models (the inference path checks it again).
    requireScope(principal, "invoke");
    const body = parseWith(embeddingsBody, jsonBody(event, deps.maxBodyBytes).json);
    const ref = parseModelRef(body.model);
    const { model } = ref;
    log.model = model;
    // Checked before anything is charged; the inference path checks the grant again (cached).
    const record = await lookupGrantedModel(deps.registry, principal, model);
    const dimensions = outputDimensions(model, requireEmbeddingModel(model, record.embedding), body.dimensions);
    const inputs = normalizeInput(body.input);
    const publish = requestMetrics(deps.metrics, { tenantId: principal.tenantId, keyId: principal.keyId, requestId, receivedAt });
    try {
      const out = await runInference(deps, {
        ...openAIInferenceHead(event, call, ref, "/v1/embeddings", body),
        body: Buffer.from(JSON.stringify(upstreamEmbeddingsBody(body, model)), "utf8"),
        tokenReservation: embeddingTokenReservation(inputs),
      });
      log.version = out.version;
      publish(model, out.version, 200, out);
      const answer = embeddingsResponse(out.body, {
        clientModel: body.model,
        inputs: inputCount(inputs),
        dimensions,
        encodingFormat: body.encoding_format ?? "float",
      });
      res.start(200, {
        "content-type": "application/json",
        "x-request-id": requestId,
        ...out.headers,
        ...versionHeaders(model, out.version, out.alias, out.fallbackFrom),
      });
      res.write(answer);
    } catch (err) {
      if (err instanceof InferenceFailedError) {
        log.version = err.version;
        publish(model, err.version, toOpenAIErrorResponse(err.error, requestId).statusCode, undefined, err.error);
      }
      throw err;
    }
  };
}
