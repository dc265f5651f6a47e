import { describe, expect, it } from "vitest";
import { BadRequestError, NotFoundError, RateLimitedError } from "../../functions/core/errors";
import {
  chatCompletionBody,
  completionBody,
  DEFAULT_MAX_COMPLETION_TOKENS,
  openAIError,
  parseModelRef,
  tokenReservation,
  upstreamBody,
} from "../../functions/core/openai";

const chat = (extra: Record<string, unknown> = {}) =>
  chatCompletionBody.parse({ model: "tinylm", messages: [{ role: "user", content: "Once upon a time" }], ...extra });

describe("OpenAI requests", () => {
  it("reads the model, an alias or a version from `model`", () => {
    expect(parseModelRef("tinylm")).toEqual({ model: "tinylm", selector: { kind: "default" } });
    expect(parseModelRef("tinylm:staging")).toEqual({ model: "tinylm", selector: { kind: "alias", alias: "staging" } });
    expect(parseModelRef("tinylm:3")).toEqual({ model: "tinylm", selector: { kind: "version", version: 3 } });
    expect(() => parseModelRef("tinylm:")).toThrow(BadRequestError);
    expect(() => parseModelRef("tinylm:Not An Alias")).toThrow(NotFoundError);
  });

  it("refuses malformed bodies with the field named", () => {
    expect(chatCompletionBody.safeParse({ model: "tinylm", messages: [] }).success).toBe(false);
    expect(chatCompletionBody.safeParse({ model: "tinylm", messages: [{ role: "user", content: "hi" }], n: 2 }).success).toBe(false);
    expect(chatCompletionBody.safeParse({ model: "tinylm", messages: [{ role: "user", content: "hi" }], temperature: 3 }).success).toBe(
      false,
    );
    expect(completionBody.safeParse({ model: "tinylm", prompt: "hi", max_tokens: 0 }).success).toBe(false);
    // Fields engines know and modelgate does not pass through.
    expect(chatCompletionBody.parse({ model: "m", messages: [{ role: "user", content: "hi" }], frequency_penalty: 0.5 })).toHaveProperty(
      "frequency_penalty",
      0.5,
    );
  });

  it("reserves the prompt's bytes plus the completion maximum, or the default maximum", () => {
    expect(tokenReservation(chat({ max_tokens: 10 }))).toBe("Once upon a time".length + 10);
    expect(tokenReservation(chat())).toBe("Once upon a time".length + DEFAULT_MAX_COMPLETION_TOKENS);
    expect(tokenReservation(chat(), 32)).toBe("Once upon a time".length + 32);
    expect(tokenReservation(completionBody.parse({ model: "m", prompt: "é", max_completion_tokens: 1 }))).toBe(3);
  });

  it("always asks the engine for usage on streams and makes the maximum explicit", () => {
    const up = upstreamBody(chat({ stream: true, max_completion_tokens: 7 }), "tinylm");
    expect(up).toMatchObject({ model: "tinylm", stream: true, max_tokens: 7, stream_options: { include_usage: true } });
    expect(up).not.toHaveProperty("max_completion_tokens");
    expect(upstreamBody(chat(), "tinylm")).not.toHaveProperty("stream_options");
  });

  it("answers errors in OpenAI's shape, typed by status", () => {
    expect(openAIError(new RateLimitedError("monthly token quota of 100 reached"), "r1")).toEqual({
      status: 429,
      body: {
        error: {
          message: "monthly token quota of 100 reached",
          type: "rate_limit_error",
          param: null,
          code: "rate_limited",
          request_id: "r1",
        },
      },
    });
    expect(openAIError(new Error("secret internals"), "r2").body).toMatchObject({
      error: { message: "internal error", type: "api_error" },
    });
  });
});
