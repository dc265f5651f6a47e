import { beforeEach, describe, expect, it } from "@jest/globals";
import { decodeBase64 } from "../../functions/core/embeddings";
import { priceFromJson } from "../../functions/core/money/prices";
import { principal, seedEmbeddingModel, seedModels, type TestApp, testApp } from "./app";
import type { StreamedTestResponse } from "./request";

let app: TestApp;
const caller = principal({ models: ["tinyembed", "tinylm"] });
const upstream = (i = 0) => JSON.parse(new TextDecoder().decode(app.model.calls[i]?.body));

function expectOpenAIError(res: StreamedTestResponse, status: number, type: string): string {
  expect({ status: res.status, body: res.text }).toEqual({ status, body: expect.any(String) });
  expect(res.json()).toEqual({
    error: { message: expect.any(String), type, param: null, code: expect.any(String), request_id: res.headers["x-request-id"] },
  });
  return res.json().error.message;
}

beforeEach(async () => {
  app = testApp();
  seedModels(app);
  seedEmbeddingModel(app);
  // 0.02 per million input tokens: 20 nano-units (1e-9) per token.
  await app.registry.addPrice(
    priceFromJson({
      model: "tinyembed",
      currency: "USD",
      effectiveFrom: "2026-01-01T00:00:00.000Z",
      components: { perMillionInput: "0.02" },
    }),
  );
});

describe("POST /v1/embeddings", () => {
  it("answers OpenAI's list with the client's model name and version headers, and meters the engine's tokens once, priced", async () => {
    const res = await app.request("POST", "/v1/embeddings", {
      as: caller,
      json: { model: "tinyembed:staging", input: ["the white whale", "a ship"] },
      requestId: "r-emb",
    });
    expect(res.status).toBe(200);
    expect(res.headers).toMatchObject({ "content-type": "application/json", "x-request-id": "r-emb", "x-model-version": "2" });
    const body = res.json();
    expect(body).toMatchObject({ object: "list", model: "tinyembed:staging", usage: { prompt_tokens: 5, total_tokens: 5 } });
    expect(body.data.map((d: { object: string; index: number }) => [d.object, d.index])).toEqual([
      ["embedding", 0],
      ["embedding", 1],
    ]);
    expect(body.data[0].embedding).toHaveLength(4);
    // Told the route, sent the registry's name and asked for floats.
    expect(app.model.calls).toHaveLength(1);
    expect(app.model.calls[0]?.route).toBe("/v1/embeddings");
    expect(upstream()).toEqual({ model: "tinyembed", input: ["the white whale", "a ship"], encoding_format: "float" });
    const records = [...app.usage.stored.values()].filter((r) => r.requestId === "r-emb");
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ model: "tinyembed", version: 2, status: 200, tokens: { input: 5, output: 0 } });
    // 5 tokens × 0.02 / 1e6 = 0.0000001.
    expect(records[0]?.cost).toBe("0.0000001");
  });

  it("gives the same vectors as base64 little-endian float32, and as token-array input", async () => {
    const float = await app.request("POST", "/v1/embeddings", { as: caller, json: { model: "tinyembed", input: "whale" } });
    const base64 = await app.request("POST", "/v1/embeddings", {
      as: caller,
      json: { model: "tinyembed", input: "whale", encoding_format: "base64" },
    });
    expect(typeof base64.json().data[0].embedding).toBe("string");
    expect(decodeBase64(base64.json().data[0].embedding)).toEqual(float.json().data[0].embedding);
    const tokens = await app.request("POST", "/v1/embeddings", { as: caller, json: { model: "tinyembed", input: [[5, 6, 7]] } });
    expect(tokens.json().usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
    expect(upstream(2).input).toEqual([[5, 6, 7]]);
  });

  it("shortens to `dimensions` with unit length for a truncatable model, never sending it upstream", async () => {
    const res = await app.request("POST", "/v1/embeddings", { as: caller, json: { model: "tinyembed", input: "x", dimensions: 2 } });
    const [v] = res.json().data.map((d: { embedding: number[] }) => d.embedding);
    expect(v).toHaveLength(2);
    expect(Math.hypot(...v)).toBeCloseTo(1, 6);
    expect(upstream()).not.toHaveProperty("dimensions");
  });

  it("refuses `dimensions` for a model that does not declare truncatable vectors, before charging or calling", async () => {
    app = testApp();
    seedEmbeddingModel(app, { dimensions: 4, truncatable: false });
    const res = await app.request("POST", "/v1/embeddings", { as: caller, json: { model: "tinyembed", input: "x", dimensions: 2 } });
    expect(expectOpenAIError(res, 400, "invalid_request_error")).toMatch(/does not support shortened embeddings/);
    expect(app.model.calls).toEqual([]);
    expect(app.usage.stored.size).toBe(0);
  });

  it("keeps the embedding and generation routes to their own models", async () => {
    const onLlm = await app.request("POST", "/v1/embeddings", { as: caller, json: { model: "tinylm", input: "x" } });
    expect(expectOpenAIError(onLlm, 400, "invalid_request_error")).toMatch(/not an embedding model/);
    const chat = await app.request("POST", "/v1/chat/completions", {
      as: caller,
      json: { model: "tinyembed", messages: [{ role: "user", content: "hi" }] },
    });
    expect(expectOpenAIError(chat, 400, "invalid_request_error")).toMatch(/is an embedding model/);
    expect(app.model.calls).toEqual([]);
  });

  it("answers an ungranted model exactly like an unknown one, and a malformed body as OpenAI's 400", async () => {
    const ungranted = await app.request("POST", "/v1/embeddings", {
      as: principal({ models: ["tinylm"] }),
      json: { model: "tinyembed", input: "x" },
    });
    const unknown = await app.request("POST", "/v1/embeddings", { as: caller, json: { model: "nope", input: "x" } });
    expectOpenAIError(ungranted, 404, "not_found_error");
    expect(ungranted.json().error.message.replace("tinyembed", "nope")).toBe(unknown.json().error.message);
    expectOpenAIError(
      await app.request("POST", "/v1/embeddings", { as: caller, json: { model: "tinyembed", input: [] } }),
      400,
      "invalid_request_error",
    );
    expect(app.model.calls).toEqual([]);
  });

  it("refuses a key without the invoke scope before looking at the model", async () => {
    const reader = principal({ models: ["tinyembed"], scopes: ["usage:read"] });
    const res = await app.request("POST", "/v1/embeddings", { as: reader, json: { model: "tinyembed", input: "x", dimensions: 99 } });
    expectOpenAIError(res, 403, "permission_error");
    expect(app.model.calls).toEqual([]);
  });

  it("reserves the input tokens against a token quota and refuses what does not fit, unbilled", async () => {
    const limited = principal({ models: ["tinyembed"], limits: { tokensPerMinute: 10 } });
    const ok = await app.request("POST", "/v1/embeddings", { as: limited, json: { model: "tinyembed", input: "abc" } });
    expect(ok.status).toBe(200);
    // 40 bytes of text reserve 42 tokens: more than the minute's 10.
    const refused = await app.request("POST", "/v1/embeddings", { as: limited, json: { model: "tinyembed", input: "x".repeat(40) } });
    expectOpenAIError(refused, 429, "rate_limit_error");
    expect(app.model.calls).toHaveLength(1);
  });
});
