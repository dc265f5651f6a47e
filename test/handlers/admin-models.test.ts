import { createHash } from "node:crypto";
import { beforeEach, describe, expect, it } from "@jest/globals";
import { alias, expectError, seedModels, type TestApp, testApp, version } from "./app";
import { ADMIN_ARN, type RequestInit } from "./request";

let app: TestApp;
const admin = (method: string, path: string, init: RequestInit = {}) => app.request(method, path, { adminArn: ADMIN_ARN, ...init });
const ARTIFACT = new TextEncoder().encode("onnx bytes of a new version");
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Asks for an upload ticket and "uploads" the bytes to it, as the CLI does with S3. */
async function upload(bytes = ARTIFACT, model = "iris"): Promise<string> {
  const ticket = await admin("POST", `/admin/models/${model}/uploads`, { json: { fileName: "model.onnx" } });
  expect(ticket.status).toBe(201);
  app.artifacts.put(ticket.json().key, bytes);
  return ticket.json().key;
}

beforeEach(() => {
  app = testApp();
  seedModels(app);
});

describe("model and version reads", () => {
  it("GET /admin/models summarises every model", async () => {
    const res = await admin("GET", "/admin/models");
    expect(res.status).toBe(200);
    expect(res.json().models).toEqual([
      {
        model: "iris",
        description: "Iris classifier",
        defaultAlias: "prod",
        versions: 3,
        ready: 2,
        latest: 3,
        aliases: ["canary", "prod"],
      },
      { model: "other", defaultAlias: "prod", versions: 1, ready: 1, latest: 1, aliases: ["prod"] },
      { model: "tinylm", defaultAlias: "prod", versions: 2, ready: 2, latest: 2, aliases: ["prod", "staging"] },
    ]);
  });

  it("GET /admin/models/{model} and …/versions list versions in order; 404 for an unknown model", async () => {
    const model = await admin("GET", "/admin/models/iris");
    expect(model.json()).toMatchObject({ model: "iris", defaultAlias: "prod" });
    expect(model.json().aliases.map((a: { alias: string }) => a.alias)).toEqual(["canary", "prod"]);
    const versions = await admin("GET", "/admin/models/iris/versions");
    expect(versions.json().versions.map((v: { version: number; status: string }) => [v.version, v.status])).toEqual([
      [1, "ready"],
      [2, "ready"],
      [3, "registered"],
    ]);
    expectError(await admin("GET", "/admin/models/nope"), 404, "not_found");
    expectError(await admin("GET", "/admin/models/nope/versions"), 404, "not_found");
  });

  it("GET /admin/models/{model}/versions/{version}: 200, 404 for a missing version, 400 for a malformed one", async () => {
    expect((await admin("GET", "/admin/models/iris/versions/2")).json()).toMatchObject({ version: 2, variantName: "v2" });
    expectError(await admin("GET", "/admin/models/iris/versions/9"), 404, "not_found");
    expectError(await admin("GET", "/admin/models/iris/versions/two"), 400, "invalid_request");
  });
});

