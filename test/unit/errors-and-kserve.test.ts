import { describe, expect, it } from "@jest/globals";
import { BadRequestError, RateLimitedError, toErrorResponse } from "../../functions/core/errors";
import { reportedTokens, validateInferRequest } from "../../functions/core/kserve";

describe("error mapping", () => {
  it("maps typed errors to their status and the JSON shape", () => {
    const res = toErrorResponse(new BadRequestError("bad"), "req-1");
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body)).toEqual({ error: { type: "invalid_request", message: "bad", request_id: "req-1" } });
  });

  it("adds Retry-After (at least 1 s) to 429s and never leaks an unknown error", () => {
    expect(toErrorResponse(new RateLimitedError("slow down", { retryAfterSeconds: 0.2 }), "r").headers["retry-after"]).toBe("1");
    const res = toErrorResponse(new TypeError("secret internals at line 3"), "r");
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain("internals");
  });
});

describe("KServe v2 request checks", () => {
  const ok = { inputs: [{ name: "input", shape: [2, 4], datatype: "FP32", data: [1, 2, 3, 4, 5, 6, 7, 8] }] };
  it("accepts flat and nested data matching the shape", () => {
    expect(() => validateInferRequest(ok)).not.toThrow();
    expect(() =>
      validateInferRequest({
        inputs: [
          {
            ...ok.inputs[0],
            data: [
              [1, 2, 3, 4],
              [5, 6, 7, 8],
            ],
          },
        ],
      }),
    ).not.toThrow();
  });
  it.each([
    ["not an object", []],
    ["no inputs", {}],
    ["empty inputs", { inputs: [] }],
    ["missing name", { inputs: [{ shape: [1], datatype: "FP32", data: [1] }] }],
    ["bad shape", { inputs: [{ name: "x", shape: [-1], datatype: "FP32", data: [1] }] }],
    ["bad datatype", { inputs: [{ name: "x", shape: [1], datatype: "float", data: [1] }] }],
    ["count mismatch", { inputs: [{ name: "x", shape: [1, 4], datatype: "FP32", data: [1, 2, 3] }] }],
  ])("refuses %s with a 400", (_, body) => {
    expect(() => validateInferRequest(body)).toThrow(BadRequestError);
  });
  it("reads token counts from an LLM usage object", () => {
    expect(reportedTokens({ usage: { prompt_tokens: 3, completion_tokens: 5 } })).toEqual({ input: 3, output: 5 });
    expect(reportedTokens({ outputs: [] })).toBeUndefined();
  });
});
