import { Metrics } from "@aws-lambda-powertools/metrics";
import { afterEach, beforeEach, describe, expect, it, jest } from "@jest/globals";
import { type InferenceMetrics, inferenceMetrics, powertoolsMetrics } from "../../functions/http/metrics";

interface EmfDocument {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }>;
  };
  [key: string]: unknown;
}

const ENV_KEYS = ["POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_DEV", "POWERTOOLS_METRICS_DISABLED"];
const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));

/** Everything written to stdout while the spy is on (Powertools writes EMF there, as in Lambda). */
let written: string[] = [];

/** A composition root reads the environment when it builds the publisher: one per environment. */
async function load(env: Record<string, string> = {}) {
  Object.assign(process.env, env);
  return inferenceMetrics(powertoolsMetrics());
}

function emfDocuments(): EmfDocument[] {
  return written
    .flatMap((chunk) => chunk.split("\n"))
    .filter((line) => line.trim().startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((o): o is EmfDocument => "_aws" in o);
}

const requestA: InferenceMetrics = {
  tenantId: "tenant-a",
  model: "iris",
  version: 2,
  keyId: "key-a",
  requestId: "req-a",
  status: 200,
  latencyMs: 42,
  tokens: { input: 11, output: 7 },
};
const requestB: InferenceMetrics = {
  tenantId: "tenant-b",
  model: "llm",
  keyId: "key-b",
  requestId: "req-b",
  status: 200,
  latencyMs: 5,
};

beforeEach(() => {
  for (const k of ENV_KEYS) delete process.env[k];
  written = [];
  jest.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    written.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    return true;
  });
});

afterEach(() => {
  jest.restoreAllMocks();
  for (const k of ENV_KEYS) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

describe("inferenceMetrics", () => {
  it("writes one EMF document per request: tenant and model dimensions, the metrics, ids as metadata", async () => {
    const publish = await load({ POWERTOOLS_METRICS_NAMESPACE: "mgtest", POWERTOOLS_SERVICE_NAME: "mgsvc" });
    publish(requestA);
    const docs = emfDocuments();
    expect(docs).toHaveLength(1);
    const doc = docs[0] as EmfDocument;
    const directive = doc._aws.CloudWatchMetrics;
    expect(directive).toHaveLength(1);
    expect(directive[0]?.Namespace).toBe("mgtest");
    // Exactly one dimension set: the request's two plus Powertools' constant service.
    expect(directive[0]?.Dimensions).toEqual([["service", "tenant", "model"]]);
    expect(directive[0]?.Metrics).toEqual([
      { Name: "Requests", Unit: "Count" },
      { Name: "Errors", Unit: "Count" },
      { Name: "ClientErrors", Unit: "Count" },
      { Name: "Latency", Unit: "Milliseconds" },
      { Name: "InputTokens", Unit: "Count" },
      { Name: "OutputTokens", Unit: "Count" },
    ]);
    expect(doc).toMatchObject({
      service: "mgsvc",
      tenant: "tenant-a",
      model: "iris",
      Requests: 1,
      Errors: 0,
      ClientErrors: 0,
      Latency: 42,
      InputTokens: 11,
      OutputTokens: 7,
      requestId: "req-a",
      keyId: "key-a",
      status: "200",
      version: "2",
    });
    expect(typeof doc._aws.Timestamp).toBe("number");
  });

  it("defaults namespace and service to modelgate", async () => {
    const publish = await load();
    publish(requestB);
    const [doc] = emfDocuments();
    expect(doc?._aws.CloudWatchMetrics[0]?.Namespace).toBe("modelgate");
    expect(doc?.service).toBe("modelgate");
  });

  it("does not carry one request's dimensions, metadata or token metrics into the next document", async () => {
    const publish = await load();
    publish(requestA);
    publish(requestB);
    const docs = emfDocuments();
    expect(docs).toHaveLength(2);
    const b = docs[1] as EmfDocument;
    expect(b._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([["service", "tenant", "model"]]);
    expect(b).toMatchObject({ tenant: "tenant-b", model: "llm", requestId: "req-b", keyId: "key-b", Latency: 5 });
    // Tokens unknown for B: no token metrics rather than zeros.
    expect(b._aws.CloudWatchMetrics[0]?.Metrics.map((m) => m.Name)).toEqual(["Requests", "Errors", "ClientErrors", "Latency"]);
    expect(b).not.toHaveProperty("version");
    const text = JSON.stringify(b);
    for (const s of ["tenant-a", "iris", "req-a", "key-a", "InputTokens"]) expect(text).not.toContain(s);
  });

  it("counts 5xx as Errors and 4xx as ClientErrors", async () => {
    const publish = await load();
    publish({ ...requestB, status: 503 });
    publish({ ...requestB, status: 429 });
    const [serverError, clientError] = emfDocuments();
    expect(serverError).toMatchObject({ Requests: 1, Errors: 1, ClientErrors: 0, status: "503" });
    expect(clientError).toMatchObject({ Requests: 1, Errors: 0, ClientErrors: 1, status: "429" });
  });

  it("counts a model waking from zero as ModelWaking, not as an Error", async () => {
    const publish = await load();
    publish({ ...requestB, status: 503, waking: true });
    publish({ ...requestB, status: 503 });
    const [waking, broken] = emfDocuments();
    expect(waking).toMatchObject({ Requests: 1, Errors: 0, ModelWaking: 1, status: "503" });
    expect(broken).toMatchObject({ Requests: 1, Errors: 1 });
    expect(broken).not.toHaveProperty("ModelWaking");
  });

  it("never throws, and a document that fails half-built leaves nothing behind for the next request", async () => {
    const publish = await load();
    // The copy of the logger the freshly loaded module uses.
    const { logger } = await import("../../functions/http/logger");
    const warn = jest.spyOn(logger, "warn").mockImplementation(() => undefined);
    const addMetric = Metrics.prototype.addMetric;
    jest.spyOn(Metrics.prototype, "addMetric").mockImplementation(function (this: Metrics, ...args) {
      if (args[0] === "Latency") throw new RangeError("refused");
      return addMetric.apply(this, args);
    });
    expect(() => publish(requestA)).not.toThrow();
    jest.mocked(Metrics.prototype.addMetric).mockRestore();
    publish(requestB);
    const docs = emfDocuments();
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({ tenant: "tenant-b", requestId: "req-b" });
    // One dimension set, and none of A's metadata (B has no version): A's half-built state is gone.
    expect(docs[0]?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([["service", "tenant", "model"]]);
    expect(docs[0]).not.toHaveProperty("version");
    expect(JSON.stringify(docs[0])).not.toContain("tenant-a");
    expect(warn).toHaveBeenCalledWith("inference metrics not published", expect.objectContaining({ requestId: "req-a" }));
  });

  it("leaves out token counts that are not numbers rather than writing null", async () => {
    const publish = await load();
    publish({ ...requestA, tokens: { input: Number.NaN, output: 3 } });
    const [doc] = emfDocuments();
    expect(doc?._aws.CloudWatchMetrics[0]?.Metrics.map((m) => m.Name)).not.toContain("InputTokens");
    expect(doc).not.toHaveProperty("OutputTokens");
  });

  it("emits nothing with Powertools' own POWERTOOLS_METRICS_DISABLED=true", async () => {
    const publish = await load({ POWERTOOLS_METRICS_DISABLED: "true" });
    publish(requestA);
    publish({ ...requestB, status: 500 });
    expect(written).toEqual([]);
  });
});
