import { describe, expect, it } from "@jest/globals";
import { call, e2ePlatform, inferBody, probabilities, SETOSA, VIRGINICA } from "./helpers";

describe("inference through the gateway", () => {
  it("answers KServe v2 with the real model output from the prod version", async () => {
    const res = await call("/v2/models/iris/infer", { key: e2ePlatform().apiKey, body: inferBody([SETOSA, VIRGINICA]) });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-model-version")).toBe("1");
    expect(res.headers.get("x-model-alias")).toBe("prod");
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const p = probabilities(res.body);
    expect(p).toHaveLength(6);
    expect(p.slice(0, 3).indexOf(Math.max(...p.slice(0, 3)))).toBe(0); // setosa
    expect(p.slice(3).indexOf(Math.max(...p.slice(3)))).toBe(2); // virginica
    expect(res.body.outputs.find((o: { name: string }) => o.name === "label").data).toEqual([0, 2]);
  });

  it("with the authorizer cache on, needs the key in Authorization (x-api-key alone is a 401, as on API Gateway)", async () => {
    const res = await call("/v2/models/iris/infer", { headers: { "x-api-key": e2ePlatform().apiKey }, body: inferBody() });
    expect(res.status).toBe(401);
  });

  it("serves an explicit version or alias, and versions answer differently", async () => {
    const v1 = await call("/v2/models/iris/versions/1/infer", { key: e2ePlatform().apiKey, body: inferBody() });
    const v2 = await call("/v2/models/iris/versions/2/infer", { key: e2ePlatform().apiKey, body: inferBody() });
    const staging = await call("/v2/models/iris/versions/staging/infer", { key: e2ePlatform().apiKey, body: inferBody() });
    expect([v1.status, v2.status, staging.status]).toEqual([200, 200, 200]);
    expect(v2.headers.get("x-model-version")).toBe("2");
    expect(v2.headers.get("x-model-alias")).toBeNull();
    expect(staging.headers.get("x-model-alias")).toBe("staging");
    expect(probabilities(staging.body)).toEqual(probabilities(v2.body));
    expect(probabilities(v1.body)).not.toEqual(probabilities(v2.body));
  });

  it("passes raw invocations through with ?version= and ?alias=", async () => {
    const raw = JSON.stringify(inferBody());
    const byVersion = await call("/v1/models/iris/invoke?version=2", {
      key: e2ePlatform().apiKey,
      raw,
      headers: { "content-type": "application/json" },
    });
    expect(byVersion.status).toBe(200);
    expect(byVersion.headers.get("x-model-version")).toBe("2");
    const byAlias = await call("/v1/models/iris/invoke?alias=prod", {
      key: e2ePlatform().apiKey,
      raw,
      headers: { "content-type": "application/json" },
    });
    expect(byAlias.headers.get("x-model-version")).toBe("1");
    const both = await call("/v1/models/iris/invoke?alias=prod&version=1", { key: e2ePlatform().apiKey, raw });
    expect(both.status).toBe(400);
  });

  it("describes the model (KServe metadata), its readiness and the server's", async () => {
    const meta = await call("/v2/models/iris", { key: e2ePlatform().apiKey });
    expect(meta.status).toBe(200);
    expect(meta.body).toMatchObject({ name: "iris", versions: ["1", "2"], platform: "onnxruntime_onnx" });
    expect(meta.body.inputs[0]).toMatchObject({ name: "input", datatype: "FP32" });
    expect((await call("/v2/models/iris/ready", { key: e2ePlatform().apiKey })).body).toEqual({ name: "iris", ready: true });
    expect((await call("/v2/health/ready")).status).toBe(200);
  });

  it("lists the models granted to the caller", async () => {
    const res = await call("/v1/models", { key: e2ePlatform().apiKey });
    expect(res.status).toBe(200);
    expect(res.body.object).toBe("list");
    expect(res.body.data.map((m: { id: string }) => m.id)).toEqual([
      "iris",
      "iris-al",
      "iris-b",
      "iris-fx",
      "iris-ic",
      "iris-pr",
      "iris-ui",
      "iris-up",
      "tinyembed",
      "tinylm",
      "tinylm-ic",
      "tinylm-slow",
    ]);
    expect(res.body.data[0]).toMatchObject({ object: "model", owned_by: "modelgate", defaultAlias: "prod", created: expect.any(Number) });
  });
});
