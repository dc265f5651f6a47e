import { z } from "zod";
import { DEFAULT_MAX_TOKENS_PER_REQUEST } from "./admission";
import { ApiError, BadRequestError, BudgetExceededError, type HttpResponse, InternalError, toErrorResponse } from "./errors";
import { parseVersionOrAlias, type VersionSelector } from "./routing";

/**
 * The OpenAI API as modelgate serves it to clients (`POST /v1/chat/completions`,
 * `POST /v1/completions`), checked here before anything is charged. Upstream, the same bodies
 * go to the SageMaker LMI (vLLM) container's `/invocations`. Unknown fields pass through:
 * engines accept more than this list (`frequency_penalty`, `logit_bias`, …).
 */

const stop = z.union([z.string().min(1).max(200), z.array(z.string().min(1).max(200)).min(1).max(4)]);
const common = {
  model: z.string().min(1).max(100),
  max_tokens: z.number().int().min(1).max(1_000_000).optional(),
  max_completion_tokens: z.number().int().min(1).max(1_000_000).optional(),
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().gt(0).max(1).optional(),
  seed: z.number().int().optional(),
  stop: stop.optional(),
  n: z.literal(1, { message: "only n = 1 is supported" }).optional(),
  stream: z.boolean().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  user: z.string().max(256).optional(),
};
const textPart = z.looseObject({ type: z.literal("text"), text: z.string() });
const message = z.looseObject({
  role: z.enum(["system", "user", "assistant", "developer", "tool"]),
  content: z.union([z.string(), z.array(textPart).min(1)]).nullable(),
});

export const chatCompletionBody = z.looseObject({ ...common, messages: z.array(message).min(1).max(1000) });
export const completionBody = z.looseObject({ ...common, prompt: z.union([z.string(), z.array(z.string()).length(1)]) });

export type ChatCompletionBody = z.output<typeof chatCompletionBody>;
export type CompletionBody = z.output<typeof completionBody>;
export type OpenAIBody = ChatCompletionBody | CompletionBody;

/**
 * `model` names the model and optionally an alias or version: `tinylm` (its default alias),
 * `tinylm:staging`, `tinylm:3`.
 */
export function parseModelRef(ref: string): { readonly model: string; readonly selector: VersionSelector } {
  const at = ref.indexOf(":");
  if (at < 0) return { model: ref, selector: { kind: "default" } };
  const model = ref.slice(0, at);
  const rest = ref.slice(at + 1);
  if (!model || !rest) throw new BadRequestError(`model: '${ref}' is not 'name', 'name:alias' or 'name:version'`);
  return { model, selector: parseVersionOrAlias(rest) };
}

/** The model's own cap for requests that name none (`maxTokensPerRequest`); see `tokenReservationOf`. */
export interface ModelTokenCap {
  readonly maxTokensPerRequest?: number | undefined;
}

/** The completion tokens a request may generate: its own maximum, else its model's cap, if any. */
export function maxCompletionTokens(body: OpenAIBody, model: ModelTokenCap): number | undefined {
  return body.max_completion_tokens ?? body.max_tokens ?? model.maxTokensPerRequest;
}

/**
 * Tokens to reserve against a token quota before the call: an upper bound of the prompt's
 * tokens (its UTF-8 bytes: a byte-level or word-level tokenizer never makes more tokens than
 * bytes) plus the most the model may generate (the platform's LLM default when neither the
 * request nor the model names a maximum). Settled to the engine's counts afterwards.
 */
export function tokenReservation(body: OpenAIBody, model: ModelTokenCap): number {
  return Buffer.byteLength(promptText(body), "utf8") + (maxCompletionTokens(body, model) ?? DEFAULT_MAX_TOKENS_PER_REQUEST);
}

function promptText(body: OpenAIBody): string {
  if (!("messages" in body)) {
    const { prompt } = body as CompletionBody;
    return Array.isArray(prompt) ? prompt.join("") : prompt;
  }
  return (body as ChatCompletionBody).messages
    .map((m) => (typeof m.content === "string" ? m.content : (m.content ?? []).map((p) => String(p.text)).join("")))
    .join("\n");
}

/**
 * The body the container gets: the client's, with the registry's model name, the completion
 * maximum made explicit where the request or the model names one (so the reservation bounds
 * what is generated; otherwise the engine's own limit applies and settling corrects), and usage always
 * requested on streams, since the engine's own counts are what is billed.
 */
export function upstreamBody(body: OpenAIBody, model: string, cap: ModelTokenCap): Record<string, unknown> {
  const { max_completion_tokens: _omit, ...rest } = body;
  const maxTokens = maxCompletionTokens(body, cap);
  return {
    ...rest,
    model,
    ...(maxTokens !== undefined ? { max_tokens: maxTokens } : {}),
    ...(body.stream ? { stream_options: { ...body.stream_options, include_usage: true } } : {}),
  };
}

/** Whether the client itself asked for the usage chunk at the end of a stream. */
export function clientWantsUsage(body: OpenAIBody): boolean {
  return body.stream_options?.include_usage === true;
}

/** OpenAI's error `type` for each status, so its SDKs raise their typed errors. */
function openAIType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "api_error";
  return "invalid_request_error";
}

/**
 * `{"error":{"message","type","param","code","request_id"}}`: OpenAI's shape with modelgate's
 * request id. A spent budget is OpenAI's own 429 `insufficient_quota` (type and code), which
 * its SDKs raise as a RateLimitError whose code says that retrying soon will not help.
 */
export function openAIError(err: unknown, requestId: string): { readonly status: number; readonly body: unknown } {
  const e = err instanceof ApiError ? err : new InternalError("internal error");
  const [type, code] = e instanceof BudgetExceededError ? ["insufficient_quota", "insufficient_quota"] : [openAIType(e.status), e.type];
  return { status: e.status, body: { error: { message: e.message, type, param: null, code, request_id: requestId } } };
}

/** The same status and headers as every other route, with the OpenAI error body. */
export function toOpenAIErrorResponse(err: unknown, requestId: string): HttpResponse {
  const res = toErrorResponse(err, requestId);
  return { ...res, body: JSON.stringify(openAIError(err, requestId).body) };
}

/** The engine's answer with the model named as the client named it (`tinylm:staging`, not the engine's path). */
export function withClientModel(body: Uint8Array, clientModel: string): string {
  const text = Buffer.from(body).toString("utf8");
  try {
    const parsed = JSON.parse(text) as unknown;
    return typeof parsed === "object" && parsed !== null ? JSON.stringify({ ...parsed, model: clientModel }) : text;
  } catch {
    return text;
  }
}
