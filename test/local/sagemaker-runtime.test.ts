import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import {
  InvokeEndpointCommand,
  InvokeEndpointWithResponseStreamCommand,
  ModelError,
  ModelNotReadyException,
  SageMakerRuntimeClient,
  ServiceUnavailable,
  ValidationError,
} from "@aws-sdk/client-sagemaker-runtime";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { type ModelHost, startOnnxModelHost } from "../../infra/local/model-host/index";
import { type SageMakerRuntimeEmulator, startSageMakerRuntimeEmulator } from "../../infra/local/sagemaker-runtime/index";

const modelPath = (v: number) => join(import.meta.dirname, "../../models/iris", String(v), "model.onnx");
const request = JSON.stringify({
  inputs: [{ name: "input", shape: [1, 4], datatype: "FP32", data: [6.0, 2.7, 5.1, 1.6] }],
});

/** A container that answers every request with a fixed status/body, or never answers. */
async function fakeContainer(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const closeServer = (s: Server) =>
  new Promise<void>((r) => {
    s.close(() => r());
    s.closeAllConnections();
  });

// The same calls over the emulator's HTTP listener and handed to it in process (as the local
// platform's handlers call it): the SDK serializes, signs and parses both alike.
describe.each([
  ["over HTTP", false],
  ["in process", true],
])("SageMaker Runtime emulator through the real AWS SDK (%s)", (_transport, inProcess) => {
  let emulator: SageMakerRuntimeEmulator;
  let hosts: ModelHost[];
  let fakes: Server[];
  let client: SageMakerRuntimeClient;
  let downUrl: string;

  beforeAll(async () => {
    hosts = await Promise.all([1, 2].map((v) => startOnnxModelHost({ modelPath: modelPath(v), modelName: "iris", version: v })));
    const rejecting = await fakeContainer((_req, res) => {
      res.writeHead(400, { "content-type": "application/json" }).end('{"error":"bad tensor"}');
    });
    const loading = await fakeContainer((_req, res) => {
      res.writeHead(503, { "content-type": "application/json" }).end('{"error":"model is loading"}');
    });
    const silent = await fakeContainer(() => {
      // Never answers: the emulator's container timeout must fire.
    });
    const gone = await fakeContainer(() => {});
    downUrl = gone.url;
    await closeServer(gone.server);
    fakes = [rejecting.server, loading.server, silent.server];

    emulator = await startSageMakerRuntimeEmulator({ containerTimeoutMs: 500 });
    const [v1, v2] = hosts as [ModelHost, ModelHost];
    emulator.setEndpoint("iris-ep", [
      { variantName: "v1", url: v1.url, weight: 1 },
      { variantName: "v2", url: v2.url, weight: 0 },
    ]);
    emulator.setEndpoint("broken-ep", [
      { variantName: "rejecting", url: rejecting.url },
      { variantName: "loading", url: loading.url, weight: 0 },
      { variantName: "silent", url: silent.url, weight: 0 },
      { variantName: "down", url: downUrl, weight: 0 },
    ]);
    client = new SageMakerRuntimeClient({
      region: "us-east-1",
      endpoint: emulator.url,
      ...(inProcess ? { requestHandler: emulator.inProcessHandler() } : {}),
      credentials: { accessKeyId: "AKIDLOCAL", secretAccessKey: "local-secret" },
      // One attempt: 429/503 are retryable and the tests want to see the first answer.
      maxAttempts: 1,
    });
  });

  afterAll(async () => {
    client?.destroy();
    await emulator?.close();
    await Promise.all([...(hosts ?? []).map((h) => h.close()), ...(fakes ?? []).map(closeServer)]);
  });

  const invoke = (EndpointName: string, TargetVariant?: string) =>
    client.send(
      new InvokeEndpointCommand({
        EndpointName,
        TargetVariant,
        Body: new TextEncoder().encode(request),
        ContentType: "application/json",
        Accept: "application/json",
      }),
    );
  const probabilities = (body: Uint8Array) =>
    (JSON.parse(new TextDecoder().decode(body)) as { outputs: { name: string; data: number[] }[] }).outputs.find(
      (o) => o.name === "probabilities",
    )?.data;

  it("routes TargetVariant to that variant and reports InvokedProductionVariant", async () => {
    const r1 = await invoke("iris-ep", "v1");
    const r2 = await invoke("iris-ep", "v2");
    expect(r1.InvokedProductionVariant).toBe("v1");
    expect(r2.InvokedProductionVariant).toBe("v2");
    expect(r1.ContentType).toBe("application/json");
    const body2 = JSON.parse(new TextDecoder().decode(r2.Body)) as { model_version: string };
    expect(body2.model_version).toBe("2");
    expect(probabilities(r1.Body)).not.toEqual(probabilities(r2.Body));
  });

  it("splits untargeted traffic by weight (weight 0 gets none)", async () => {
    const seen = await Promise.all(Array.from({ length: 8 }, () => invoke("iris-ep")));
    expect(new Set(seen.map((r) => r.InvokedProductionVariant))).toEqual(new Set(["v1"]));
  });

  it("sees endpoints added and removed at runtime", async () => {
    emulator.setEndpoint("iris-late", [{ variantName: "only", url: (hosts[1] as ModelHost).url }]);
    expect((await invoke("iris-late")).InvokedProductionVariant).toBe("only");
    emulator.removeEndpoint("iris-late");
    await expect(invoke("iris-late")).rejects.toBeInstanceOf(ValidationError);
  });

  it("raises ValidationError for an unknown endpoint or variant", async () => {
    const unknownEndpoint = invoke("nope");
    await expect(unknownEndpoint).rejects.toBeInstanceOf(ValidationError);
    await expect(unknownEndpoint).rejects.toThrow(/Endpoint nope/);
    await expect(unknownEndpoint).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
    const unknownVariant = invoke("iris-ep", "v9");
    await expect(unknownVariant).rejects.toBeInstanceOf(ValidationError);
    await expect(unknownVariant).rejects.toThrow(/Variant v9 not found/);
  });

  it("raises ModelError with the container's status and message", async () => {
    const err = await invoke("broken-ep", "rejecting").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    const me = err as ModelError;
    expect(me.$metadata.httpStatusCode).toBe(424);
    expect(me.OriginalStatusCode).toBe(400);
    expect(me.OriginalMessage).toBe('{"error":"bad tensor"}');
    expect(me.LogStreamArn).toBe("arn:aws:logs:us-east-1:000000000000:log-group:/aws/sagemaker/Endpoints/broken-ep");
    expect(me.message).toMatch(/^Received client error \(400\) from primary/);
  });

  it("raises ModelError (original status 0) when the container times out", async () => {
    const err = await invoke("broken-ep", "silent").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as ModelError).OriginalStatusCode).toBe(0);
    expect((err as ModelError).message).toMatch(/timed out while waiting for a response from container primary/);
  });

  it("raises ModelNotReadyException when the container is up but not ready", async () => {
    const err = await invoke("broken-ep", "loading").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelNotReadyException);
    expect((err as ModelNotReadyException).$metadata.httpStatusCode).toBe(429);
  });

  it("raises ServiceUnavailable when the model host is down", async () => {
    const err = await invoke("broken-ep", "down").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceUnavailable);
    expect((err as ServiceUnavailable).$metadata.httpStatusCode).toBe(503);
  });

  it("streams the container's answer as PayloadPart events", async () => {
    const res = await client.send(
      new InvokeEndpointWithResponseStreamCommand({
        EndpointName: "iris-ep",
        TargetVariant: "v2",
        Body: new TextEncoder().encode(request),
        ContentType: "application/json",
        Accept: "application/json",
      }),
    );
    expect(res.InvokedProductionVariant).toBe("v2");
    expect(res.ContentType).toBe("application/json");
    const parts: Uint8Array[] = [];
    for await (const event of res.Body ?? []) if (event.PayloadPart?.Bytes) parts.push(event.PayloadPart.Bytes);
    expect(parts.length).toBeGreaterThan(0);
    const direct = await invoke("iris-ep", "v2");
    expect(Buffer.concat(parts).toString()).toBe(new TextDecoder().decode(direct.Body));
  });
});
