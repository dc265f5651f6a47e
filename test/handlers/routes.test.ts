import { createHash } from "node:crypto";
import { describe, expect, it } from "@jest/globals";
import { ROUTES } from "../../functions/contract/routes";
import { newFileId } from "../../functions/core/batch/ids";
import { fileKey } from "../../functions/core/batch/ports";
import { createBatch, createFile } from "../../functions/core/batch/service";
import { IRIS_INPUT, principal, seedEmbeddingModel, seedModels, type TestApp, testApp } from "./app";
import { ADMIN_ARN, type RequestInit } from "./request";

interface Fixture {
  readonly app: TestApp;
  readonly keyId: string;
  readonly upload: string;
  /** A batch input file of acme's, a batch of it, and an object uploaded (presigned) but not yet a file. */
  readonly fileId: string;
  readonly batchId: string;
  readonly uploadedId: string;
}

const LINE = JSON.stringify({
  custom_id: "a",
  method: "POST",
  url: "/v1/chat/completions",
  body: { model: "tinylm", messages: [{ role: "user", content: "hi" }] },
});
const MULTIPART = [
  "--b0undary",
  'Content-Disposition: form-data; name="purpose"',
  "",
  "batch",
  "--b0undary",
  'Content-Disposition: form-data; name="file"; filename="in.jsonl"',
  "Content-Type: application/jsonl",
  "",
  LINE,
  "--b0undary--",
  "",
].join("\r\n");

