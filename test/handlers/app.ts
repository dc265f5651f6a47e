import { expect } from "@jest/globals";
import { createAdminHandler } from "../../functions/admin/create-admin-handler";
import type { AdminDeps } from "../../functions/admin/deps";
import { createAuthorizerHandler } from "../../functions/authorizer/create-authorizer-handler";
import { createBatchHandler } from "../../functions/batch/create-batch-handler";
import { MODEL_ROUTES } from "../../functions/contract/routes";
import { type CreatedKey, createKey, type NewKey } from "../../functions/core/api-keys";
import { type BatchWorkerDeps, runBatchStep } from "../../functions/core/batch/worker";
import type { TenantLimits } from "../../functions/core/limits/tenant-limits";
import type { Principal } from "../../functions/core/principal";
import type { Alias, EmbeddingSpec, ModelVersion } from "../../functions/core/registry";
import { createTenant } from "../../functions/core/tenants";
import { logger } from "../../functions/http/logger";
import type { InferenceMetricsPublisher } from "../../functions/http/metrics";
import { createInvokeHandler } from "../../functions/invoke/create-invoke-handler";
import { createLlmHandler } from "../../functions/llm/create-llm-handler";
import { createShadowHandler } from "../../functions/shadow/create-shadow-handler";
import { createUsageHandler } from "../../functions/usage/create-usage-handler";
import { authorizerEvent } from "../../infra/local/gateway/events";
import { MemoryLimitStore } from "../support/memory-limit-store";
import { MemoryAccessLog } from "./memory/access";
import { MemoryArtifactStore } from "./memory/artifacts";
import { MemoryBatchObjects, MemoryBatchQueue, MemoryBatchStore } from "./memory/batch";
import { MemoryIdentityStore } from "./memory/identity";
import { MemoryInvoiceStore } from "./memory/invoices";
import { EMBEDDING_DIMENSIONS, MemoryModelEndpoint, RecordingShadowDispatcher } from "./memory/model";
import { MemoryRegistry } from "./memory/registry";
import { MemoryUsageStore } from "./memory/usage";
import {
  callStreaming,
  incoming,
  proxyRequest,
  type RequestInit,
  type StreamedTestResponse,
  type TestResponse,
  toResponse,
} from "./request";

export interface TestAppOptions {
  readonly maxBodyBytes?: number;
  readonly maxKeysPerTenant?: number;
  /** Where the invoke and LLM functions publish per-request metrics; none by default. */
  readonly metrics?: InferenceMetricsPublisher;
  /** The admin function's showback (pools and their cost source); none by default, as a host without one. */
  readonly showback?: AdminDeps["showback"];
  /** File content past this many bytes is a redirect to a presigned GET (the batch function's default otherwise). */
  readonly maxDirectContentBytes?: number;
}

/**
 * Every HTTP function built by its factory on in-memory adapters, behind one `request` that
 * routes by the shared route table, as Hono's `app.request()` does for a Hono app. The clock
 * is fixed (requests are received at `clock.now` unless they say otherwise); tests move it.
 */
