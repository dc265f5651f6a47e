import { z } from "zod";
import { BadRequestError, ModelFailedError } from "./errors";
import type { EmbeddingSpec } from "./registry";

/**
 * OpenAI's embeddings API (`POST /v1/embeddings`) as modelgate serves it. The engine is always
 * asked for float vectors of full length; the gateway itself truncates (`dimensions`, for a
 * model that declares its vectors truncatable) and encodes (`encoding_format: "base64"`), so
 * every engine behaves alike and a float answer equals the base64 one bit for bit.
 */

/** OpenAI's own bounds: at most 2048 inputs per request, none empty. */
export const MAX_EMBEDDING_INPUTS = 2048;
const tokenId = z.number().int().min(0).max(2_147_483_647);

export const embeddingsBody = z.looseObject({
  model: z.string().min(1).max(100),
  input: z.union([
    z.string().min(1, "input must not be an empty string"),
    z.array(z.string().min(1, "input must not contain an empty string")).min(1).max(MAX_EMBEDDING_INPUTS),
    z.array(tokenId).min(1),
    z.array(z.array(tokenId).min(1)).min(1).max(MAX_EMBEDDING_INPUTS),
  ]),
  encoding_format: z.enum(["float", "base64"]).optional(),
  dimensions: z.number().int().min(1).max(65_536).optional(),
  user: z.string().max(256).optional(),
});
export type EmbeddingsBody = z.output<typeof embeddingsBody>;

/** The request's inputs, one entry per vector to return: texts, or token id arrays. */
export type EmbeddingInputs =
  | { readonly kind: "text"; readonly texts: readonly string[] }
  | { readonly kind: "tokens"; readonly tokens: readonly (readonly number[])[] };

/** `input` in its four shapes, as a list: a string or a token array is one input. */
export function normalizeInput(input: EmbeddingsBody["input"]): EmbeddingInputs {
  if (typeof input === "string") return { kind: "text", texts: [input] };
  const first = input[0];
  if (typeof first === "string") return { kind: "text", texts: input as string[] };
  if (typeof first === "number") return { kind: "tokens", tokens: [input as number[]] };
  return { kind: "tokens", tokens: input as number[][] };
}

export function inputCount(inputs: EmbeddingInputs): number {
  return inputs.kind === "text" ? inputs.texts.length : inputs.tokens.length;
}

/**
 * Tokens to reserve against a token quota: token arrays are counted exactly; a text is bounded
 * by its UTF-8 bytes (a byte-level or word-level tokenizer never makes more) plus two for the
 * special tokens an encoder may add ([CLS]/[SEP]). Settled to the engine's count afterwards.
 */
export function embeddingTokenReservation(inputs: EmbeddingInputs): number {
  if (inputs.kind === "tokens") return inputs.tokens.reduce((n, t) => n + t.length, 0);
  return inputs.texts.reduce((n, t) => n + Buffer.byteLength(t, "utf8") + 2, 0);
}

/** The model must be an embedding model; the chat and completion routes refuse one (`requireGenerativeModel`). */
export function requireEmbeddingModel(model: string, spec: EmbeddingSpec | undefined): EmbeddingSpec {
  if (!spec) throw new BadRequestError(`model '${model}' is not an embedding model; use /v1/chat/completions or /v1/completions`);
  return spec;
}

export function requireGenerativeModel(model: string, spec: EmbeddingSpec | undefined): void {
  if (spec) throw new BadRequestError(`model '${model}' is an embedding model; use /v1/embeddings`);
}

/**
 * The vector length to return: the model's, or the request's `dimensions` where the model
 * declares truncatable vectors. Checked before anything is charged.
 */
export function outputDimensions(model: string, spec: EmbeddingSpec, dimensions: number | undefined): number {
  if (dimensions === undefined || dimensions === spec.dimensions) return spec.dimensions;
  if (!spec.truncatable) throw new BadRequestError(`dimensions: model '${model}' does not support shortened embeddings`);
  if (dimensions > spec.dimensions) throw new BadRequestError(`dimensions: model '${model}' returns at most ${spec.dimensions}`);
  return dimensions;
}

/**
 * The body the engine gets: the client's, with the registry's model name, full-length float
 * vectors asked for, and the fields the gateway applies itself left out.
 */
export function upstreamEmbeddingsBody(body: EmbeddingsBody, model: string): Record<string, unknown> {
  const { dimensions: _dimensions, encoding_format: _format, ...rest } = body;
  return { ...rest, model, encoding_format: "float" };
}

/** The first `dimensions` components, scaled back to unit length (a zero vector stays zero). */
export function truncateAndNormalize(vector: readonly number[], dimensions: number): number[] {
  const head = vector.slice(0, dimensions);
  const norm = Math.hypot(...head);
  return norm > 0 ? head.map((x) => x / norm) : head;
}

/** OpenAI's base64 encoding: the vector's float32 values, little-endian, base64. */
export function encodeBase64(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  for (const [i, x] of vector.entries()) bytes.writeFloatLE(x, i * 4);
  return bytes.toString("base64");
}

export function decodeBase64(encoded: string): number[] {
  const bytes = Buffer.from(encoded, "base64");
  return Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
}

const engineAnswer = z.looseObject({
  data: z.array(z.looseObject({ index: z.number().int().min(0), embedding: z.array(z.number()) })),
  usage: z.looseObject({ prompt_tokens: z.number().int().min(0) }).optional(),
});

export interface EmbeddingsShape {
  /** The `model` the client named (`tinyembed:staging`), echoed back. */
  readonly clientModel: string;
  readonly inputs: number;
  readonly dimensions: number;
  readonly encodingFormat: "float" | "base64";
}

/**
 * The client's answer from the engine's: one vector per input in input order, cut to
 * `dimensions`, as float32 values (JSON numbers) or base64, with the engine's token count.
 * The usage record was written from the same answer (its `usage.prompt_tokens`) before this runs.
 */
export function embeddingsResponse(engineBody: Uint8Array, shape: EmbeddingsShape): string {
  let parsed: z.output<typeof engineAnswer>;
  try {
    parsed = engineAnswer.parse(JSON.parse(Buffer.from(engineBody).toString("utf8")));
  } catch (err) {
    throw new ModelFailedError("the model's embeddings answer was malformed", { cause: err });
  }
  const data = [...parsed.data].sort((a, b) => a.index - b.index);
  if (data.length !== shape.inputs || data.some((d, i) => d.index !== i || d.embedding.length < shape.dimensions)) {
    throw new ModelFailedError("the model's embeddings answer does not match the request");
  }
  const promptTokens = parsed.usage?.prompt_tokens ?? 0;
  return JSON.stringify({
    object: "list",
    data: data.map((d) => {
      const full = d.embedding.length === shape.dimensions ? d.embedding : truncateAndNormalize(d.embedding, shape.dimensions);
      // Rounded to float32 either way, so the float answer is exactly what base64 decodes to.
      const vector = full.map(Math.fround);
      return { object: "embedding", index: d.index, embedding: shape.encodingFormat === "base64" ? encodeBase64(vector) : vector };
    }),
    model: shape.clientModel,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  });
}
