import { randomInt } from "node:crypto";
import { RequestError } from "../errors";
import type { ChatMessage } from "./tokenizer";

/** An OpenAI chat-completions or completions body, validated; defaults not applied yet. */
export interface LlmRequest {
  readonly kind: "chat" | "completion";
  readonly model: string | undefined;
  /** Chat: the messages; completion: the prompt. */
  readonly messages?: readonly ChatMessage[];
  readonly prompt?: string;
  readonly maxTokens: number | undefined;
  readonly temperature: number | undefined;
  readonly topP: number | undefined;
  readonly seed: number;
  readonly stop: readonly string[];
  readonly stream: boolean;
  readonly includeUsage: boolean;
}

const ROLES = new Set(["system", "user", "assistant", "developer", "tool"]);

/**
 * Parses the body the SageMaker LMI (vLLM) container accepts on /invocations: `messages` makes
 * it a chat completion, `prompt` a completion (as LMI tells the two schemas apart). Every
 * client mistake is a RequestError(400) naming the field, the way vLLM answers a bad request.
 * `forced` pins the kind when the route already says it (/v1/chat/completions, /v1/completions).
 */
export function parseLlmRequest(body: string, forced?: LlmRequest["kind"]): LlmRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    throw new RequestError(400, `request body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new RequestError(400, "request body must be a JSON object");
  }
  const b = parsed as Record<string, unknown>;
  const kind = forced ?? (b.messages !== undefined ? "chat" : b.prompt !== undefined ? "completion" : undefined);
  if (!kind) throw new RequestError(400, "the body needs 'messages' (chat completion) or 'prompt' (completion)");
  const n = optionalNumber(b, "n", { min: 1, integer: true });
  if (n !== undefined && n !== 1) throw new RequestError(400, "'n' must be 1: this runtime returns one choice");
  const maxTokens =
    optionalNumber(b, "max_completion_tokens", { min: 1, integer: true }) ?? optionalNumber(b, "max_tokens", { min: 1, integer: true });
  const streamOptions = b.stream_options;
  if (streamOptions !== undefined && streamOptions !== null && (typeof streamOptions !== "object" || Array.isArray(streamOptions))) {
    throw new RequestError(400, "'stream_options' must be an object");
  }
  const includeUsage = (streamOptions as { include_usage?: unknown } | null | undefined)?.include_usage;
  if (includeUsage !== undefined && typeof includeUsage !== "boolean")
    throw new RequestError(400, "'stream_options.include_usage' must be a boolean");
  if (b.stream !== undefined && b.stream !== null && typeof b.stream !== "boolean")
    throw new RequestError(400, "'stream' must be a boolean");
  if (b.model !== undefined && typeof b.model !== "string") throw new RequestError(400, "'model' must be a string");
  return {
    kind,
    model: b.model as string | undefined,
    ...(kind === "chat" ? { messages: parseMessages(b.messages) } : { prompt: parsePrompt(b.prompt) }),
    maxTokens,
    temperature: optionalNumber(b, "temperature", { min: 0, max: 2 }),
    topP: optionalNumber(b, "top_p", { min: Number.MIN_VALUE, max: 1 }),
    seed: optionalNumber(b, "seed", { integer: true }) ?? randomInt(2 ** 32),
    stop: parseStop(b.stop),
    stream: b.stream === true,
    includeUsage: includeUsage === true,
  };
}

function parseMessages(value: unknown): ChatMessage[] {
  if (!Array.isArray(value) || value.length === 0) throw new RequestError(400, "'messages' must be a non-empty array of {role, content}");
  return value.map((m, i) => {
    if (typeof m !== "object" || m === null) throw new RequestError(400, `messages[${i}] must be an object`);
    const { role, content } = m as { role?: unknown; content?: unknown };
    if (typeof role !== "string" || !ROLES.has(role)) {
      throw new RequestError(400, `messages[${i}].role must be one of ${[...ROLES].join(", ")}`);
    }
    return { role, content: messageText(content, i) };
  });
}

/** `content` is a string or an array of parts; only text parts can be read by a text-only model. */
function messageText(content: unknown, i: number): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((part, j) => {
        const p = part as { type?: unknown; text?: unknown } | null;
        if (p?.type !== "text" || typeof p.text !== "string") {
          throw new RequestError(400, `messages[${i}].content[${j}] must be {"type":"text","text":...}; this model reads text only`);
        }
        return p.text;
      })
      .join("");
  }
  throw new RequestError(400, `messages[${i}].content must be a string or an array of text parts`);
}

function parsePrompt(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.length === 1 && typeof value[0] === "string") return value[0];
  throw new RequestError(400, "'prompt' must be a string (or an array holding one string)");
}

function parseStop(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const stops = typeof value === "string" ? [value] : value;
  if (!Array.isArray(stops) || stops.length > 4 || !stops.every((s) => typeof s === "string" && s.length > 0)) {
    throw new RequestError(400, "'stop' must be a non-empty string or an array of up to 4 of them");
  }
  return stops as string[];
}

function optionalNumber(
  body: Record<string, unknown>,
  name: string,
  rule: { min?: number; max?: number; integer?: boolean },
): number | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  const ok =
    typeof v === "number" &&
    Number.isFinite(v) &&
    (!rule.integer || Number.isSafeInteger(v)) &&
    (rule.min === undefined || v >= rule.min) &&
    (rule.max === undefined || v <= rule.max);
  if (!ok) {
    const range = [rule.min !== undefined && `>= ${rule.min}`, rule.max !== undefined && `<= ${rule.max}`].filter(Boolean).join(" and ");
    throw new RequestError(400, `'${name}' must be ${rule.integer ? "an integer" : "a number"}${range ? ` ${range}` : ""}`);
  }
  return v;
}
