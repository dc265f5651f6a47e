import { afterEach, beforeEach, describe, expect, it, jest } from "@jest/globals";
import { logger } from "../../functions/http/logger";
import { IRIS_INPUT, principal, seedModels, type TestApp, testApp } from "./app";

let app: TestApp;
const caller = principal({ models: ["tinylm", "iris"] });
const chat = (extra: Record<string, unknown> = {}) => ({ model: "tinylm", messages: [{ role: "user", content: "Hi" }], ...extra });
/** A container's usage report no bill may be built from: a negative count and one DynamoDB would refuse. */
const BROKEN_USAGE = { prompt_tokens: -5, completion_tokens: 1e200 };

let warn: jest.SpiedFunction<typeof logger.warn>;
beforeEach(() => {
  app = testApp();
  seedModels(app);
  warn = jest.spyOn(logger, "warn");
});
afterEach(() => warn.mockRestore());

/** The warnings about ignored token reports, as the handlers log them. */
const tokenWarnings = () => warn.mock.calls.filter((c) => String(c[0]).includes("token counts"));

describe("token counts a model reports that cannot be billed", () => {
  it("a completion is answered and recorded without tokens, and the report is logged with its request and model", async () => {
    app.model.usage = BROKEN_USAGE;
    const res = await app.request("POST", "/v1/chat/completions", { as: caller, json: chat(), requestId: "r-bad-usage" });
    expect(res.status).toBe(200);
    const record = app.usage.stored.get("r-bad-usage");
    expect(record).toMatchObject({ status: 200, tenantId: "acme" });
    expect(record).not.toHaveProperty("tokens");
    expect(tokenWarnings()).toEqual([
      [expect.any(String), expect.objectContaining({ requestId: "r-bad-usage", model: "tinylm", reported: expect.stringContaining("-5") })],
    ]);
  });

  it("a stream is billed by its content chunks instead", async () => {
    app.model.usage = { prompt_tokens: "12", completion_tokens: 3 };
    const res = await app.request("POST", "/v1/chat/completions", { as: caller, json: chat({ stream: true }), requestId: "r-bad-stream" });
    expect(res.status).toBe(200);
    expect(app.usage.stored.get("r-bad-stream")).toMatchObject({ status: 200, tokens: { input: 0, output: 2 } });
    expect(tokenWarnings()).toHaveLength(1);
  });

  it("a KServe answer's parameters.usage is held to the same rule", async () => {
    app.model.kserveUsage = { input_tokens: 2.5, output_tokens: 1 };
    const res = await app.request("POST", "/v2/models/iris/infer", { as: caller, json: IRIS_INPUT, requestId: "r-bad-kserve" });
    expect(res.status).toBe(200);
    expect(app.usage.stored.get("r-bad-kserve")).not.toHaveProperty("tokens");
    expect(tokenWarnings()).toHaveLength(1);

    app.model.kserveUsage = { input_tokens: 2, output_tokens: 1 };
    await app.request("POST", "/v2/models/iris/infer", { as: caller, json: IRIS_INPUT, requestId: "r-good-kserve" });
    expect(app.usage.stored.get("r-good-kserve")).toMatchObject({ tokens: { input: 2, output: 1 } });
  });
});