describe("upload → register → retire", () => {
  it("POST …/uploads hands out a unique staging key; 400 for a bad file name, 404 for an unknown model", async () => {
    const a = await admin("POST", "/admin/models/iris/uploads", { json: { fileName: "model.onnx" } });
    const b = await admin("POST", "/admin/models/iris/uploads", { json: { fileName: "model.onnx" } });
    expect(a.json()).toEqual({ bucket: "mg-models", key: expect.stringMatching(/^uploads\/iris\/.+\/model\.onnx$/) });
    expect(a.json().key).not.toBe(b.json().key);
    expectError(await admin("POST", "/admin/models/iris/uploads", { json: { fileName: "model.exe" } }), 400, "invalid_request");
    expectError(await admin("POST", "/admin/models/iris/uploads", { json: {} }), 400, "invalid_request");
    expectError(await admin("POST", "/admin/models/nope/uploads", { json: { fileName: "model.onnx" } }), 404, "not_found");
  });

  it("POST …/versions registers the verified upload as the next version (201) and moves the bytes into the model store", async () => {
    const key = await upload();
    const res = await admin("POST", "/admin/models/iris/versions", {
      json: { upload: key, sha256: sha256(ARTIFACT), size: ARTIFACT.byteLength },
    });
    expect(res.status).toBe(201);
    expect(res.json()).toMatchObject({
      model: "iris",
      version: 4,
      status: "registered",
      variantName: "v4",
      endpointName: "mg-iris",
      artifactUri: "s3://mg-models/models/iris/4/model.onnx",
      activation: "automatic",
    });
    expect(app.artifacts.objects.has("models/iris/4/model.onnx")).toBe(true);
    expect(app.artifacts.objects.has(key)).toBe(false);
  });

  it("POST …/versions on a model placed on a pool registers one more inference component there", async () => {
    const pooled = { endpointName: "mg-pool-shared", variantName: "AllTraffic" };
    app.registry.addModel(
      { model: "iris" },
      [1, 2].map((n) => ({ ...version("iris", n), ...pooled, inferenceComponentName: `mg-iris-v${n}` })),
      [alias("iris", "prod", { targets: [{ version: 1, weight: 100 }] })],
    );
    const res = await admin("POST", "/admin/models/iris/versions", {
      json: { upload: await upload(), sha256: sha256(ARTIFACT), size: ARTIFACT.byteLength },
    });
    expect(res.status).toBe(201);
    expect(res.json()).toMatchObject({ version: 3, ...pooled, inferenceComponentName: "mg-iris-v3" });
  });

  it("refuses a corrupted upload (400, and deletes it), a missing one (400), a taken number (409) and another model's key (400)", async () => {
    const key = await upload();
    const wrong = await admin("POST", "/admin/models/iris/versions", {
      json: { upload: key, sha256: "0".repeat(64), size: ARTIFACT.byteLength },
    });
    expect(expectError(wrong, 400, "invalid_request")).toMatch(/corrupted or partial/);
    expect(app.artifacts.objects.has(key)).toBe(false);
    const good = { sha256: sha256(ARTIFACT), size: ARTIFACT.byteLength };
    expectError(await admin("POST", "/admin/models/iris/versions", { json: { upload: key, ...good } }), 400, "invalid_request");
    expectError(
      await admin("POST", "/admin/models/iris/versions", { json: { upload: await upload(), ...good, version: 2 } }),
      409,
      "conflict",
    );
    expectError(
      await admin("POST", "/admin/models/iris/versions", { json: { upload: await upload(ARTIFACT, "other"), ...good } }),
      400,
      "invalid_request",
    );
    expectError(
      await admin("POST", "/admin/models/iris/versions", { json: { upload: key, sha256: "xyz", size: 1 } }),
      400,
      "invalid_request",
    );
    expectError(await admin("POST", "/admin/models/nope/versions", { json: { upload: key, ...good } }), 404, "not_found");
  });

  it("POST …/versions/{version}/retire retires an unused version (idempotently) and is 409 while an alias uses it", async () => {
    const res = await admin("POST", "/admin/models/iris/versions/3/retire");
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ version: 3, status: "retired" });
    expect((await admin("POST", "/admin/models/iris/versions/3/retire")).json()).toMatchObject({ status: "retired" });
    expect(expectError(await admin("POST", "/admin/models/iris/versions/1/retire"), 409, "conflict")).toMatch(/prod/);
    expectError(await admin("POST", "/admin/models/iris/versions/2/retire"), 409, "conflict");
    expectError(await admin("POST", "/admin/models/iris/versions/9/retire"), 404, "not_found");
  });
});

