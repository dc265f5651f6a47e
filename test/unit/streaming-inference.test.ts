import { describe, expect, it } from "@jest/globals";
import { ModelFailedError, RateLimitedError, ServiceUnavailableError } from "../../functions/core/errors";
import { InferenceFailedError } from "../../functions/core/inference";
import type { InvokeRequest, ModelInvoker, RegistryReader, UsageSink } from "../../functions/core/ports";
import type { ModelRecord, ModelVersion } from "../../functions/core/registry";
import {
  type EventStreamOut,
  runStreamingInference,
  type StreamAnswer,
  type StreamingRequest,
} from "../../functions/core/streaming-inference";
import type { UsageRecord } from "../../functions/core/usage";
import { MemoryLimitStore } from "../support/memory-limit-store";

const version = (v: number): ModelVersion => ({
  model: "tinylm",
  version: v,
  runtime: "lmi",
  status: "ready",
  endpointName: "mg-tinylm",
  variantName: `v${v}`,
  artifactUri: "s3://b/k",
  createdAt: "",
});
const model = (fallback?: number): ModelRecord => ({
  model: "tinylm",
  defaultAlias: "prod",
  versions: new Map([
    [1, version(1)],
    [2, version(2)],
  ]),
  aliases: new Map([
    [
      "prod",
      {
        model: "tinylm",
        alias: "prod",
        targets: [{ version: 1, weight: 100 }],
        ...(fallback ? { fallback } : {}),
        revision: 1,
        updatedAt: "",
        updatedBy: "",
      },
    ],
  ]),
});
const registry = (fallback?: number): RegistryReader => ({
  getModel: async (m) => (m === "tinylm" ? model(fallback) : undefined),
  listModels: async () => ["tinylm"],
});

const chunk = (content: string) =>
  `data: ${JSON.stringify({ object: "chat.completion.chunk", choices: [{ index: 0, delta: { content } }] })}\n\n`;
const usageChunk = (input: number, output: number) =>
  `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: input, completion_tokens: output, total_tokens: input + output } })}\n\n`;

/** A container that streams its answer in parts cut mid-line, as SageMaker may. */
function streaming(
  text: string,
  opts: { failAfter?: number; variants?: InvokeRequest["variantName"][]; partBytes?: number } = {},
): ModelInvoker {
  return {
    invoke: async () => Promise.reject(new Error("buffered call not expected")),
    invokeStream: async (req) => {
      opts.variants?.push(req.variantName);
      const bytes = new TextEncoder().encode(text);
      return (async function* () {
        const step = opts.partBytes ?? 7;
        for (let i = 0; i < bytes.length; i += step) {
          if (opts.failAfter !== undefined && i >= opts.failAfter) throw new ModelFailedError("the model failed mid-stream");
          yield bytes.subarray(i, i + step);
        }
      })();
    },
  };
}

function sink(): UsageSink & { records: UsageRecord[] } {
  const records: UsageRecord[] = [];
  return { records, record: async (r) => (records.push(r), "recorded") };
}

function collector(): EventStreamOut & { sent: string[]; writes: number; answer?: StreamAnswer } {
  const c: EventStreamOut & { sent: string[]; writes: number; answer?: StreamAnswer } = {
    sent: [],
    writes: 0,
    start: (a) => {
      c.answer = a;
    },
    events: (d) => {
      c.writes++;
      c.sent.push(...d);
    },
  };
  return c;
}

const principal = { tenantId: "acme", keyId: "k1", scopes: ["invoke" as const], models: ["tinylm"], plan: "default" };
const request = (extra: Partial<StreamingRequest> = {}): StreamingRequest => ({
  requestId: "r1",
  receivedAt: 1000,
  principal,
  model: "tinylm",
  selector: { kind: "default" },
  routingKey: "k1",
  protocol: "openai",
  body: new TextEncoder().encode("{}"),
  contentType: "application/json",
  clientModel: "tinylm",
  includeUsage: false,
  streamTimeoutMs: 10_000,
  tokenReservation: 20,
  ...extra,
});
const answer = chunk("Once") + chunk(" upon") + chunk(" a time") + usageChunk(4, 3) + "data: [DONE]\n\n";

