import { describe, expect, it } from "@jest/globals";
import { routeAttribute, routeFromAttributes } from "../../functions/contract/upstream-route";
import {
  decodeBase64,
  embeddingsBody,
  embeddingsResponse,
  embeddingTokenReservation,
  encodeBase64,
  normalizeInput,
  outputDimensions,
  requireEmbeddingModel,
  truncateAndNormalize,
  upstreamEmbeddingsBody,
} from "../../functions/core/embeddings";
import { BadRequestError, ModelFailedError } from "../../functions/core/errors";

const parse = (input: unknown, extra: Record<string, unknown> = {}) => embeddingsBody.safeParse({ model: "m", input, ...extra });
const engine = (data: { index: number; embedding: number[] }[], promptTokens = 3) =>
  Buffer.from(JSON.stringify({ object: "list", data, model: "m", usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } }));

describe("embeddings input", () => {
  it("takes OpenAI's four shapes and gives one entry per vector", () => {
    const norm = (input: unknown) => {
      const r = parse(input);
      if (!r.success) throw r.error;
      return normalizeInput(r.data.input);
    };
    expect(norm("a whale")).toEqual({ kind: "text", texts: ["a whale"] });
    expect(norm(["a", "b"])).toEqual({ kind: "text", texts: ["a", "b"] });
    expect(norm([1, 2, 3])).toEqual({ kind: "tokens", tokens: [[1, 2, 3]] });
    expect(norm([[1], [2, 3]])).toEqual({ kind: "tokens", tokens: [[1], [2, 3]] });
  });

  it("refuses empty, mixed, fractional and negative inputs, and more than 2048 of them", () => {
    for (const bad of ["", [], [""], ["a", 1], [1.5], [-1], [[]], [[1], "a"], Array(2049).fill("a"), null, 7]) {
      expect(parse(bad).success).toBe(false);
    }
    expect(parse("a", { encoding_format: "int8" }).success).toBe(false);
    expect(parse("a", { dimensions: 0 }).success).toBe(false);
  });

  it("reserves token arrays exactly and bounds a text by its UTF-8 bytes plus two special tokens", () => {
    expect(embeddingTokenReservation({ kind: "tokens", tokens: [[1, 2], [3]] })).toBe(3);
    expect(embeddingTokenReservation({ kind: "text", texts: ["abc", "é"] })).toBe(3 + 2 + 2 + 2);
  });

  it("asks the engine for full-length floats under the registry's name, other fields passed through", () => {
    const r = parse(["x"], { model: "tinyembed:staging", encoding_format: "base64", dimensions: 8, user: "u" });
    if (!r.success) throw r.error;
    expect(upstreamEmbeddingsBody(r.data, "tinyembed")).toEqual({ model: "tinyembed", input: ["x"], user: "u", encoding_format: "float" });
  });
});

describe("dimensions", () => {
  const truncatable = { dimensions: 64, truncatable: true };
  it("is the model's length unless a truncatable model is asked for fewer", () => {
    expect(outputDimensions("m", truncatable, undefined)).toBe(64);
    expect(outputDimensions("m", truncatable, 16)).toBe(16);
    expect(outputDimensions("m", { dimensions: 64, truncatable: false }, 64)).toBe(64);
  });

  it("is a 400 for a model that does not declare it, or above the model's length", () => {
    expect(() => outputDimensions("m", { dimensions: 64, truncatable: false }, 16)).toThrow(/does not support shortened embeddings/);
    expect(() => outputDimensions("m", truncatable, 65)).toThrow(BadRequestError);
    expect(() => requireEmbeddingModel("tinylm", undefined)).toThrow(/not an embedding model/);
  });

  it("truncates to the first components and renormalises to unit length", () => {
    expect(truncateAndNormalize([3, 4, 12], 2)).toEqual([0.6, 0.8]);
    expect(truncateAndNormalize([0, 0, 1], 2)).toEqual([0, 0]);
  });
});

describe("base64", () => {
  it("is the float32 values little-endian, as OpenAI encodes them", () => {
    expect(encodeBase64([1, -2])).toBe(Buffer.from([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0]).toString("base64"));
    expect(decodeBase64(encodeBase64([0.1, 1e-8]))).toEqual([Math.fround(0.1), Math.fround(1e-8)]);
  });
});

describe("the answer", () => {
  const shape = { clientModel: "tinyembed:staging", inputs: 2, dimensions: 2, encodingFormat: "float" as const };
  const data = [
    { index: 1, embedding: [0, 0.6, 0.8] },
    { index: 0, embedding: [0.6, 0.8, 0] },
  ];

  it("is OpenAI's list in input order, cut to the dimensions, float32 values, with the engine's tokens", () => {
    const answer = JSON.parse(embeddingsResponse(engine(data, 7), shape));
    expect(answer).toEqual({
      object: "list",
      data: [
        { object: "embedding", index: 0, embedding: [Math.fround(0.6), Math.fround(0.8)] },
        { object: "embedding", index: 1, embedding: [0, 1] },
      ],
      model: "tinyembed:staging",
      usage: { prompt_tokens: 7, total_tokens: 7 },
    });
  });

  it("decodes from base64 to exactly the float answer", () => {
    const float = JSON.parse(embeddingsResponse(engine(data), shape));
    const base64 = JSON.parse(embeddingsResponse(engine(data), { ...shape, encodingFormat: "base64" }));
    expect(base64.data.map((d: { embedding: string }) => decodeBase64(d.embedding))).toEqual(
      float.data.map((d: { embedding: number[] }) => d.embedding),
    );
  });

  it("is a 502 when the engine's answer is not JSON, misses an input, or is shorter than asked", () => {
    expect(() => embeddingsResponse(Buffer.from("oops"), shape)).toThrow(ModelFailedError);
    expect(() => embeddingsResponse(engine(data.slice(0, 1)), shape)).toThrow(ModelFailedError);
    expect(() => embeddingsResponse(engine(data), { ...shape, dimensions: 4 })).toThrow(ModelFailedError);
  });
});

describe("the upstream route attribute", () => {
  it("round-trips, beside other attributes, and ignores routes it does not know", () => {
    expect(routeFromAttributes(routeAttribute("/v1/embeddings"))).toBe("/v1/embeddings");
    expect(routeFromAttributes(`trace=abc; ${routeAttribute("/v1/completions")}`)).toBe("/v1/completions");
    expect(routeFromAttributes("openai-route=/v1/files")).toBeUndefined();
    expect(routeFromAttributes(undefined)).toBeUndefined();
  });
});
