import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import {
  InvokeEndpointCommand,
  InvokeEndpointWithResponseStreamCommand,
  ModelError,
  ModelStreamError,
  SageMakerRuntimeClient,
} from "@aws-sdk/client-sagemaker-runtime";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { type LlmModelHost, startLlmModelHost } from "../../infra/local/model-host/index";
import { type SageMakerRuntimeEmulator, startSageMakerRuntimeEmulator } from "../../infra/local/sagemaker-runtime/index";

const modelDir = join(import.meta.dirname, "../../models/tinylm/1");
const TOKEN_DELAY_MS = 100;

interface Chunk {
  object: string;
  choices: { delta?: { content?: string }; text?: string; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
}

/** Reassembles PayloadParts into lines, as a client must: a part may end anywhere, even mid-character. */
async function readStream(body: AsyncIterable<{ PayloadPart?: { Bytes?: Uint8Array } }> | undefined) {
  if (!body) throw new Error("the response has no event stream");
  const started = performance.now();
  const arrivals: number[] = [];
  const parts: Uint8Array[] = [];
  for await (const event of body) {
    if (!event.PayloadPart?.Bytes) continue;
    arrivals.push(performance.now() - started);
    parts.push(event.PayloadPart.Bytes);
  }
  const lines = Buffer.concat(parts).toString("utf8").split("\n");
  const chunks = lines
    .filter((l) => l.startsWith("data: ") && l !== "data: [DONE]")
    .map((l) => JSON.parse(l.slice("data: ".length)) as Chunk);
  return { parts, arrivals, chunks, lines };
}

// The same calls over the emulator's HTTP listener and handed to it in process (as the local
// platform's handlers call it): the SDK serializes, signs and parses both alike.
describe.each([
  ["over HTTP", false],
  ["in process", true],
])("InvokeEndpointWithResponseStream from the LLM host through the emulator (%s)", (_transport, inProcess) => {
  let slowHost: LlmModelHost;
  let fastHost: LlmModelHost;
  let emulator: SageMakerRuntimeEmulator;
  let breaking: Server;
  let client: SageMakerRuntimeClient;

  beforeAll(async () => {
    [slowHost, fastHost] = await Promise.all([
      startLlmModelHost({ modelDir, modelName: "tinylm", version: 1, tokenDelayMs: TOKEN_DELAY_MS }),
      startLlmModelHost({ modelDir, modelName: "tinylm", version: 1 }),
    ]);
    // Starts a stream, then drops the connection: SageMaker reports that as ModelStreamError.
    breaking = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write('data: {"partial":');
      setTimeout(() => res.destroy(), 50);
    });
    await new Promise<void>((r) => breaking.listen(0, "127.0.0.1", r));
    const breakingUrl = `http://127.0.0.1:${(breaking.address() as AddressInfo).port}`;

    emulator = await startSageMakerRuntimeEmulator({ maxPartBytes: 7 });
    emulator.setEndpoint("llm-slow", [{ variantName: "v1", url: slowHost.url }]);
    emulator.setEndpoint("llm-openai", [{ variantName: "v1", url: fastHost.url, protocol: "openai" }]);
    emulator.setEndpoint("llm-openai-v1", [{ variantName: "v1", url: `${fastHost.url}/v1`, protocol: "openai" }]);
    emulator.setEndpoint("llm-breaking", [{ variantName: "v1", url: breakingUrl }]);
    client = new SageMakerRuntimeClient({
      endpoint: emulator.url,
      ...(inProcess ? { requestHandler: emulator.inProcessHandler() } : {}),
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
  });
  afterAll(async () => {
    client.destroy();
    await emulator.close();
    await Promise.all([slowHost.close(), fastHost.close()]);
    await new Promise<void>((r) => {
      breaking.close(() => r());
      breaking.closeAllConnections();
    });
  });

  const body = (extra: object) =>
    new TextEncoder().encode(JSON.stringify({ messages: [{ role: "user", content: "Call me Ishmael." }], temperature: 0, ...extra }));

  it("relays tokens as they are generated, in parts cut anywhere, usage in the last chunk", async () => {
    const maxTokens = 10;
    const res = await client.send(
      new InvokeEndpointWithResponseStreamCommand({
        EndpointName: "llm-slow",
        Body: body({ max_tokens: maxTokens, stream: true, stream_options: { include_usage: true } }),
        ContentType: "application/json",
      }),
    );
    expect(res.ContentType).toBe("text/event-stream");
    const { parts, arrivals, chunks, lines } = await readStream(res.Body);
    expect(parts.every((p) => p.length <= 7)).toBe(true);
    // Cut at 7 bytes, the JSON lines must have spanned parts: reassembly was needed.
    expect(lines.filter((l) => l.startsWith("data: {")).every((l) => l.length > 7)).toBe(true);
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(maxTokens);
    // Ten tokens 100 ms apart take about a second; the first part comes after about one token.
    const first = arrivals[0] as number;
    const last = arrivals.at(-1) as number;
    expect(last).toBeGreaterThan(maxTokens * TOKEN_DELAY_MS * 0.8);
    expect(first).toBeLessThan(last / 3);

    const whole = await client.send(
      new InvokeEndpointCommand({ EndpointName: "llm-slow", Body: body({ max_tokens: maxTokens }), ContentType: "application/json" }),
    );
    const answer = JSON.parse(new TextDecoder().decode(whole.Body)) as { choices: { message: { content: string } }[] };
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("")).toBe(answer.choices[0]?.message.content);
  });

  it.each(["llm-openai", "llm-openai-v1"])("proxies %s to an OpenAI-compatible server's /v1 routes by body shape", async (endpoint) => {
    const chat = await client.send(
      new InvokeEndpointCommand({ EndpointName: endpoint, Body: body({ max_tokens: 3 }), ContentType: "application/json" }),
    );
    expect(JSON.parse(new TextDecoder().decode(chat.Body))).toMatchObject({ object: "chat.completion" });
    const completion = await client.send(
      new InvokeEndpointCommand({
        EndpointName: endpoint,
        Body: new TextEncoder().encode(JSON.stringify({ prompt: "Once", max_tokens: 3 })),
        ContentType: "application/json",
      }),
    );
    expect(JSON.parse(new TextDecoder().decode(completion.Body))).toMatchObject({ object: "text_completion" });
    const streamed = await client.send(
      new InvokeEndpointWithResponseStreamCommand({
        EndpointName: endpoint,
        Body: body({ max_tokens: 3, stream: true }),
        ContentType: "application/json",
      }),
    );
    const { chunks } = await readStream(streamed.Body);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("length");
  });

  it("refuses a malformed streamed request before the first byte with ModelError", async () => {
    const err = await client
      .send(
        new InvokeEndpointWithResponseStreamCommand({
          EndpointName: "llm-slow",
          Body: body({ messages: [], stream: true }),
          ContentType: "application/json",
        }),
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as ModelError).OriginalStatusCode).toBe(400);
    expect((err as ModelError).OriginalMessage).toContain("messages");
  });

