import { randomUUID } from "node:crypto";
import { routeFromAttributes } from "../../../../functions/contract/upstream-route";
import type { LocalHttpReply, LocalHttpRequest } from "../../in-process-http";
import { RequestError } from "../errors";
import { listenOpenAIHost, openAIErrorBody } from "../openai-host";
import { sendJson } from "../respond";
import { DEFAULT_MAX_BODY_BYTES, type ModelHostListenOptions } from "../server";
import { type LmConfig, LmEngine } from "./engine";
import { type GenerationRequest, generate } from "./generate";
import { type LlmRequest, parseLlmRequest } from "./openai-request";
import { ChunkWriter, chatCompletion, type ResponseIdentity, textCompletion, usage } from "./openai-response";

export interface LlmModelHostOptions extends ModelHostListenOptions {
  /** A Hugging Face style directory: config.json, tokenizer.json, tokenizer_config.json, model.onnx. */
  modelDir: string;
  /** Sleep between generated tokens: a slow model, to prove streaming end to end. */
  tokenDelayMs?: number;
}

export interface LlmModelHost {
  readonly url: string;
  readonly port: number;
  readonly config: LmConfig;
  close(): Promise<void>;
}

const ROUTES: Readonly<Record<string, LlmRequest["kind"] | "by-body">> = {
  "/invocations": "by-body",
  "/v1/chat/completions": "chat",
  "/v1/completions": "completion",
};

/**
 * A local stand-in for the SageMaker LMI (vLLM) container serving an ONNX causal LM:
 * GET /ping, POST /invocations with an OpenAI chat-completions or completions body (told apart
 * by `messages`/`prompt`), and the same bodies on vLLM's own /v1/chat/completions and
 * /v1/completions, so it also serves as "any OpenAI-compatible server" in tests.
 *
 * Streaming (`"stream": true`) follows vLLM's OpenAI server, which the LMI container relays:
 * Server-Sent Events, each chunk one `data: {json}` line plus a blank line, ending with
 * `data: [DONE]`. Each piece of text is written as soon as it is generated; nothing buffers.
 */
export async function startLlmModelHost(opts: LlmModelHostOptions): Promise<LlmModelHost> {
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const engine = await LmEngine.load(opts.modelDir, opts.intraOpNumThreads ?? 1);

  async function handle(req: LocalHttpRequest, res: LocalHttpReply, path: string): Promise<void> {
    const route = ROUTES[path];
    if (!route) throw new RequestError(404, `no route ${req.method} ${path}`);
    if (req.method !== "POST") throw new RequestError(405, `use POST ${path}`);
    const body = await req.body(maxBodyBytes, () => new RequestError(413, `request body exceeds the limit of ${maxBodyBytes} bytes`));
    const request = parseLlmRequest(body.toString("utf8"), route === "by-body" ? routedKind(req) : route);
    const prompt = request.kind === "chat" ? engine.tokenizer.applyChatFormat(request.messages ?? []) : (request.prompt ?? "");
    const promptIds = engine.tokenizer.encode(prompt);
    const generation = toGeneration(request, promptIds);
    const who: ResponseIdentity = {
      id: `${request.kind === "chat" ? "chatcmpl" : "cmpl"}-${randomUUID().replaceAll("-", "")}`,
      created: Math.floor(Date.now() / 1000),
      model: request.model ?? opts.modelName,
    };
    if (request.stream) return stream(res, request, generation, who);
    const result = await generate(engine, generation, opts.tokenDelayMs ? { tokenDelayMs: opts.tokenDelayMs } : {});
    const u = usage(promptIds.length, result.completionTokens);
    sendJson(
      res,
      200,
      request.kind === "chat"
        ? chatCompletion(who, result.text, result.finishReason, u)
        : textCompletion(who, result.text, result.finishReason, u),
    );
  }

  /** Applies the model's defaults and its context budget (prompt + completion), as vLLM does. */
  function toGeneration(request: LlmRequest, promptIds: number[]): GenerationRequest {
    const limit = engine.config.maxSequenceLength;
    const budget = limit - promptIds.length;
    const maxTokens = request.maxTokens ?? Math.min(engine.defaults.maxNewTokens, budget);
    if (budget < 1 || maxTokens > budget) {
      throw new RequestError(
        400,
        `This model's maximum context length is ${limit} tokens. However, you requested ${promptIds.length + maxTokens} tokens (${promptIds.length} in the prompt, ${maxTokens} in the completion). Please reduce the length of the prompt or completion.`,
      );
    }
    return {
      promptIds,
      maxTokens,
      stop: request.stop,
      sampling: {
        temperature: request.temperature ?? engine.defaults.temperature,
        topP: request.topP ?? engine.defaults.topP,
        seed: request.seed,
      },
    };
  }

  async function stream(res: LocalHttpReply, request: LlmRequest, generation: GenerationRequest, who: ResponseIdentity) {
    const chunks = new ChunkWriter(request.kind, who, request.includeUsage);
    const abort = new AbortController();
    res.once("close", () => abort.abort());
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const send = (chunk: object | undefined) => (chunk ? writeEvent(res, `data: ${JSON.stringify(chunk)}\n\n`) : Promise.resolve());
    try {
      await send(chunks.opening());
      const result = await generate(engine, generation, {
        onText: (piece) => send(chunks.text(piece)),
        signal: abort.signal,
        ...(opts.tokenDelayMs ? { tokenDelayMs: opts.tokenDelayMs } : {}),
      });
      await send(chunks.finish(result.finishReason));
      await send(chunks.usage(usage(generation.promptIds.length, result.completionTokens)));
      res.end("data: [DONE]\n\n");
    } catch (err) {
      // Headers are sent: like vLLM, report the failure as one more event, then end the stream.
      if (!res.destroyed) res.end(`data: ${JSON.stringify(openAIErrorBody(500, (err as Error).message))}\n\ndata: [DONE]\n\n`);
    }
  }

  const listener = await listenOpenAIHost({ modelName: opts.modelName, host: opts.host, port: opts.port, handle });
  return {
    url: listener.url,
    port: listener.port,
    config: engine.config,
    async close() {
      await listener.close();
      await engine.release();
    },
  };
}

/** Resolves once the chunk is handed to the socket (waits for drain when the reader is slow). */
function writeEvent(res: LocalHttpReply, data: string): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    if (res.write(data)) resolve();
    else res.once("drain", resolve);
  });
}

/**
 * The kind /invocations serves when the caller named its route (X-Amzn-SageMaker-Custom-Attributes,
 * functions/contract/upstream-route.ts); undefined: told apart by the body, as LMI does.
 */
function routedKind(req: LocalHttpRequest): LlmRequest["kind"] | undefined {
  const attributes = req.headers["x-amzn-sagemaker-custom-attributes"];
  const route = routeFromAttributes(typeof attributes === "string" ? attributes : undefined);
  if (route === "/v1/embeddings") throw new RequestError(400, "this model does not serve embeddings");
  return route === "/v1/chat/completions" ? "chat" : route === "/v1/completions" ? "completion" : undefined;
}
