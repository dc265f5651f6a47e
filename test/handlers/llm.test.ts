import { beforeEach, describe, expect, it } from "@jest/globals";
import { ModelFailedError } from "../../functions/core/errors";
import { alias, principal, seedModels, type TestApp, testApp, version } from "./app";
import { COMPLETION, COMPLETION_USAGE } from "./memory/model";
import type { StreamedTestResponse } from "./request";

let app: TestApp;
const caller = principal({ models: ["tinylm"] });
const chat = (extra: Record<string, unknown> = {}) => ({
  model: "tinylm",
  messages: [{ role: "user", content: "Tell me a story" }],
  ...extra,
});

/** OpenAI's error shape, with the request id of the response. */
function expectOpenAIError(res: StreamedTestResponse, status: number, type: string, code: string) {
  expect({ status: res.status, body: res.text }).toEqual({ status, body: expect.any(String) });
  expect(res.json()).toEqual({ error: { message: expect.any(String), type, param: null, code, request_id: res.headers["x-request-id"] } });
}

/** The `data:` payloads of a Server-Sent Events body. */
const events = (res: StreamedTestResponse) =>
  res.text
    .split("\n\n")
    .filter((e) => e.startsWith("data: "))
    .map((e) => e.slice(6));

beforeEach(() => {
  app = testApp();
  seedModels(app);
});