  it("ends a stream that outlasts the container timeout with ModelInvocationTimeExceeded", async () => {
    const strict = await startSageMakerRuntimeEmulator({ containerTimeoutMs: 300 });
    strict.setEndpoint("llm-slow", [{ variantName: "v1", url: slowHost.url }]);
    const strictClient = new SageMakerRuntimeClient({
      endpoint: strict.url,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    try {
      const res = await strictClient.send(
        new InvokeEndpointWithResponseStreamCommand({
          EndpointName: "llm-slow",
          Body: body({ max_tokens: 10, stream: true }),
          ContentType: "application/json",
        }),
      );
      const err = await readStream(res.Body).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelStreamError);
      expect((err as ModelStreamError).ErrorCode).toBe("ModelInvocationTimeExceeded");
    } finally {
      strictClient.destroy();
      await strict.close();
    }
  });

  it("ends a stream whose container breaks mid-way with a ModelStreamError event", async () => {
    const res = await client.send(
      new InvokeEndpointWithResponseStreamCommand({
        EndpointName: "llm-breaking",
        Body: body({ stream: true }),
        ContentType: "application/json",
      }),
    );
    const err = await readStream(res.Body).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelStreamError);
    expect((err as ModelStreamError).ErrorCode).toBe("StreamBroken");
  });
});
