import { describe, expect, it } from "@jest/globals";
import { BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from "../../functions/core/errors";
import { jsonBody } from "../../functions/http/event";

const event = (body: string | null, headers: Record<string, string> = { "Content-Type": "application/json" }, isBase64Encoded = false) => ({
  body,
  headers,
  isBase64Encoded,
});

describe("jsonBody: the one request-body reader of the handlers", () => {
  it("returns the parsed document and its bytes, base64 or not", () => {
    const text = '{"a":1}';
    expect(jsonBody(event(text), 100)).toEqual({ json: { a: 1 }, bytes: Buffer.from(text) });
    expect(jsonBody(event(Buffer.from(text).toString("base64"), {}, true), 100).json).toEqual({ a: 1 });
  });

  it("refuses what is not a JSON document as a client error", () => {
    expect(() => jsonBody(event(null), 100)).toThrow(BadRequestError);
    expect(() => jsonBody(event("{"), 100)).toThrow(BadRequestError);
    expect(() => jsonBody(event("{}", { "content-type": "text/plain" }), 100)).toThrow(UnsupportedMediaTypeError);
    expect(() => jsonBody(event('{"a":"0123456789"}'), 10)).toThrow(PayloadTooLargeError);
  });

  it("with optional, a request without a body reads as {}; a body present is still checked", () => {
    expect(jsonBody(event(null, {}), 100, { optional: true }).json).toEqual({});
    expect(jsonBody(event(""), 100, { optional: true }).json).toEqual({});
    expect(() => jsonBody(event("nope"), 100, { optional: true })).toThrow(BadRequestError);
  });
});