export function testApp(opts: TestAppOptions = {}) {
  // One log line per request is the handlers' contract in production, noise in a test run.
  logger.setLogLevel("SILENT");
  const clock = { now: Date.parse("2026-11-20T10:00:00Z") };
  const maxBodyBytes = opts.maxBodyBytes ?? 16 * 1024;
  const identity = new MemoryIdentityStore();
  const registry = new MemoryRegistry();
  const usage = new MemoryUsageStore();
  const access = new MemoryAccessLog();
  const limits = new MemoryLimitStore();
  const model = new MemoryModelEndpoint();
  const shadow = new RecordingShadowDispatcher();
  const artifacts = new MemoryArtifactStore();
  const invoices = new MemoryInvoiceStore();
  const now = () => clock.now;
  const inference = {
    registry,
    invoker: model,
    usage,
    limits,
    shadow,
    invokeTimeoutMs: 1000,
    maxBodyBytes,
    now,
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
  };
  const llm = createLlmHandler({ ...inference, streamTimeoutMs: 5000 });
  const batchParts = { store: new MemoryBatchStore(), objects: new MemoryBatchObjects(), queue: new MemoryBatchQueue(), now };
  const worker: BatchWorkerDeps = { ...batchParts, inference, lineConcurrency: 2 };
  /** The batch worker's queue, worked off as the worker function would (every message, and those they send). */
  const batch = { ...batchParts, worker, work: () => batchParts.queue.drain((m) => runBatchStep(worker, m)) };
  const handlers = {
    batch: createBatchHandler({
      ...batchParts,
      maxBodyBytes,
      ...(opts.maxDirectContentBytes !== undefined ? { maxDirectContentBytes: opts.maxDirectContentBytes } : {}),
    }),
    invoke: createInvokeHandler(inference),
    usage: createUsageHandler({ usage, limits, currency: "USD", invoices: () => invoices }),
    admin: createAdminHandler({
      identity,
      registry,
      usage,
      reconciliation: { access, records: usage, usage, modelRoutes: MODEL_ROUTES },
      artifacts: () => artifacts,
      invoices: () => invoices,
      invoiceCloseDelaySeconds: 2100,
      usageRetentionDays: 400,
      versionActivation: "automatic",
      platformName: "mg",
      maxBodyBytes,
      maxKeysPerTenant: opts.maxKeysPerTenant ?? 3,
      currency: "USD",
      registryCacheTtlMs: 5000,
      now,
      ...(opts.showback ? { showback: opts.showback } : {}),
    }),
  };
  const authorizer = createAuthorizerHandler({ keys: identity });
  const shadowHandler = createShadowHandler({ invoker: model, usage, invokeTimeoutMs: 1000, now });

  /** `METHOD /path` through its route's handler. `apiKey` runs the authorizer first, as the gateway does. */
  async function request(method: string, path: string, init: RequestInit & { apiKey?: string } = {}): Promise<StreamedTestResponse> {
    const at = { receivedAt: clock.now, ...init };
    let authorized = at;
    if (init.apiKey !== undefined) {
      const allowed = await authorizer(
        authorizerEvent(incoming(method, path, { ...at, headers: { ...at.headers, authorization: `Bearer ${init.apiKey}` } })),
      );
      authorized = { ...at, authorizer: { ...allowed.context, principalId: allowed.principalId } };
    }
    const { route, event } = proxyRequest(method, path, authorized);
    const answered: StreamedTestResponse =
      route.handler === "llm"
        ? await callStreaming(llm, event)
        : await handlers[route.handler](event).then((r) => {
            const res = toResponse(r);
            return { ...res, pieces: [res.text] };
          });
    // The gateway's access log line, with the authorizer context's caller.
    const context = event.requestContext.authorizer ?? {};
    access.log({
      requestId: event.requestContext.requestId,
      time: new Date(event.requestContext.requestTimeEpoch).toISOString(),
      httpMethod: method,
      resourcePath: route.path,
      path: event.path,
      status: answered.status,
      ...(typeof context.tenantId === "string" ? { tenantId: context.tenantId } : {}),
      ...(typeof context.keyId === "string" ? { keyId: context.keyId } : {}),
    });
    return answered;
  }

  /** A tenant (active, granted `models`) and one key of it, made through the core as the admin API does. */
  async function tenantWithKey(
    tenantId: string,
    t: { models?: string[]; limits?: TenantLimits } = {},
    key: NewKey = {},
  ): Promise<CreatedKey> {
    await createTenant(identity, { tenantId, models: t.models ?? ["*"], ...(t.limits ? { limits: t.limits } : {}) }, new Date(clock.now));
    return createKey(identity, tenantId, key, new Date(clock.now));
  }

  return {
    clock,
    identity,
    registry,
    usage,
    access,
    limits,
    model,
    shadow,
    artifacts,
    invoices,
    handlers,
    authorizer,
    shadowHandler,
    batch,
    request,
    tenantWithKey,
  };
}

export type TestApp = ReturnType<typeof testApp>;

