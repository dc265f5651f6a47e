import { describe, expect, it } from "@jest/globals";
import { DEFAULT_MAX_TOKENS_PER_REQUEST, tokenReservationOf } from "../../functions/core/admission";
import { type InferenceRequest, runInference } from "../../functions/core/inference";
import { admitted, freeHandle, type LimitStore } from "../../functions/core/limits/tenant-limits";
import type { ModelInvoker, RegistryReader, UsageSink } from "../../functions/core/ports";
import type { ModelRecord } from "../../functions/core/registry";
import { parsePlatformConfig } from "../../infra/shared/config";
import { registrySeed } from "../../infra/shared/function-env";

function llm(runtime: string, maxTokensPerRequest?: number): ModelRecord {
  return {
    model: "llm",
    defaultAlias: "prod",
    ...(maxTokensPerRequest !== undefined ? { maxTokensPerRequest } : {}),
    versions: new Map([
      [
        1,
        {
          model: "llm",
          version: 1,
          runtime,
          status: "ready",
          endpointName: "mg-llm",
          variantName: "v1",
          artifactUri: "s3://b/k",
          createdAt: "",
        },
      ],
    ]),
    aliases: new Map([
      ["prod", { model: "llm", alias: "prod", targets: [{ version: 1, weight: 100 }], revision: 1, updatedAt: "", updatedBy: "" }],
    ]),
  };
}

/** A limit store that admits everything and remembers what each admission reserved. */
function recordingLimits(): LimitStore & { reserved: number[] } {
  const reserved: number[] = [];
  return {
    reserved,
    charge: async (subject, _limits, ctx) => {
      reserved.push(ctx.tokenEstimate ?? 0);
      return admitted(freeHandle(subject, ctx.requestId), {});
    },
    release: async () => undefined,
    cancel: async () => undefined,
    peek: async () => ({}),
  };
}

const usage: UsageSink = { record: async () => "recorded" };
const invoker: ModelInvoker = { invoke: async () => ({ body: new TextEncoder().encode("{}"), contentType: "application/json" }) };
const principal = {
  tenantId: "acme",
  keyId: "k1",
  scopes: ["invoke" as const],
  models: ["*"],
  plan: "default",
  limits: { monthlyTokens: 1_000_000 },
};
const raw = (body: string, contentType = "application/json"): InferenceRequest => ({
  requestId: "r1",
  receivedAt: 0,
  principal,
  model: "llm",
  selector: { kind: "default" },
  routingKey: "k1",
  protocol: "raw",
  body: new TextEncoder().encode(body),
  contentType,
});

async function reservedBy(model: ModelRecord, req: InferenceRequest): Promise<number | undefined> {
  const limits = recordingLimits();
  const registry: RegistryReader = { getModel: async () => model, listModels: async () => ["llm"] };
  await runInference({ registry, invoker, usage, limits, invokeTimeoutMs: 1000 }, req);
  return limits.reserved[0];
}

describe("token reservations on every route", () => {
  it("reads the maximum a raw TGI or OpenAI-style JSON body names", async () => {
    expect(await reservedBy(llm("tgi"), raw('{"inputs":"hi","parameters":{"max_new_tokens":64}}'))).toBe(64);
    expect(await reservedBy(llm("lmi"), raw('{"prompt":"hi","max_tokens":32}'))).toBe(32);
  });

  it("reserves the model's maximum when the request names none (or is not JSON)", async () => {
    expect(await reservedBy(llm("tgi"), raw('{"inputs":"hi"}'))).toBe(DEFAULT_MAX_TOKENS_PER_REQUEST);
    expect(await reservedBy(llm("tgi"), raw("hi", "text/plain"))).toBe(DEFAULT_MAX_TOKENS_PER_REQUEST);
    expect(await reservedBy(llm("custom", 500), raw("{not json"))).toBe(500);
    expect(await reservedBy(llm("onnx"), raw("{}"))).toBe(0);
  });

  it("keeps a KServe request's parsed parameters first", () => {
    const req = { json: { inputs: [], parameters: { max_tokens: 7 } }, body: new Uint8Array(), contentType: "application/json" };
    expect(tokenReservationOf(req, { maxTokensPerRequest: 100 }, "tgi")).toBe(7);
    expect(tokenReservationOf({ ...req, json: { inputs: [] } }, { maxTokensPerRequest: 100 }, "onnx")).toBe(100);
  });
});

describe("maxTokensPerRequest in the config", () => {
  it("travels to the registry seed, and is validated", () => {
    const config = (maxTokensPerRequest: unknown) => ({
      models: { llm: { maxTokensPerRequest, versions: [{ version: 1, artifact: "s3://b/llm/", runtime: "tgi" }], aliases: { prod: 1 } } },
    });
    const seed = registrySeed(parsePlatformConfig(config(2048)), () => "s3://b/llm/");
    expect(seed.models).toEqual([expect.objectContaining({ model: "llm", maxTokensPerRequest: 2048 })]);
    expect(() => parsePlatformConfig(config(-1))).toThrow(/models\.llm\.maxTokensPerRequest/);
  });
});
