import { describe, expect, it } from "vitest";
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
  it("refuses deeply nested data with a 400, not a stack overflow", () => {
    let data: unknown = [1];
    for (let i = 0; i < 100_000; i++) data = [data];
    const body = { inputs: [{ name: "x", shape: [1], datatype: "FP32", data }] };
    expect(() => validateInferRequest(body)).toThrow(BadRequestError);
    expect(() => validateInferRequest(body)).toThrow(/deeper than its shape's rank 1/);
  });
  it("bounds nesting by the declared rank", () => {
    const nested = { name: "x", shape: [2, 2], datatype: "FP32", data: [[[1, 2]], [[3, 4]]] };
    expect(() => validateInferRequest({ inputs: [nested] })).toThrow(/rank 2/);
    expect(() => validateInferRequest({ inputs: [{ name: "s", shape: [], datatype: "FP32", data: [1] }] })).not.toThrow();
  });
  it.each([
    ["a huge dimension next to a zero one", [9e15, 0], []],
    ["a huge zero-size tensor", [0, 1 << 20, 1 << 20], []],
    ["too many dimensions", new Array(33).fill(1), [1]],
  ])("refuses %s", (_, shape, data) => {
    expect(() => validateInferRequest({ inputs: [{ name: "x", shape, datatype: "FP32", data }] })).toThrow(BadRequestError);
  });
  it("still accepts an empty tensor of a sensible shape", () => {
    expect(() => validateInferRequest({ inputs: [{ name: "x", shape: [0, 4], datatype: "FP32", data: [] }] })).not.toThrow();
  });
  it("reads token counts from an LLM usage object", () => {
    expect(reportedTokens({ usage: { prompt_tokens: 3, completion_tokens: 5 } })).toEqual({ input: 3, output: 5 });
    expect(reportedTokens({ outputs: [] })).toBeUndefined();
  });
});
