import type { z } from "zod";
import type { UpstreamRoute } from "../../contract/upstream-route";
import {
  embeddingsBody,
  embeddingsResponse,
  embeddingTokenReservation,
  inputCount,
  normalizeInput,
  outputDimensions,
  requireEmbeddingModel,
  requireGenerativeModel,
  upstreamEmbeddingsBody,
} from "../embeddings";
import { type InferenceDeps, InferenceFailedError, runInference } from "../inference";
import { lookupGrantedModel } from "../model-access";
import {
  type ChatCompletionBody,
  type CompletionBody,
  chatCompletionBody,
  completionBody,
  type OpenAIBody,
  openAIError,
  parseModelRef,
  tokenReservation,
  upstreamBody,
  withClientModel,
} from "../openai";
import type { Principal } from "../principal";

/** One line to run, as the worker hands it to its endpoint. */
export interface LineCall {
  /** The line's request id (ids.ts `lineRequestId`): its usage record's key. */
  readonly requestId: string;
  /** When the line was first started: its usage record's time, the same on every run of it. */
  readonly receivedAt: number;
  readonly principal: Principal;
  readonly body: Readonly<Record<string, unknown>>;
}

/** What a line came to: OpenAI's `response {status_code, body}`. */
export interface LineAnswer {
  readonly statusCode: number;
  readonly body: unknown;
}

/** What the batch worker needs of an endpoint: the check of a body at validation, and the call. */
export interface BatchEndpoint {
  readonly checkBody: (body: unknown) => string | undefined;
  readonly run: (deps: InferenceDeps, call: LineCall) => Promise<LineAnswer>;
}

/**
 * The endpoints a batch may name, each the same inference path as its interactive route (grant,
 * alias and version, limits and budgets, one usage record), here of kind `batch`. One entry per
 * endpoint: `/v1/embeddings` joins with its route.
 */
export const BATCH_ENDPOINTS: Readonly<Record<string, BatchEndpoint>> = {
  "/v1/chat/completions": openAIEndpoint(chatCompletionBody, "/v1/chat/completions"),
  "/v1/completions": openAIEndpoint(completionBody, "/v1/completions"),
  "/v1/embeddings": embeddingsEndpoint(),
};

/** A body's first schema issue, as a validation error names it. */
function firstIssue(r: { success: true } | { success: false; error: z.ZodError }): string | undefined {
  if (r.success) return undefined;
  const issue = r.error.issues[0];
  return `${issue?.path.length ? `${issue.path.join(".")}: ` : ""}${issue?.message ?? "invalid request"}`;
}

/**
 * One line through the inference path, as its interactive route sends it, metered as `batch`.
 * Weighted aliases route a batch's lines as they would its key's interactive requests.
 */
function runLine(
  deps: InferenceDeps,
  call: LineCall,
  line: {
    readonly model: string;
    readonly selector: ReturnType<typeof parseModelRef>["selector"];
    readonly route: UpstreamRoute;
    readonly json: unknown;
    readonly upstream: unknown;
    readonly tokenReservation: number;
  },
) {
  return runInference(deps, {
    requestId: call.requestId,
    receivedAt: call.receivedAt,
    principal: call.principal,
    model: line.model,
    selector: line.selector,
    routingKey: call.principal.keyId,
    protocol: "openai",
    route: line.route,
    json: line.json,
    body: Buffer.from(JSON.stringify(line.upstream), "utf8"),
    contentType: "application/json",
    tokenReservation: line.tokenReservation,
    kind: "batch",
  });
}

/** A line's failure as OpenAI's error answer (the model's status and body, or the refusal's). */
function failedLine(err: unknown, requestId: string): LineAnswer {
  const e = openAIError(err instanceof InferenceFailedError ? err.error : err, requestId);
  return { statusCode: e.status, body: e.body };
}

export const batchEndpointNames = (): string[] => Object.keys(BATCH_ENDPOINTS);

function openAIEndpoint(schema: z.ZodType<ChatCompletionBody> | z.ZodType<CompletionBody>, route: UpstreamRoute): BatchEndpoint {
  return {
    checkBody: (body) => firstIssue(schema.safeParse(body)),
    run: async (deps, call) => {
      try {
        const body: OpenAIBody = schema.parse(call.body);
        const { model, selector } = parseModelRef(body.model);
        const cap = await lookupGrantedModel(deps.registry, call.principal, model);
        requireGenerativeModel(model, cap.embedding);
        const out = await runLine(deps, call, {
          model,
          selector,
          route,
          json: body,
          upstream: upstreamBody({ ...body, stream: false }, model, cap),
          tokenReservation: tokenReservation(body, cap),
        });
        return { statusCode: 200, body: JSON.parse(withClientModel(out.body, body.model)) as unknown };
      } catch (err) {
        return failedLine(err, call.requestId);
      }
    },
  };
}

/** `/v1/embeddings` lines: the interactive route's checks and answer (core/embeddings.ts), metered as batch. */
function embeddingsEndpoint(): BatchEndpoint {
  return {
    checkBody: (body) => firstIssue(embeddingsBody.safeParse(body)),
    run: async (deps, call) => {
      try {
        const body = embeddingsBody.parse(call.body);
        const { model, selector } = parseModelRef(body.model);
        const cap = await lookupGrantedModel(deps.registry, call.principal, model);
        const dimensions = outputDimensions(model, requireEmbeddingModel(model, cap.embedding), body.dimensions);
        const inputs = normalizeInput(body.input);
        const out = await runLine(deps, call, {
          model,
          selector,
          route: "/v1/embeddings",
          json: body,
          upstream: upstreamEmbeddingsBody(body, model),
          tokenReservation: embeddingTokenReservation(inputs),
        });
        const answer = embeddingsResponse(out.body, {
          clientModel: body.model,
          inputs: inputCount(inputs),
          dimensions,
          encodingFormat: body.encoding_format ?? "float",
        });
        return { statusCode: 200, body: JSON.parse(answer) as unknown };
      } catch (err) {
        return failedLine(err, call.requestId);
      }
    },
  };
}
