import type { InvokeRequest, InvokeResponse, ModelInvoker } from "../../../functions/core/ports";
import type { ShadowDispatcher, ShadowRequest } from "../../../functions/core/shadow";

const encoder = new TextEncoder();

/** What the LLM endpoint generates, whatever it is asked: two pieces of text. */
export const COMPLETION = ["Once upon", " a time"];
/** The usage the LLM endpoint reports. */
export const COMPLETION_USAGE = { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 };

/**
 * A model endpoint that answers like a KServe v2 server: JSON inference requests get one
 * output per input (its data doubled), anything else is echoed back with its content type.
 * OpenAI bodies (`messages` or `prompt`) are answered like an LMI (vLLM) container: one chat
 * completion, or with `invokeStream` SSE lines cut at arbitrary places, as SageMaker's parts are.
 * `failing` maps a variant name, or for a version placed on a pool its inference component's
 * name, to the error (one of the core's ApiErrors) its calls throw.
 * `usage` is the usage object the LLM answers report, and KServe answers' `parameters.usage`
 * when `kserveUsage` is set (a container may report anything there).
 */
export class MemoryModelEndpoint implements ModelInvoker {
  readonly calls: InvokeRequest[] = [];
  readonly failing = new Map<string, Error>();
  usage: unknown = COMPLETION_USAGE;
  kserveUsage: unknown;

  async invoke(req: InvokeRequest): Promise<InvokeResponse> {
    this.calls.push(req);
    const failure = this.failing.get(req.inferenceComponentName ?? req.variantName);
    if (failure) throw failure;
    if (!/json/i.test(req.contentType)) return { body: req.body, contentType: req.contentType, invokedVariant: req.variantName };
    if (req.route === "/v1/embeddings") return { body: encoder.encode(JSON.stringify(embeddings(req))), contentType: "application/json" };
    const openai = openAIRequest(req);
    if (openai)
      return {
        body: encoder.encode(JSON.stringify(completion(openai.model, req.variantName, this.usage))),
        contentType: "application/json",
      };
    const request = JSON.parse(new TextDecoder().decode(req.body)) as {
      id?: string;
      inputs: { name: string; shape: number[]; datatype: string; data: number[] }[];
    };
    const answer = {
      model_name: req.endpointName,
      model_version: req.variantName,
      ...(request.id ? { id: request.id } : {}),
      outputs: request.inputs.map((i) => ({
        name: `${i.name}_out`,
        shape: i.shape,
        datatype: i.datatype,
        data: i.data.flat(4).map((d) => d * 2),
      })),
      ...(this.kserveUsage !== undefined ? { parameters: { usage: this.kserveUsage } } : {}),
    };
    return { body: encoder.encode(JSON.stringify(answer)), contentType: "application/json", invokedVariant: req.variantName };
  }

  async invokeStream(req: InvokeRequest): Promise<AsyncIterable<Uint8Array>> {
    this.calls.push(req);
    const failure = this.failing.get(req.inferenceComponentName ?? req.variantName);
    if (failure) throw failure;
    const chunks = [
      ...COMPLETION.map((content) => ({ object: "chat.completion.chunk", choices: [{ index: 0, delta: { content } }] })),
      { object: "chat.completion.chunk", choices: [], usage: this.usage },
    ];
    const text = `${chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join("")}data: [DONE]\n\n`;
    const bytes = encoder.encode(text);
    return (async function* () {
      for (let at = 0; at < bytes.length; at += 7) yield bytes.subarray(at, at + 7);
    })();
  }
}

function openAIRequest(req: InvokeRequest): { model: string } | undefined {
  if (!/json/i.test(req.contentType)) return undefined;
  const body = JSON.parse(new TextDecoder().decode(req.body)) as Record<string, unknown>;
  return "messages" in body || "prompt" in body ? { model: String(body.model) } : undefined;
}

/**
 * What the embedding endpoint answers, like vLLM's /v1/embeddings: per input a unit vector of
 * EMBEDDING_DIMENSIONS whose components fall off (3, 2, 1, 1 before normalising, the input's
 * index added to the first); one prompt token per whitespace-separated word, or per token id.
 */
export const EMBEDDING_DIMENSIONS = 4;
function embeddings(req: InvokeRequest) {
  const body = JSON.parse(new TextDecoder().decode(req.body)) as { model: string; input: string | string[] | number[] | number[][] };
  const inputs: (string | number[])[] =
    typeof body.input === "string"
      ? [body.input]
      : typeof body.input[0] === "number"
        ? [body.input as number[]]
        : (body.input as (string | number[])[]);
  const tokens = inputs.reduce((n, i) => n + (typeof i === "string" ? i.split(/\s+/).filter(Boolean).length : i.length), 0);
  return {
    object: "list",
    model: body.model,
    data: inputs.map((_, index) => {
      const raw = [3 + index, 2, 1, 1];
      const norm = Math.hypot(...raw);
      return { object: "embedding", index, embedding: raw.map((x) => x / norm) };
    }),
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

function completion(model: string, variant: string, usage: unknown) {
  return {
    id: `cmpl-${variant}`,
    object: "chat.completion",
    model,
    choices: [{ index: 0, message: { role: "assistant", content: COMPLETION.join("") }, finish_reason: "stop" }],
    usage,
  };
}

/** Keeps handed-off shadow copies, so a test can run them through the shadow handler. */
export class RecordingShadowDispatcher implements ShadowDispatcher {
  readonly dispatched: ShadowRequest[] = [];

  async dispatch(req: ShadowRequest) {
    this.dispatched.push(req);
  }
}