describe("streamed completions", () => {
  it("relays each chunk, hides the usage chunk the client did not ask for, and records the engine's tokens once", async () => {
    const usage = sink();
    const out = collector();
    const outcome = await runStreamingInference(
      { registry: registry(), invoker: streaming(answer), usage, invokeTimeoutMs: 1000 },
      request(),
      out,
    );
    expect(out.answer).toMatchObject({ version: 1, alias: "prod" });
    expect(out.sent.map((e) => JSON.parse(e).choices[0].delta.content)).toEqual(["Once", " upon", " a time"]);
    expect(outcome).toEqual({ status: 200, tokens: { input: 4, output: 3 }, recorded: true });
    expect(usage.records).toEqual([expect.objectContaining({ requestId: "r1", status: 200, tokens: { input: 4, output: 3 }, version: 1 })]);
  });

  it("sends the chunks that arrive together in one write", async () => {
    const out = collector();
    await runStreamingInference(
      { registry: registry(), invoker: streaming(answer, { partBytes: 1 << 20 }), usage: sink(), invokeTimeoutMs: 1000 },
      request(),
      out,
    );
    expect(out.sent).toHaveLength(3);
    expect(out.writes).toBe(1);
  });

  it("passes the usage chunk through when the client asked for it", async () => {
    const out = collector();
    await runStreamingInference(
      { registry: registry(), invoker: streaming(answer), usage: sink(), invokeTimeoutMs: 1000 },
      request({ includeUsage: true }),
      out,
    );
    expect(JSON.parse(out.sent.at(-1) ?? "{}").usage).toEqual({ prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 });
  });

  it("ends a stream that fails midway with an error event, billing the chunks it produced", async () => {
    const usage = sink();
    const out = collector();
    const outcome = await runStreamingInference(
      { registry: registry(), invoker: streaming(answer, { failAfter: 140 }), usage, invokeTimeoutMs: 1000 },
      request(),
      out,
    );
    expect(JSON.parse(out.sent.at(-1) ?? "{}").error).toMatchObject({ type: "api_error", code: "model_error" });
    expect(outcome.status).toBe(502);
    expect(usage.records[0]?.tokens?.output).toBeGreaterThan(0);
  });

  it("lets the alias's fallback answer when the chosen version fails before the first byte", async () => {
    const variants: string[] = [];
    const flaky: ModelInvoker = {
      invoke: async () => Promise.reject(new Error("unused")),
      invokeStream: async (req) => {
        if (req.variantName === "v1") throw new ModelFailedError("the model failed (status 500)");
        return (streaming(answer, { variants }).invokeStream as NonNullable<ModelInvoker["invokeStream"]>)(req);
      },
    };
    const out = collector();
    await runStreamingInference({ registry: registry(2), invoker: flaky, usage: sink(), invokeTimeoutMs: 1000 }, request(), out);
    expect(out.answer).toMatchObject({ version: 2, fallbackFrom: 1 });
    expect(variants).toEqual(["v2"]);
  });

  it("rejects before the first event when the model is not ready, and bills nothing", async () => {
    const usage = sink();
    const notReady: ModelInvoker = {
      invoke: async () => Promise.reject(new Error("unused")),
      invokeStream: async () => Promise.reject(new ServiceUnavailableError("the model is not ready to serve; retry shortly")),
    };
    const err = await runStreamingInference(
      { registry: registry(), invoker: notReady, usage, invokeTimeoutMs: 1000 },
      request(),
      collector(),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InferenceFailedError);
    expect((err as InferenceFailedError).error).toBeInstanceOf(ServiceUnavailableError);
    expect(usage.records).toEqual([]);
  });

  it("holds a token quota under 20 concurrent streams: overshoot at most one reservation", async () => {
    const limits = new MemoryLimitStore();
    const quota = 100;
    const limited = { ...principal, limits: { monthlyTokens: quota } };
    const usage = sink();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        runStreamingInference(
          { registry: registry(), invoker: streaming(answer), usage, invokeTimeoutMs: 1000, limits },
          request({ requestId: `r${i}`, principal: limited, tokenReservation: 20 }),
          collector(),
        ).catch((e: unknown) => e),
      ),
    );
    const refused = results.filter((r) => r instanceof InferenceFailedError && r.error instanceof RateLimitedError);
    const billed = usage.records
      .filter((r) => r.kind === "billable")
      .reduce((n, r) => n + (r.tokens?.input ?? 0) + (r.tokens?.output ?? 0), 0);
    expect(refused.length).toBeGreaterThan(0);
    expect(billed).toBeLessThanOrEqual(quota + 20);
  });
});