/** A minimal valid request per route: its path with the fixture's names, and what it must carry. */
const MINIMAL: Record<string, (f: Fixture) => [string, RequestInit]> = {
  "GET /v2/health/ready": () => ["/v2/health/ready", {}],
  "GET /v2/models/{model}": () => ["/v2/models/iris", { as: principal() }],
  "GET /v2/models/{model}/ready": () => ["/v2/models/iris/ready", { as: principal() }],
  "POST /v2/models/{model}/infer": () => ["/v2/models/iris/infer", { as: principal(), json: IRIS_INPUT }],
  "POST /v2/models/{model}/versions/{version}/infer": () => ["/v2/models/iris/versions/1/infer", { as: principal(), json: IRIS_INPUT }],
  "POST /v1/models/{model}/invoke": () => [
    "/v1/models/iris/invoke",
    { as: principal(), body: "1,2,3,4", headers: { "content-type": "text/csv" } },
  ],
  "POST /v1/chat/completions": () => [
    "/v1/chat/completions",
    { as: principal(), json: { model: "tinylm", messages: [{ role: "user", content: "hi" }] } },
  ],
  "POST /v1/embeddings": () => ["/v1/embeddings", { as: principal(), json: { model: "tinyembed", input: "hi" } }],
  "POST /v1/completions": () => ["/v1/completions", { as: principal(), json: { model: "tinylm", prompt: "hi", stream: true } }],
  "GET /v1/models": () => ["/v1/models", { as: principal() }],
  "GET /v1/usage": () => ["/v1/usage", { as: principal() }],
  "GET /v1/usage/records": () => ["/v1/usage/records", { as: principal() }],
  "GET /v1/invoices": () => ["/v1/invoices", { as: principal() }],
  "GET /v1/invoices/{invoiceId}": () => ["/v1/invoices/inv-acme-2026-10", { as: principal() }],
  "POST /v1/files": () => [
    "/v1/files",
    { as: principal(), body: MULTIPART, headers: { "content-type": "multipart/form-data; boundary=b0undary" } },
  ],
  "GET /v1/files/{fileId}": (f) => [`/v1/files/${f.fileId}`, { as: principal() }],
  "DELETE /v1/files/{fileId}": (f) => [`/v1/files/${f.fileId}`, { as: principal() }],
  "GET /v1/files/{fileId}/content": (f) => [`/v1/files/${f.fileId}/content`, { as: principal() }],
  "POST /v1/batch-uploads": () => ["/v1/batch-uploads", { as: principal(), json: { filename: "big.jsonl", bytes: 20_000_000 } }],
  "POST /v1/batch-uploads/{fileId}/complete": (f) => [`/v1/batch-uploads/${f.uploadedId}/complete`, { as: principal() }],
  "POST /v1/batches": (f) => [
    "/v1/batches",
    { as: principal(), json: { input_file_id: f.fileId, endpoint: "/v1/chat/completions", completion_window: "24h" } },
  ],
  "GET /v1/batches": () => ["/v1/batches", { as: principal() }],
  "GET /v1/batches/{batchId}": (f) => [`/v1/batches/${f.batchId}`, { as: principal() }],
  "POST /v1/batches/{batchId}/cancel": (f) => [`/v1/batches/${f.batchId}/cancel`, { as: principal() }],
  "POST /admin/tenants": () => ["/admin/tenants", { json: { tenantId: "globex", models: [] } }],
  "GET /admin/tenants": () => ["/admin/tenants", {}],
  "GET /admin/tenants/{tenantId}": () => ["/admin/tenants/acme", {}],
  "PATCH /admin/tenants/{tenantId}": () => ["/admin/tenants/acme", { json: { plan: "gold" } }],
  "DELETE /admin/tenants/{tenantId}": () => ["/admin/tenants/acme", {}],
  "POST /admin/tenants/{tenantId}/disable": () => ["/admin/tenants/acme/disable", {}],
  "POST /admin/tenants/{tenantId}/enable": () => ["/admin/tenants/acme/enable", {}],
  "POST /admin/tenants/{tenantId}/keys": () => ["/admin/tenants/acme/keys", {}],
  "GET /admin/tenants/{tenantId}/keys": () => ["/admin/tenants/acme/keys", {}],
  "PATCH /admin/tenants/{tenantId}/keys/{keyId}": (f) => [`/admin/tenants/acme/keys/${f.keyId}`, { json: { limits: {} } }],
  "DELETE /admin/tenants/{tenantId}/keys/{keyId}": (f) => [`/admin/tenants/acme/keys/${f.keyId}`, {}],
  "POST /admin/tenants/{tenantId}/keys/{keyId}/rotate": (f) => [`/admin/tenants/acme/keys/${f.keyId}/rotate`, {}],
  "GET /admin/tenants/{tenantId}/usage": () => ["/admin/tenants/acme/usage", {}],
  "GET /admin/tenants/{tenantId}/usage/records": () => ["/admin/tenants/acme/usage/records", {}],
  "POST /admin/usage/reconcile": () => ["/admin/usage/reconcile", { json: { from: "2026-11-01", to: "2026-11-30" } }],
  "GET /admin/models": () => ["/admin/models", {}],
  "GET /admin/models/{model}": () => ["/admin/models/iris", {}],
  "GET /admin/models/{model}/versions": () => ["/admin/models/iris/versions", {}],
  "GET /admin/models/{model}/versions/{version}": () => ["/admin/models/iris/versions/1", {}],
  "POST /admin/models/{model}/uploads": () => ["/admin/models/iris/uploads", { json: { fileName: "model.onnx" } }],
  "POST /admin/models/{model}/versions": (f) => [
    "/admin/models/iris/versions",
    { json: { upload: f.upload, sha256: sha256(ARTIFACT), size: ARTIFACT.length } },
  ],
  "POST /admin/models/{model}/versions/{version}/retire": () => ["/admin/models/iris/versions/3/retire", {}],
  "GET /admin/models/{model}/aliases/{alias}": () => ["/admin/models/iris/aliases/prod", {}],
  "PUT /admin/models/{model}/aliases/{alias}": () => ["/admin/models/iris/aliases/prod", { json: { target: 2, expectedRevision: 3 } }],
  "GET /admin/models/{model}/aliases/{alias}/history": () => ["/admin/models/iris/aliases/prod/history", {}],
  "POST /admin/models/{model}/aliases/{alias}/rollback": () => ["/admin/models/iris/aliases/prod/rollback", {}],
  "POST /admin/models/{model}/prices": () => ["/admin/models/iris/prices", { json: { perRequest: "0.001" } }],
  "GET /admin/models/{model}/prices": () => ["/admin/models/iris/prices", {}],
  "GET /admin/prices": () => ["/admin/prices", {}],
  "GET /admin/usage": () => ["/admin/usage", {}],
  "GET /admin/showback": () => ["/admin/showback", { query: { month: "2026-11" } }],
  "GET /admin/pools": () => ["/admin/pools", {}],
  "GET /admin/tenants/{tenantId}/invoices/preview": () => ["/admin/tenants/acme/invoices/preview", {}],
  "POST /admin/invoices/issue": () => ["/admin/invoices/issue", { json: { month: "2026-10", tenant: "acme" } }],
  "GET /admin/invoices": () => ["/admin/invoices", {}],
  "GET /admin/invoices/{invoiceId}": () => ["/admin/invoices/inv-acme-2026-10", {}],
};