describe("POST /v1/chat/completions", () => {
  it("answers one JSON completion with the client's model name, version headers and the engine's usage metered", async () => {
    const res = await app.request("POST", "/v1/chat/completions", {
      as: caller,
      json: chat({ model: "tinylm:staging" }),
      requestId: "r-chat",
    });
    expect(res.status).toBe(200);
    expect(res.headers).toMatchObject({
      "content-type": "application/json",
      "x-request-id": "r-chat",
      "x-model-version": "2",
      "x-model-alias": "staging",
    });
    expect(res.json()).toMatchObject({
      model: "tinylm:staging",
      choices: [{ message: { content: COMPLETION.join("") } }],
      usage: COMPLETION_USAGE,
    });
    expect(app.usage.stored.get("r-chat")).toMatchObject({ tenantId: "acme", version: 2, tokens: { input: 5, output: 2 }, status: 200 });
    // Neither the request nor the model names a maximum: the engine's own limit applies.
    const upstream = JSON.parse(new TextDecoder().decode(app.model.calls[0]?.body));
    expect(upstream).toMatchObject({ model: "tinylm" });
    expect(upstream).not.toHaveProperty("max_tokens");
  });

  it("streams Server-Sent Events chunk by chunk, ending in [DONE], and meters the stream once", async () => {
    const res = await app.request("POST", "/v1/chat/completions", { as: caller, json: chat({ stream: true }), requestId: "r-stream" });
    expect(res.status).toBe(200);
    expect(res.headers).toMatchObject({
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      "x-model-version": "1",
    });
    const data = events(res);
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    expect(chunks.map((c) => c.choices[0]?.delta?.content).filter(Boolean)).toEqual(COMPLETION);
    expect(chunks.every((c) => c.model === "tinylm")).toBe(true);
    // Relayed as the events arrive, not buffered into one write.
    expect(res.pieces.length).toBeGreaterThan(2);
    expect(app.usage.stored.get("r-stream")).toMatchObject({ tokens: { input: 5, output: 2 }, status: 200 });
  });

  it("sends a streamed request's shadow copy unstreamed, to be answered in one piece", async () => {
    app.registry.addModel(
      { model: "tinylm" },
      [
        { ...version("tinylm", 1), runtime: "lmi" },
        { ...version("tinylm", 2), runtime: "lmi" },
      ],
      [alias("tinylm", "prod", { targets: [{ version: 1, weight: 100 }], shadow: { version: 2, percent: 100 } })],
    );
    const res = await app.request("POST", "/v1/chat/completions", { as: caller, json: chat({ stream: true }), requestId: "r-shadow" });
    expect(res.status).toBe(200);
    expect(app.shadow.dispatched).toEqual([expect.objectContaining({ requestId: "r-shadow", version: 2 })]);
    const copy = JSON.parse(Buffer.from(app.shadow.dispatched[0]?.body ?? "", "base64").toString("utf8"));
    expect(copy).toMatchObject({ model: "tinylm", stream: false, messages: chat().messages });
    expect(copy).not.toHaveProperty("stream_options");
  });

  it("takes the tenant from the authorizer context only", async () => {
    await app.request("POST", "/v1/chat/completions", {
      as: caller,
      json: chat({ user: "globex", tenantId: "globex" }),
      headers: { "x-tenant-id": "globex" },
      requestId: "r-t",
    });
    expect(app.usage.stored.get("r-t")?.tenantId).toBe("acme");
  });

  it("answers errors in OpenAI's shape: 400 bad body, 401 no caller, 403 scope, 404 unknown or not granted, 415, 413", async () => {
    const json = { "content-type": "application/json" };
    expectOpenAIError(
      await app.request("POST", "/v1/chat/completions", { as: caller, body: "{", headers: json }),
      400,
      "invalid_request_error",
      "invalid_request",
    );
    expectOpenAIError(
      await app.request("POST", "/v1/chat/completions", { as: caller, json: chat({ n: 2 }) }),
      400,
      "invalid_request_error",
      "invalid_request",
    );
    expectOpenAIError(
      await app.request("POST", "/v1/chat/completions", { as: caller, json: { model: "tinylm", messages: [] } }),
      400,
      "invalid_request_error",
      "invalid_request",
    );
    expectOpenAIError(await app.request("POST", "/v1/chat/completions", { json: chat() }), 401, "authentication_error", "unauthorized");
    expectOpenAIError(
      await app.request("POST", "/v1/chat/completions", { as: principal({ scopes: ["usage:read"] }), json: chat() }),
      403,
      "permission_error",
      "forbidden",
    );
    expectOpenAIError(
      await app.request("POST", "/v1/chat/completions", { as: caller, json: chat({ model: "iris" }) }),
      404,
      "not_found_error",
      "not_found",
    );
    expectOpenAIError(
      await app.request("POST", "/v1/chat/completions", { as: caller, json: chat({ model: "nope" }) }),
      404,
      "not_found_error",
      "not_found",
    );
    expectOpenAIError(
      await app.request("POST", "/v1/chat/completions", { as: caller, body: "hi", headers: { "content-type": "text/plain" } }),
      415,
      "invalid_request_error",
      "unsupported_media_type",
    );
    expectOpenAIError(
      await app.request("POST", "/v1/chat/completions", { as: caller, json: chat({ user: "x".repeat(200), pad: "x".repeat(20_000) }) }),
      413,
      "invalid_request_error",
      "payload_too_large",
    );
    expect(app.model.calls).toEqual([]);
  });

  it("is 429 with Retry-After and x-ratelimit-*-tokens once the month's token quota is spent", async () => {
    const limited = principal({ models: ["tinylm"], limits: { monthlyTokens: 10 } });
    const first = await app.request("POST", "/v1/chat/completions", { as: limited, json: chat({ stream: true }) });
    expect(first.status).toBe(200);
    expect(first.headers["x-ratelimit-limit-tokens"]).toBe("10");
    const res = await app.request("POST", "/v1/chat/completions", { as: limited, json: chat({ stream: true }) });
    expectOpenAIError(res, 429, "rate_limit_error", "rate_limited");
    expect(Number(res.headers["retry-after"])).toBeGreaterThan(0);
    expect(res.headers["x-ratelimit-limit-tokens"]).toBe("10");
    expect(app.model.calls).toHaveLength(1);
  });

  it("is 429 with Retry-After to the next minute and x-ratelimit-*-tokens once the minute's tokens are spent", async () => {
    const limited = principal({ models: ["tinylm"], limits: { tokensPerMinute: 10 } });
    app.clock.now += 15_000; // 15 s into a minute
    const first = await app.request("POST", "/v1/chat/completions", { as: limited, json: chat({ max_tokens: 2 }) });
    expect(first.status).toBe(200);
    // Reserved: the prompt's 15 bytes + max_tokens, capped at the limit.
    expect(first.headers).toMatchObject({ "x-ratelimit-limit-tokens": "10", "x-ratelimit-remaining-tokens": "0" });
    // Settled to the engine's 7 tokens: 3 are left, too few for the next request's reservation.
    const res = await app.request("POST", "/v1/chat/completions", { as: limited, json: chat({ max_tokens: 2 }) });
    expectOpenAIError(res, 429, "rate_limit_error", "rate_limited");
    expect(res.json().error.message).toContain("tokens-per-minute limit of 10 reached");
    expect(res.headers).toMatchObject({
      "retry-after": "45",
      "x-ratelimit-limit-tokens": "10",
      "x-ratelimit-remaining-tokens": "3",
      "x-ratelimit-reset-tokens": "45",
    });
    expect(app.model.calls).toHaveLength(1);
    app.clock.now += 45_000;
    expect((await app.request("POST", "/v1/chat/completions", { as: limited, json: chat({ max_tokens: 2 }) })).status).toBe(200);
  });

  it("maps a model failure before the first event to a 502 in OpenAI's shape, with the version headers", async () => {
    app.model.failing.set("v1", new ModelFailedError("the engine crashed"));
    const res = await app.request("POST", "/v1/chat/completions", { as: caller, json: chat({ stream: true }) });
    expectOpenAIError(res, 502, "api_error", "model_error");
    expect(res.headers["x-model-version"]).toBe("1");
  });
});

describe("POST /v1/completions", () => {
  it("answers a text completion, streamed or not", async () => {
    const whole = await app.request("POST", "/v1/completions", { as: caller, json: { model: "tinylm", prompt: "Once" } });
    expect(whole.status).toBe(200);
    expect(whole.json()).toMatchObject({ model: "tinylm", usage: COMPLETION_USAGE });
    const streamed = await app.request("POST", "/v1/completions", { as: caller, json: { model: "tinylm", prompt: "Once", stream: true } });
    expect(events(streamed).at(-1)).toBe("[DONE]");
  });

  it("is 400 without a prompt", async () => {
    expectOpenAIError(
      await app.request("POST", "/v1/completions", { as: caller, json: { model: "tinylm" } }),
      400,
      "invalid_request_error",
      "invalid_request",
    );
  });
});
