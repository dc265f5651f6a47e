import { beforeEach, describe, expect, it } from "@jest/globals";
import { ModelFailedError, ServiceUnavailableError } from "../../functions/core/errors";
import { alias, expectError, IRIS_INPUT, principal, seedModels, type TestApp, testApp, version } from "./app";

let app: TestApp;
const caller = principal({ tenantId: "acme", models: ["iris"] });

beforeEach(() => {
  app = testApp();
  seedModels(app);
});

describe("POST /v2/models/{model}/infer", () => {
  it("answers through the default alias with the request id and version headers, and meters the caller", async () => {
    const res = await app.request("POST", "/v2/models/iris/infer", { as: caller, json: IRIS_INPUT, requestId: "r-infer" });
    expect(res.status).toBe(200);
    expect(res.headers).toMatchObject({
      "content-type": "application/json",
      "x-request-id": "r-infer",
      "x-model-name": "iris",
      "x-model-version": "1",
      "x-model-alias": "prod",
    });
    expect(res.json().outputs).toEqual([{ name: "input_out", shape: [1, 4], datatype: "FP32", data: [10.2, 7, 2.8, 0.4] }]);
    expect(app.model.calls.map((c) => [c.endpointName, c.variantName])).toEqual([["mg-iris", "v1"]]);
    expect(app.usage.stored.get("r-infer")).toMatchObject({
      tenantId: "acme",
      keyId: caller.keyId,
      model: "iris",
      version: 1,
      status: 200,
    });
  });

  it("takes the tenant from the authorizer context only, never from headers, query or body", async () => {
    const res = await app.request("POST", "/v2/models/iris/infer", {
      as: caller,
      json: { ...IRIS_INPUT, tenantId: "evil" },
      headers: { "x-tenant-id": "evil", "x-api-key-tenant": "evil" },
      query: { tenantId: "evil" },
      requestId: "r-spoof",
    });
    expect(res.status).toBe(200);
    expect(app.usage.stored.get("r-spoof")?.tenantId).toBe("acme");
  });

  it("is 401 without an authorizer context (a route reached around the authorizer)", async () => {
    expectError(await app.request("POST", "/v2/models/iris/infer", { json: IRIS_INPUT }), 401, "unauthorized");
    expect(app.model.calls).toEqual([]);
  });

  it("is 403 for a key without the invoke scope, and 404 for a model the tenant is not granted (as if it did not exist)", async () => {
    const usageOnly = principal({ scopes: ["usage:read"] });
    expect(expectError(await app.request("POST", "/v2/models/iris/infer", { as: usageOnly, json: IRIS_INPUT }), 403, "forbidden")).toMatch(
      /invoke/,
    );
    const notGranted = expectError(await app.request("POST", "/v2/models/other/infer", { as: caller, json: IRIS_INPUT }), 404, "not_found");
    expect(notGranted).toBe(
      expectError(await app.request("POST", "/v2/models/nope/infer", { as: caller, json: IRIS_INPUT }), 404, "not_found").replace(
        "nope",
        "other",
      ),
    );
    expect(app.model.calls).toEqual([]);
    expect(app.usage.stored.size).toBe(0);
  });

  it("is 404 for an unknown model", async () => {
    expectError(await app.request("POST", "/v2/models/nope/infer", { as: principal(), json: IRIS_INPUT }), 404, "not_found");
  });

  it("is 400 for malformed JSON, an empty body and a request that is not KServe v2", async () => {
    const headers = { "content-type": "application/json" };
    expectError(await app.request("POST", "/v2/models/iris/infer", { as: caller, body: "{not json", headers }), 400, "invalid_request");
    expectError(await app.request("POST", "/v2/models/iris/infer", { as: caller, headers }), 400, "invalid_request");
    const bad = { inputs: [{ name: "input", shape: [1, 4], datatype: "FP32", data: [1, 2] }] };
    expect(expectError(await app.request("POST", "/v2/models/iris/infer", { as: caller, json: bad }), 400, "invalid_request")).toMatch(
      /4 elements/,
    );
    expect(app.model.calls).toEqual([]);
  });

  it("is 415 for a body that is not JSON", async () => {
    const res = await app.request("POST", "/v2/models/iris/infer", { as: caller, body: "a,b", headers: { "content-type": "text/csv" } });
    expectError(res, 415, "unsupported_media_type");
  });

  it("is 413 past the body limit, before the model is called", async () => {
    const big = { inputs: [{ name: "input", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] }], pad: "x".repeat(20_000) };
    expectError(await app.request("POST", "/v2/models/iris/infer", { as: caller, json: big }), 413, "payload_too_large");
    expect(app.model.calls).toEqual([]);
  });

  it("is 429 with Retry-After and x-ratelimit-* once the tenant's rate is spent, and the refusal is counted", async () => {
    const limited = principal({ models: ["iris"], limits: { ratePerSecond: 1, burst: 1 } });
    const first = await app.request("POST", "/v2/models/iris/infer", { as: limited, json: IRIS_INPUT });
    expect(first.status).toBe(200);
    expect(first.headers).toMatchObject({ "x-ratelimit-limit-requests": "1", "x-ratelimit-remaining-requests": "0" });
    const second = await app.request("POST", "/v2/models/iris/infer", { as: limited, json: IRIS_INPUT, requestId: "r-429" });
    expectError(second, 429, "rate_limited");
    expect(second.headers["retry-after"]).toBe("1");
    expect(second.headers).toMatchObject({
      "x-ratelimit-limit-requests": "1",
      "x-ratelimit-remaining-requests": "0",
      "x-model-version": "1",
    });
    expect(app.usage.stored.get("r-429")).toMatchObject({ kind: "refused", status: 429 });
    expect(app.model.calls).toHaveLength(1);
    app.clock.now += 1000;
    expect((await app.request("POST", "/v2/models/iris/infer", { as: limited, json: IRIS_INPUT })).status).toBe(200);
  });

  it("is 429 from a key's own limit, charged to the key whatever the tenant allows", async () => {
    const keyLimited = principal({ keyLimits: { monthlyRequests: 1 } });
    expect((await app.request("POST", "/v2/models/iris/infer", { as: keyLimited, json: IRIS_INPUT })).status).toBe(200);
    const res = await app.request("POST", "/v2/models/iris/infer", { as: keyLimited, json: IRIS_INPUT });
    expectError(res, 429, "rate_limited");
    expect(Number(res.headers["retry-after"])).toBeGreaterThan(0);
  });

  it("answers from the alias's fallback when the primary fails, and says so", async () => {
    app.model.failing.set("v1", new ModelFailedError("boom"));
    const res = await app.request("POST", "/v2/models/iris/infer", { as: caller, json: IRIS_INPUT });
    expect(res.status).toBe(200);
    expect(res.headers).toMatchObject({ "x-model-version": "2", "x-model-fallback-from": "1", "x-model-alias": "prod" });
  });

  it("maps a model failure to 502 and a model that is not ready to 503, keeping the version headers", async () => {
    app.model.failing.set("v2", new ModelFailedError("the model failed (status 500)"));
    const failed = await app.request("POST", "/v2/models/iris/versions/2/infer", { as: caller, json: IRIS_INPUT, requestId: "r-502" });
    expectError(failed, 502, "model_error");
    expect(failed.headers).toMatchObject({ "x-model-version": "2", "x-model-name": "iris" });
    expect(app.usage.stored.get("r-502")?.status).toBe(502);

    app.model.failing.set("v2", new ServiceUnavailableError("not ready", { retryAfterSeconds: 5 }));
    const notReady = await app.request("POST", "/v2/models/iris/versions/2/infer", { as: caller, json: IRIS_INPUT, requestId: "r-503" });
    expectError(notReady, 503, "service_unavailable");
    expect(notReady.headers["retry-after"]).toBe("5");
    expect(app.usage.stored.has("r-503")).toBe(false);
  });

  it("fails closed with 503 when usage cannot be recorded", async () => {
    app.usage.failWith = new Error("throttled");
    const res = await app.request("POST", "/v2/models/iris/infer", { as: caller, json: IRIS_INPUT, requestId: "r-unmetered" });
    expectError(res, 503, "service_unavailable");
    expect(app.usage.stored.has("r-unmetered")).toBe(false);
  });

  it("hands a sampled copy to the shadow dispatcher when the alias has a shadow", async () => {
    app.registry.addModel(
      { model: "iris" },
      [version("iris", 1), version("iris", 2)],
      [alias("iris", "prod", { targets: [{ version: 1, weight: 100 }], shadow: { version: 2, percent: 100 } })],
    );
    const res = await app.request("POST", "/v2/models/iris/infer", { as: caller, json: IRIS_INPUT, requestId: "r-shadowed" });
    expect(res.status).toBe(200);
    expect(app.shadow.dispatched).toEqual([
      expect.objectContaining({ requestId: "r-shadowed", version: 2, variantName: "v2", tenantId: "acme" }),
    ]);
  });
});

