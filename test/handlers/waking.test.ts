import { beforeEach, describe, expect, it } from "@jest/globals";
import { ModelWakingError } from "../../functions/core/errors";
import type { ModelVersion } from "../../functions/core/registry";
import type { InferenceMetrics } from "../../functions/http/metrics";
import { alias, expectError, IRIS_INPUT, principal, type TestApp, testApp, version } from "./app";
import type { StreamedTestResponse } from "./request";

/**
 * Versions placed as inference components on a shared pool endpoint: calls name the
 * component, and a component with zero copies is waking (503 + Retry-After, never billed,
 * counted as ModelWaking), or its alias's fallback answers.
 */

const POOL = "mg-pool-shared";
/** A version served as an inference component on the pool. */
const onPool = (v: ModelVersion): ModelVersion => ({ ...v, endpointName: POOL, inferenceComponentName: `mg-${v.model}-${v.version}` });
const waking = () => new ModelWakingError("the model is scaling up from zero; retry in 30 seconds", { retryAfterSeconds: 30 });

let app: TestApp;
let published: InferenceMetrics[];
const caller = principal({ models: ["iris", "tinylm"] });

beforeEach(() => {
  published = [];
  app = testApp({ metrics: (m) => published.push(m) });
  app.registry.addModel(
    { model: "iris" },
    [onPool(version("iris", 1)), onPool(version("iris", 2)), version("iris", 3)],
    [
      alias("iris", "prod", { targets: [{ version: 1, weight: 100 }] }),
      alias("iris", "safe", { targets: [{ version: 1, weight: 100 }], fallback: 3 }),
    ],
  );
  app.registry.addModel(
    { model: "tinylm" },
    [{ ...onPool(version("tinylm", 1)), runtime: "lmi" }],
    [alias("tinylm", "prod", { targets: [{ version: 1, weight: 100 }] })],
  );
});

/** No usage record stays behind (so no bill); a 503 is never a reconciliation gap. */
function expectUnmetered(requestId: string) {
  expect(app.usage.stored.has(requestId)).toBe(false);
}

describe("a version placed as an inference component", () => {
  it("is called on the pool endpoint by its component's name", async () => {
    const res = await app.request("POST", "/v2/models/iris/infer", { as: caller, json: IRIS_INPUT, requestId: "r-ic" });
    expect(res.status).toBe(200);
    expect(app.model.calls).toEqual([expect.objectContaining({ endpointName: POOL, inferenceComponentName: "mg-iris-1" })]);
    expect(app.usage.stored.get("r-ic")).toMatchObject({ version: 1, status: 200 });
  });

  it("passes the component on to a shadow copy", async () => {
    app.registry.addModel(
      { model: "iris" },
      [onPool(version("iris", 1)), onPool(version("iris", 2))],
      [alias("iris", "prod", { targets: [{ version: 1, weight: 100 }], shadow: { version: 2, percent: 100 } })],
    );
    await app.request("POST", "/v2/models/iris/infer", { as: caller, json: IRIS_INPUT, requestId: "r-shadow" });
    expect(app.shadow.dispatched).toEqual([expect.objectContaining({ endpointName: POOL, inferenceComponentName: "mg-iris-2" })]);
    // Through a JSON hop, as Lambda's asynchronous invocation carries it.
    await app.shadowHandler(JSON.parse(JSON.stringify(app.shadow.dispatched[0])));
    expect(app.model.calls.at(-1)).toMatchObject({ endpointName: POOL, inferenceComponentName: "mg-iris-2" });
  });
});

describe("a component scaled to zero", () => {
  it("answers KServe 503 with Retry-After and says the model is scaling up; nothing is billed", async () => {
    app.model.failing.set("mg-iris-1", waking());
    const res = await app.request("POST", "/v2/models/iris/infer", { as: caller, json: IRIS_INPUT, requestId: "r-cold" });
    expect(expectError(res, 503, "model_waking")).toMatch(/scaling up from zero/);
    expect(res.headers).toMatchObject({ "retry-after": "30", "x-model-version": "1", "x-model-name": "iris" });
    expectUnmetered("r-cold");
  });

  it("answers the raw route the same way", async () => {
    app.model.failing.set("mg-iris-1", waking());
    const res = await app.request("POST", "/v1/models/iris/invoke", {
      as: caller,
      body: "raw bytes",
      headers: { "content-type": "text/plain" },
      requestId: "r-raw-cold",
    });
    expectError(res, 503, "model_waking");
    expect(res.headers["retry-after"]).toBe("30");
    expectUnmetered("r-raw-cold");
  });

  it("lets the alias's fallback answer instead, billed to the fallback", async () => {
    app.model.failing.set("mg-iris-1", waking());
    const res = await app.request("POST", "/v2/models/iris/versions/safe/infer", { as: caller, json: IRIS_INPUT, requestId: "r-safe" });
    expect(res.status).toBe(200);
    expect(res.headers).toMatchObject({ "x-model-version": "3", "x-model-fallback-from": "1", "x-model-alias": "safe" });
    expect(app.usage.stored.get("r-safe")).toMatchObject({ version: 3, status: 200 });
  });

  it("is counted as ModelWaking, not as a model error", async () => {
    app.model.failing.set("mg-iris-1", waking());
    await app.request("POST", "/v2/models/iris/infer", { as: caller, json: IRIS_INPUT });
    app.model.failing.delete("mg-iris-1");
    await app.request("POST", "/v2/models/iris/infer", { as: caller, json: IRIS_INPUT });
    expect(published.map((m) => [m.status, m.waking])).toEqual([
      [503, true],
      [200, undefined],
    ]);
  });

  it("answers the LLM routes in OpenAI's error shape, streamed or not, with Retry-After and no bill", async () => {
    app.model.failing.set("mg-tinylm-1", waking());
    const chat = { model: "tinylm", messages: [{ role: "user", content: "hi" }] };
    for (const [requestId, body] of [
      ["r-chat-cold", chat],
      ["r-stream-cold", { ...chat, stream: true }],
    ] as const) {
      const res: StreamedTestResponse = await app.request("POST", "/v1/chat/completions", { as: caller, json: body, requestId });
      expect({ status: res.status, retryAfter: res.headers["retry-after"] }).toEqual({ status: 503, retryAfter: "30" });
      expect(res.json()).toEqual({
        error: {
          message: expect.stringMatching(/scaling up from zero/),
          type: "api_error",
          param: null,
          code: "model_waking",
          request_id: requestId,
        },
      });
      expectUnmetered(requestId);
    }
    expect(published.map((m) => m.waking)).toEqual([true, true]);
  });
});
