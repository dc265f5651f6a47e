import { describe, expect, it } from "@jest/globals";
import type { APIGatewayProxyEvent } from "aws-lambda";
import { ForbiddenError, NotFoundError } from "../../functions/core/errors";
import { openModel } from "../../functions/core/model-access";
import type { RegistryReader } from "../../functions/core/ports";
import { type Principal, principalToContext } from "../../functions/core/principal";
import type { ModelRecord, ModelVersion } from "../../functions/core/registry";
import { pickWeighted } from "../../functions/core/routing";
import { createInvokeHandler } from "../../functions/invoke/create-invoke-handler";

function version(v: number, status: ModelVersion["status"]): ModelVersion {
  return {
    model: "iris",
    version: v,
    runtime: "onnx",
    status,
    endpointName: "mg-iris",
    variantName: `v${v}`,
    artifactUri: "s3://b/k",
    createdAt: "",
  };
}
const targets = [
  { version: 1, weight: 50 },
  { version: 2, weight: 50 },
];
// v2 is registered but not served yet: a caller routed to it is told the model is not ready.
const model: ModelRecord = {
  model: "iris",
  defaultAlias: "prod",
  versions: new Map([
    [1, version(1, "ready")],
    [2, version(2, "registered")],
  ]),
  aliases: new Map([["prod", { model: "iris", alias: "prod", targets, revision: 1, updatedAt: "", updatedBy: "" }]]),
};
const registry: RegistryReader = {
  getModel: async (name) => (name === "iris" ? model : undefined),
  listModels: async () => ["iris"],
} as RegistryReader;

/** A routing key the default alias sends to `v`. */
function keyFor(v: number): string {
  for (let i = 0; ; i++) if (pickWeighted(targets, `iris/prod/key-${i}`) === v) return `key-${i}`;
}

const principal = (keyId: string, over: Partial<Principal> = {}): Principal => ({
  tenantId: "acme",
  keyId,
  scopes: ["invoke"],
  models: ["iris"],
  plan: "default",
  ...over,
});

describe("openModel: the opening of every model route", () => {
  it("checks the scope, the model and the grant, then routes by the request's routing key", async () => {
    const p = principal(keyFor(1));
    const opened = await openModel(registry, p, { model: "iris", selector: { kind: "default" }, routingKey: keyFor(1) });
    expect(opened.resolution.version.version).toBe(1);
    await expect(
      openModel(registry, principal("k", { scopes: [] }), { model: "iris", selector: { kind: "default" }, routingKey: "k" }),
    ).rejects.toThrow(ForbiddenError);
    await expect(openModel(registry, p, { model: "nope", selector: { kind: "default" }, routingKey: "k" })).rejects.toThrow(NotFoundError);
    // An ungranted model answers exactly like a missing one.
    await expect(
      openModel(registry, principal("k", { models: ["other"] }), { model: "iris", selector: { kind: "default" }, routingKey: "k" }),
    ).rejects.toThrow(NotFoundError);
  });
});

describe("model readiness routes like inference", () => {
  const handler = createInvokeHandler({
    registry,
    invoker: { invoke: async () => ({ status: 200, body: new Uint8Array(), contentType: "application/json" }) },
    usage: { write: async () => undefined },
    invokeTimeoutMs: 1000,
    maxBodyBytes: 1024,
  } as unknown as Parameters<typeof createInvokeHandler>[0]);
  const ready = (keyId: string, headers: Record<string, string> = {}) =>
    handler({
      httpMethod: "GET",
      resource: "/v2/models/{model}/ready",
      path: "/v2/models/iris/ready",
      pathParameters: { model: "iris" },
      headers,
      body: null,
      isBase64Encoded: false,
      requestContext: { requestId: "r1", authorizer: principalToContext(principal(keyId)) },
    } as unknown as APIGatewayProxyEvent);

  it("answers for the version the caller's x-routing-key lands on, not the key id's", async () => {
    const keyId = keyFor(1);
    expect((await ready(keyId)).statusCode).toBe(200);
    const routed = await ready(keyId, { "x-routing-key": keyFor(2) });
    expect(routed.statusCode).toBe(503);
    expect(JSON.parse(routed.body).error.type).toBe("service_unavailable");
  });
});