describe("POST /v2/models/{model}/versions/{version}/infer", () => {
  it("serves a version number (no alias header) and an alias name", async () => {
    const byNumber = await app.request("POST", "/v2/models/iris/versions/2/infer", { as: caller, json: IRIS_INPUT });
    expect(byNumber.status).toBe(200);
    expect(byNumber.headers["x-model-version"]).toBe("2");
    expect(byNumber.headers["x-model-alias"]).toBeUndefined();
    const byAlias = await app.request("POST", "/v2/models/iris/versions/canary/infer", { as: caller, json: IRIS_INPUT });
    expect(byAlias.headers).toMatchObject({ "x-model-version": "2", "x-model-alias": "canary" });
  });

  it("is 404 for a version that does not exist, a retired or unknown alias, and a malformed selector", async () => {
    expectError(await app.request("POST", "/v2/models/iris/versions/9/infer", { as: caller, json: IRIS_INPUT }), 404, "not_found");
    expectError(await app.request("POST", "/v2/models/iris/versions/staging/infer", { as: caller, json: IRIS_INPUT }), 404, "not_found");
    expectError(await app.request("POST", "/v2/models/iris/versions/Bad_Name/infer", { as: caller, json: IRIS_INPUT }), 404, "not_found");
  });

  it("is 503 with Retry-After for a version that is registered but not served yet", async () => {
    app.registry.addModel(
      { model: "iris" },
      [version("iris", 1, "registered")],
      [alias("iris", "prod", { targets: [{ version: 1, weight: 100 }] })],
    );
    const res = await app.request("POST", "/v2/models/iris/infer", { as: caller, json: IRIS_INPUT });
    expectError(res, 503, "service_unavailable");
    expect(res.headers["retry-after"]).toBe("5");
  });
});

