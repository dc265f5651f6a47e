import type { APIGatewayProxyEvent } from "aws-lambda";
import type { z } from "zod";
import type { UpstreamRoute } from "../contract/upstream-route";
import { requireGenerativeModel } from "../core/embeddings";
import { type InferenceDeps, InferenceFailedError, type InferenceRequest, runInference } from "../core/inference";
import { lookupGrantedModel } from "../core/model-access";
import {
  type ChatCompletionBody,
  type CompletionBody,
  chatCompletionBody,
  clientWantsUsage,
  completionBody,
  type OpenAIBody,
  openAIError,
  parseModelRef,
  tokenReservation,
  toOpenAIErrorResponse,
  upstreamBody,
  withClientModel,
} from "../core/openai";
import { runStreamingInference } from "../core/streaming-inference";
import { jsonBody } from "../http/event";
import type { LogFields } from "../http/handler";
import { warnRejectedTokens } from "../http/logger";
import { type InferenceMetricsPublisher, requestMetrics } from "../http/metrics";
import { versionHeaders } from "../http/model-headers";
import { parseWith } from "../http/respond";
import { type HttpStream, type StreamingLambdaHandler, streamingHttpHandler } from "../http/streaming-handler";
import { embeddingsRoute } from "./embeddings";
import { openAICall, openAIInferenceHead } from "./openai-call";

/** What the LLM function needs: the inference path's ports and its own bounds. */
export interface LlmDeps extends InferenceDeps {
  readonly maxBodyBytes: number;
  /** How long one streamed generation may run (the cloud's integration allows 15 minutes). */
  readonly streamTimeoutMs: number;
  readonly metrics?: InferenceMetricsPublisher;
}

const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" };

/**
 * The OpenAI-compatible routes for large language models and embedding models, one streaming
 * function for all of them (embeddings: functions/llm/embeddings.ts). For chat and completions:
 * a request with `"stream": true` is answered as Server-Sent Events chunk by chunk, any other
 * as one JSON document. Errors use OpenAI's shape, so the `openai` SDKs raise their typed errors.
 */
export function createLlmHandler(wiring: LlmDeps): StreamingLambdaHandler {
  const deps: LlmDeps = { onRejectedTokens: warnRejectedTokens, ...wiring };
  const complete =
    (schema: z.ZodType<ChatCompletionBody> | z.ZodType<CompletionBody>, route: UpstreamRoute) =>
    async (event: APIGatewayProxyEvent, res: HttpStream, log: LogFields) => {
      const call = openAICall(event, log);
      const { requestId, receivedAt, principal } = call;
      const body: OpenAIBody = parseWith(schema, jsonBody(event, deps.maxBodyBytes).json);
      const ref = parseModelRef(body.model);
      const { model } = ref;
      log.model = model;
      // The model's token cap shapes the engine's body; the inference path checks the grant again (cached).
      const cap = await lookupGrantedModel(deps.registry, principal, model);
      requireGenerativeModel(model, cap.embedding);
      const req: InferenceRequest = {
        ...openAIInferenceHead(event, call, ref, route, body),
        body: encode(upstreamBody(body, model, cap)),
        tokenReservation: tokenReservation(body, cap),
        // A shadow copy is answered in one piece: nobody reads its stream.
        ...(body.stream ? { shadowBody: () => encode(upstreamBody({ ...body, stream: false }, model, cap)) } : {}),
      };
      const metrics = requestMetrics(deps.metrics, { tenantId: principal.tenantId, keyId: principal.keyId, requestId, receivedAt });
      const publish = (version: number, status: number, metered?: Parameters<typeof metrics>[3], failure?: unknown) =>
        metrics(model, version, status, metered, failure);
      try {
        if (!body.stream) {
          const out = await runInference(deps, req);
          log.version = out.version;
          publish(out.version, 200, out);
          res.start(200, {
            "content-type": "application/json",
            "x-request-id": requestId,
            ...out.headers,
            ...versionHeaders(model, out.version, out.alias, out.fallbackFrom),
          });
          res.write(withClientModel(out.body, body.model));
          return;
        }
        let version = 0;
        const outcome = await runStreamingInference(
          deps,
          {
            ...req,
            clientModel: body.model,
            includeUsage: clientWantsUsage(body),
            streamTimeoutMs: deps.streamTimeoutMs,
            timeoutMs: deps.streamTimeoutMs,
          },
          {
            start: (a) => {
              version = a.version;
              log.version = a.version;
              res.start(200, {
                ...SSE_HEADERS,
                "x-request-id": requestId,
                ...a.headers,
                ...versionHeaders(model, a.version, a.alias, a.fallbackFrom),
              });
            },
            events: (data) => res.write(data.length === 1 ? `data: ${data[0]}\n\n` : data.map((d) => `data: ${d}\n\n`).join("")),
          },
        );
        publish(version, outcome.status, outcome);
        if (!outcome.recorded) log.unrecorded = "usage record not written; reconciliation will report it";
        if (outcome.status === 200) res.write("data: [DONE]\n\n");
      } catch (err) {
        if (err instanceof InferenceFailedError) {
          log.version = err.version;
          publish(err.version, toOpenAIErrorResponse(err.error, requestId).statusCode, undefined, err.error);
        }
        throw err;
      }
    };

  return streamingHttpHandler<"llm">(
    {
      "POST /v1/chat/completions": complete(chatCompletionBody, "/v1/chat/completions"),
      "POST /v1/completions": complete(completionBody, "/v1/completions"),
      "POST /v1/embeddings": embeddingsRoute(deps),
    },
    {
      response: (err, requestId) => {
        if (!(err instanceof InferenceFailedError)) return toOpenAIErrorResponse(err, requestId);
        const res = toOpenAIErrorResponse(err.error, requestId);
        return { ...res, headers: { ...err.headers, ...res.headers, ...versionHeaders(err.model, err.version, err.alias) } };
      },
      midStream: (err, requestId) => `data: ${JSON.stringify(openAIError(err, requestId).body)}\n\n`,
    },
  );
}

function encode(body: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(body), "utf8");
}
