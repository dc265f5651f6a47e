import { routeFromAttributes } from "../../../../functions/contract/upstream-route";
import type { LocalHttpReply, LocalHttpRequest } from "../../in-process-http";
import { RequestError } from "../errors";
import { listenOpenAIHost } from "../openai-host";
import { sendJson } from "../respond";
import { DEFAULT_MAX_BODY_BYTES, type ModelHostListenOptions } from "../server";
import { type EmbedConfig, EmbedEngine } from "./engine";

export interface EmbeddingModelHostOptions extends ModelHostListenOptions {
  /** A Hugging Face style directory: config.json (`task: "embedding"`), tokenizer.json, tokenizer_config.json, model.onnx. */
  modelDir: string;
}

export interface EmbeddingModelHost {
  readonly url: string;
  readonly port: number;
  readonly config: EmbedConfig;
  close(): Promise<void>;
}

/**
 * A local stand-in for a container serving an embedding model with vLLM's OpenAI surface:
 * GET /ping, POST /invocations (SageMaker's path; the route, when the caller names one in
 * X-Amzn-SageMaker-Custom-Attributes, must be /v1/embeddings) and POST /v1/embeddings, so it
 * also serves as "any OpenAI-compatible server" in tests. Inputs are OpenAI's: a string, strings,
 * a token array or token arrays; `usage.prompt_tokens` is what the model's tokenizer made.
 * Vectors are always floats: encoding and `dimensions` are the gateway's (functions/core/embeddings.ts).
 */
export async function startEmbeddingModelHost(opts: EmbeddingModelHostOptions): Promise<EmbeddingModelHost> {
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const engine = await EmbedEngine.load(opts.modelDir, opts.intraOpNumThreads ?? 1);

  async function handle(req: LocalHttpRequest, res: LocalHttpReply, path: string): Promise<void> {
    if (path !== "/invocations" && path !== "/v1/embeddings") throw new RequestError(404, `no route ${req.method} ${path}`);
    if (req.method !== "POST") throw new RequestError(405, `use POST ${path}`);
    const attributes = req.headers["x-amzn-sagemaker-custom-attributes"];
    const route = routeFromAttributes(typeof attributes === "string" ? attributes : undefined);
    if (path === "/invocations" && route !== undefined && route !== "/v1/embeddings") {
      throw new RequestError(400, `this model serves embeddings only, not ${route}`);
    }
    const body = await req.body(maxBodyBytes, () => new RequestError(413, `request body exceeds the limit of ${maxBodyBytes} bytes`));
    const { model, inputs } = parseEmbeddingsRequest(body.toString("utf8"));
    const sequences = inputs.map((i) => (typeof i === "string" ? engine.encode(i) : i));
    for (const ids of sequences) checkSequence(ids, engine.config);
    const data: { object: "embedding"; index: number; embedding: number[] }[] = [];
    for (const [index, ids] of sequences.entries()) data.push({ object: "embedding", index, embedding: await engine.embed(ids) });
    const promptTokens = sequences.reduce((n, ids) => n + ids.length, 0);
    sendJson(res, 200, {
      object: "list",
      data,
      model: model ?? opts.modelName,
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    });
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

/** OpenAI's embeddings body as an engine checks it: every mistake a 400 naming the field. */
export function parseEmbeddingsRequest(text: string): { model: string | undefined; inputs: (string | number[])[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new RequestError(400, `request body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new RequestError(400, "request body must be a JSON object");
  const b = parsed as Record<string, unknown>;
  if (b.encoding_format !== undefined && b.encoding_format !== "float")
    throw new RequestError(400, "encoding_format: only 'float' is served");
  if (b.dimensions !== undefined) throw new RequestError(400, "dimensions: this model does not shorten embeddings");
  const isIds = (x: unknown): x is number[] => Array.isArray(x) && x.length > 0 && x.every((i) => Number.isInteger(i) && i >= 0);
  const { input } = b;
  let inputs: (string | number[])[];
  if (typeof input === "string") inputs = [input];
  else if (isIds(input)) inputs = [input];
  else if (Array.isArray(input) && input.length > 0 && input.every((i) => typeof i === "string")) inputs = input as string[];
  else if (Array.isArray(input) && input.length > 0 && input.every(isIds)) inputs = input;
  else throw new RequestError(400, "input: a string, an array of strings, a token array or an array of token arrays");
  if (inputs.some((i) => i.length === 0)) throw new RequestError(400, "input: must not be empty");
  return { model: typeof b.model === "string" ? b.model : undefined, inputs };
}

function checkSequence(ids: readonly number[], config: EmbedConfig): void {
  if (ids.length > config.maxSequenceLength) {
    throw new RequestError(400, `This model's maximum input length is ${config.maxSequenceLength} tokens; an input has ${ids.length}.`);
  }
  const bad = ids.find((id) => id >= config.vocabSize);
  if (bad !== undefined) throw new RequestError(400, `input: token id ${bad} is outside the vocabulary (${config.vocabSize})`);
}