describe("POST /v1/models/{model}/invoke", () => {
  it("passes any body through untouched, binary included, with ?version= and ?alias=", async () => {
    const bytes = Uint8Array.from([0, 255, 1, 254, 128]);
    const res = await app.request("POST", "/v1/models/iris/invoke", {
      as: caller,
      body: bytes,
      headers: { "content-type": "application/octet-stream" },
      query: { version: "2" },
    });
    expect(res.status).toBe(200);
    expect(res.headers).toMatchObject({ "content-type": "application/octet-stream", "x-model-version": "2" });
    expect([...res.bytes]).toEqual([...bytes]);
    const csv = await app.request("POST", "/v1/models/iris/invoke", {
      as: caller,
      body: "5.1,3.5,1.4,0.2",
      headers: { "content-type": "text/csv", accept: "text/csv" },
      query: { alias: "canary" },
    });
    expect(csv.text).toBe("5.1,3.5,1.4,0.2");
    expect(csv.headers["x-model-alias"]).toBe("canary");
    expect(app.model.calls.at(-1)).toMatchObject({ contentType: "text/csv", accept: "text/csv", variantName: "v2" });
  });

  it("is 400 for both selectors at once and for a malformed ?version=", async () => {
    const both = { version: "1", alias: "prod" };
    expectError(await app.request("POST", "/v1/models/iris/invoke", { as: caller, body: "x", query: both }), 400, "invalid_request");
    expectError(
      await app.request("POST", "/v1/models/iris/invoke", { as: caller, body: "x", query: { version: "01" } }),
      400,
      "invalid_request",
    );
  });

  it("is 413 past the body limit and 403 without the invoke scope", async () => {
    expectError(await app.request("POST", "/v1/models/iris/invoke", { as: caller, body: "x".repeat(20_000) }), 413, "payload_too_large");
    expectError(await app.request("POST", "/v1/models/iris/invoke", { as: principal({ scopes: [] }), body: "x" }), 403, "forbidden");
  });
});