describe("aliases", () => {
  it("GET …/aliases/{alias}: 200, 404 for an unknown alias or model", async () => {
    expect((await admin("GET", "/admin/models/iris/aliases/prod")).json()).toMatchObject({ alias: "prod", revision: 1, fallback: 2 });
    expectError(await admin("GET", "/admin/models/iris/aliases/staging"), 404, "not_found");
    expectError(await admin("GET", "/admin/models/nope/aliases/prod"), 404, "not_found");
  });

  it("PUT moves an alias at the revision the caller saw, recording the admin's IAM identity; 409 when it moved since", async () => {
    const body = {
      target: [
        { version: 1, weight: 90 },
        { version: 2, weight: 10 },
      ],
      expectedRevision: 1,
    };
    const res = await admin("PUT", "/admin/models/iris/aliases/canary", { json: body });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ alias: "canary", revision: 2, updatedBy: ADMIN_ARN, targets: body.target });
    expectError(await admin("PUT", "/admin/models/iris/aliases/canary", { json: body }), 409, "conflict");
    const created = await admin("PUT", "/admin/models/iris/aliases/staging", { json: { target: 2, expectedRevision: 0 } });
    expect(created.json()).toMatchObject({ alias: "staging", revision: 1, targets: [{ version: 2, weight: 100 }] });
  });

  it("PUT is 400 for weights that do not sum to 100, a version not ready, a bad body; 404 for an unknown model", async () => {
    for (const json of [
      { target: [{ version: 1, weight: 50 }], expectedRevision: 1 },
      { target: 3, expectedRevision: 1 },
      { target: 9, expectedRevision: 1 },
      { target: 1, shadow: { version: 1, percent: 10 }, expectedRevision: 1 },
      { target: 1 },
      { target: "1", expectedRevision: 1 },
    ]) {
      expectError(await admin("PUT", "/admin/models/iris/aliases/canary", { json }), 400, "invalid_request");
    }
    expectError(
      await admin("PUT", "/admin/models/iris/aliases/canary", { body: "{", headers: { "content-type": "application/json" } }),
      400,
      "invalid_request",
    );
    expectError(await admin("PUT", "/admin/models/nope/aliases/canary", { json: { target: 1, expectedRevision: 0 } }), 404, "not_found");
  });

  it("history lists moves newest first; rollback restores the previous target as a move of its own", async () => {
    await admin("PUT", "/admin/models/iris/aliases/canary", { json: { target: 1, expectedRevision: 1 } });
    await admin("PUT", "/admin/models/iris/aliases/canary", { json: { target: 2, fallback: 1, expectedRevision: 2 } });
    const history = await admin("GET", "/admin/models/iris/aliases/canary/history");
    expect(history.status).toBe(200);
    expect(history.json().history.map((h: { revision: number }) => h.revision)).toEqual([3, 2]);
    const rolled = await admin("POST", "/admin/models/iris/aliases/canary/rollback");
    expect(rolled.status).toBe(200);
    expect(rolled.json()).toMatchObject({ revision: 4, targets: [{ version: 1, weight: 100 }], updatedBy: ADMIN_ARN });
    expect(rolled.json().fallback).toBeUndefined();
    const latest = (await admin("GET", "/admin/models/iris/aliases/canary/history", { query: { limit: "1" } })).json().history;
    expect(latest).toEqual([expect.objectContaining({ revision: 4, rollbackOf: 3 })]);
  });

  it("history is 404 for an unknown alias and 400 for a bad limit; rollback is 409 with nothing to go back to, 404 for an unknown alias", async () => {
    expectError(await admin("GET", "/admin/models/iris/aliases/staging/history"), 404, "not_found");
    expectError(await admin("GET", "/admin/models/iris/aliases/prod/history", { query: { limit: "0" } }), 400, "invalid_request");
    expectError(await admin("POST", "/admin/models/iris/aliases/prod/rollback"), 409, "conflict");
    expectError(await admin("POST", "/admin/models/iris/aliases/staging/rollback"), 404, "not_found");
  });
});