const ARTIFACT = new TextEncoder().encode("artifact");
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Showback with no pools: the route answers, with nothing to split. */
const NO_POOLS = {
  pools: { pools: async () => [] },
  costs: {
    poolCost: async () => {
      throw new Error("no pool to cost");
    },
  },
};

async function fixture(): Promise<Fixture> {
  const app = testApp({ showback: NO_POOLS });
  seedModels(app);
  seedEmbeddingModel(app);
  const { keyId } = await app.tenantWithKey("acme");
  const upload = "uploads/iris/route-check/model.onnx";
  app.artifacts.put(upload, ARTIFACT);
  // An issued invoice (October has closed by the app's clock), for the routes that read one.
  const issued = await app.request("POST", "/admin/invoices/issue", { adminArn: ADMIN_ARN, json: { month: "2026-10", tenant: "acme" } });
  if (issued.status !== 201) throw new Error(`issuing the fixture's invoice: ${issued.status} ${issued.text}`);
  // An alias with an earlier target, so that a rollback has one to restore.
  await app.registry.setAlias("iris", "prod", { targets: [{ version: 2, weight: 100 }] }, 1, "seed");
  await app.registry.setAlias("iris", "prod", { targets: [{ version: 1, weight: 100 }] }, 2, "seed");
  const api = app.batch;
  const file = await createFile(api, principal(), { filename: "in.jsonl", purpose: "batch", bytes: new TextEncoder().encode(LINE) });
  const batch = await createBatch(api, principal(), { input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
  const uploadedId = newFileId();
  await api.objects.put(fileKey("acme", uploadedId), new TextEncoder().encode(LINE));
  return { app, keyId, upload, fileId: String(file.id), batchId: String(batch.id), uploadedId };
}

const routeKey = (r: { method: string; path: string }) => `${r.method} ${r.path}`;

describe("the route table", () => {
  it("has a minimal request in this file for every route, and no request for a route it lacks", () => {
    expect(Object.keys(MINIMAL).sort()).toEqual(ROUTES.map(routeKey).sort());
  });

  for (const route of ROUTES) {
    it(`${routeKey(route)} is served by the ${route.handler} function`, async () => {
      const f = await fixture();
      const build = MINIMAL[routeKey(route)];
      if (!build) throw new Error(`no minimal request for ${routeKey(route)}`);
      const [path, init] = build(f);
      const res = await f.app.request(route.method, path, route.auth === "iam" ? { adminArn: ADMIN_ARN, ...init } : init);
      expect(res.text).not.toMatch(/no route for/);
      // The body in the failure message: a 4xx here names what the minimal request lacks.
      expect(res.status >= 200 && res.status < 300 ? "2xx" : `${res.status} ${res.text}`).toBe("2xx");
      expect(res.headers["x-request-id"]).toEqual(expect.any(String));
    });
  }
});
