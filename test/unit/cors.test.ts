import { describe, expect, it } from "@jest/globals";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { withCors } from "../../functions/http/cors";

const CONSOLE = "https://d111111abcdef8.cloudfront.net";
const answer: APIGatewayProxyResult = {
  statusCode: 200,
  headers: { "content-type": "application/json", "x-request-id": "r1" },
  body: "{}",
};
const inner = async () => answer;
const event = (headers: Record<string, string>) => ({ headers }) as unknown as APIGatewayProxyEvent;

describe("withCors: the cloud console's origin, and only it, may read a function's answers", () => {
  it("names the console's origin (whatever the header's case) and the headers it reads", async () => {
    for (const name of ["origin", "Origin", "ORIGIN"]) {
      const r = await withCors(inner, CONSOLE)(event({ [name]: CONSOLE }));
      expect(r.headers).toEqual({
        "content-type": "application/json",
        "x-request-id": "r1",
        "access-control-allow-origin": CONSOLE,
        "access-control-expose-headers": "x-request-id, retry-after, content-disposition",
        vary: "Origin",
      });
      expect(r.body).toBe("{}");
    }
  });

  it("adds no allow-origin for another origin, a look-alike, or none (the CLI): only Vary", async () => {
    for (const origin of ["https://evil.example", `${CONSOLE}.evil.example`, "http://d111111abcdef8.cloudfront.net", "null"]) {
      const r = await withCors(inner, CONSOLE)(event({ origin }));
      expect(r.headers?.["access-control-allow-origin"]).toBeUndefined();
      expect(r.headers?.vary).toBe("Origin");
    }
    expect((await withCors(inner, CONSOLE)(event({}))).headers?.["access-control-allow-origin"]).toBeUndefined();
  });

  it("returns the handler itself where no console origin is set (the local host: same origin)", () => {
    expect(withCors(inner, undefined)).toBe(inner);
    expect(withCors(inner, "")).toBe(inner);
  });
});