describe("model metadata and readiness", () => {
  it("GET /v2/health/ready needs no caller", async () => {
    const res = await app.request("GET", "/v2/health/ready", { requestId: "r-health" });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ ready: true });
    expect(res.headers["x-request-id"]).toBe("r-health");
  });

  it("GET /v2/models/{model} describes the version the default alias serves", async () => {
    const res = await app.request("GET", "/v2/models/iris", { as: caller });
    expect(res.status).toBe(200);
    expect(res.headers).toMatchObject({ "x-model-version": "1", "x-model-alias": "prod" });
    expect(res.json()).toEqual({
      name: "iris",
      versions: ["1", "2", "3"],
      platform: "onnxruntime_onnx",
      inputs: [{ name: "input", datatype: "FP32", shape: [-1, 4] }],
      outputs: [{ name: "label", datatype: "INT64", shape: [-1] }],
      parameters: { description: "Iris classifier" },
    });
  });

  it("GET /v2/models/{model} and …/ready are 403 without the scope, 404 for models not granted or unknown", async () => {
    for (const path of ["/v2/models/iris", "/v2/models/iris/ready"]) {
      expectError(await app.request("GET", path, { as: principal({ scopes: ["usage:read"] }) }), 403, "forbidden");
      expectError(await app.request("GET", path, { as: principal({ models: ["other"] }) }), 404, "not_found");
      expectError(await app.request("GET", path.replace("iris", "nope"), { as: caller }), 404, "not_found");
    }
  });

  it("GET /v2/models/{model}/ready is 200 when served and 503 with Retry-After when not", async () => {
    const ready = await app.request("GET", "/v2/models/iris/ready", { as: caller });
    expect(ready.status).toBe(200);
    expect(ready.json()).toEqual({ name: "iris", ready: true });
    app.registry.addModel(
      { model: "iris" },
      [version("iris", 1, "registered")],
      [alias("iris", "prod", { targets: [{ version: 1, weight: 100 }] })],
    );
    const notReady = await app.request("GET", "/v2/models/iris/ready", { as: caller });
    expectError(notReady, 503, "service_unavailable");
    expect(notReady.headers["retry-after"]).toBe("5");
  });

  it("GET /v1/models lists only the models granted to the caller's tenant, in OpenAI's list shape", async () => {
    const res = await app.request("GET", "/v1/models", { as: caller });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({
      object: "list",
      data: [
        {
          id: "iris",
          object: "model",
          created: Date.parse("2026-11-01T00:00:00Z") / 1000,
          owned_by: "modelgate",
          description: "Iris classifier",
          defaultAlias: "prod",
          aliases: ["canary", "prod"],
        },
      ],
    });
    const all = await app.request("GET", "/v1/models", { as: principal({ models: ["*"], scopes: [] }) });
    expect(all.json().data.map((m: { id: string }) => m.id)).toEqual(["iris", "other", "tinylm"]);
    expectError(await app.request("GET", "/v1/models"), 401, "unauthorized");
  });
});