/** A caller as the authorizer would describe it; every scope and every model unless told otherwise. */
export function principal(p: Partial<Principal> = {}): Principal {
  return { tenantId: "acme", keyId: "AcmeKey000000001", scopes: ["invoke", "usage:read"], models: ["*"], plan: "default", ...p };
}

export function version(model: string, v: number, status: ModelVersion["status"] = "ready"): ModelVersion {
  return {
    model,
    version: v,
    runtime: "onnx",
    status,
    endpointName: `mg-${model}`,
    variantName: `v${v}`,
    artifactUri: `s3://mg-models/models/${model}/${v}/model.onnx`,
    createdAt: "2026-11-01T00:00:00.000Z",
    instanceType: "ml.g5.xlarge",
    inputs: [{ name: "input", datatype: "FP32", shape: [-1, 4] }],
    outputs: [{ name: "label", datatype: "INT64", shape: [-1] }],
  };
}

export function alias(model: string, name: string, target: Pick<Alias, "targets"> & Partial<Alias>): Alias {
  return { model, alias: name, revision: 1, updatedAt: "2026-11-01T00:00:00.000Z", updatedBy: "seed", ...target };
}

/**
 * The registry most tests start from: `iris` (versions 1 and 2 ready, 3 registered; `prod` → 1
 * with fallback 2, `canary` → 2), `other` (one version), for grant checks, and the LLM
 * `tinylm` (`prod` → 1, `staging` → 2).
 */
export function seedModels(app: TestApp): void {
  app.registry.addModel(
    { model: "iris", description: "Iris classifier" },
    [version("iris", 1), version("iris", 2), version("iris", 3, "registered")],
    [
      alias("iris", "prod", { targets: [{ version: 1, weight: 100 }], fallback: 2 }),
      alias("iris", "canary", { targets: [{ version: 2, weight: 100 }] }),
    ],
  );
  app.registry.addModel({ model: "other" }, [version("other", 1)], [alias("other", "prod", { targets: [{ version: 1, weight: 100 }] })]);
  app.registry.addModel(
    { model: "tinylm" },
    [
      { ...version("tinylm", 1), runtime: "lmi" },
      { ...version("tinylm", 2), runtime: "lmi" },
    ],
    [
      alias("tinylm", "prod", { targets: [{ version: 1, weight: 100 }] }),
      alias("tinylm", "staging", { targets: [{ version: 2, weight: 100 }] }),
    ],
  );
}

/**
 * The embedding model `tinyembed`: vectors of EMBEDDING_DIMENSIONS that may be shortened
 * (`prod` → 1, `staging` → 2), priced per input token.
 */
export function seedEmbeddingModel(app: TestApp, embedding: EmbeddingSpec = { dimensions: EMBEDDING_DIMENSIONS, truncatable: true }): void {
  app.registry.addModel(
    { model: "tinyembed", embedding },
    [
      { ...version("tinyembed", 1), runtime: "lmi" },
      { ...version("tinyembed", 2), runtime: "lmi" },
    ],
    [
      alias("tinyembed", "prod", { targets: [{ version: 1, weight: 100 }] }),
      alias("tinyembed", "staging", { targets: [{ version: 2, weight: 100 }] }),
    ],
  );
}

/** A valid KServe v2 request for iris. */
export const IRIS_INPUT = { inputs: [{ name: "input", shape: [1, 4], datatype: "FP32", data: [5.1, 3.5, 1.4, 0.2] }] };

/** The JSON error shape every refusal has, naming the request it answers; returns the message. */
export function expectError(res: TestResponse, status: number, type: string): string {
  // Status and body together, so a failure shows what came back (Jest's expect takes no message).
  expect({ status: res.status, body: res.text }).toEqual({ status, body: expect.any(String) });
  expect(res.headers["content-type"]).toBe("application/json");
  const requestId = res.headers["x-request-id"];
  expect(requestId).toBeTruthy();
  expect(res.json()).toEqual({ error: { type, message: expect.any(String), request_id: requestId } });
  return res.json().error.message;
}
