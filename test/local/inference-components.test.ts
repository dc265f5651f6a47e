import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import {
  InvokeEndpointCommand,
  InvokeEndpointWithResponseStreamCommand,
  SageMakerRuntimeClient,
  ValidationError,
} from "@aws-sdk/client-sagemaker-runtime";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { SageMakerInvoker } from "../../functions/aws/sagemaker-invoker";
import { ModelWakingError } from "../../functions/core/errors";
import { startOnnxModelHost } from "../../infra/local/model-host/index";
import { type SageMakerRuntimeEmulator, startSageMakerRuntimeEmulator } from "../../infra/local/sagemaker-runtime/index";
import { type ComponentCopy, ScaledComponent } from "../../infra/local/scaled-component";

/**
 * Inference components on the local SageMaker Runtime, through the real AWS SDK: calls are
 * routed by InferenceComponentName, and a scale-to-zero component closes its model host when
 * idle, answers the cloud's "no capacity" while it loads again, then serves.
 */

const modelPath = (v: number) => join(import.meta.dirname, "../../models/iris", String(v), "model.onnx");
const body = new TextEncoder().encode(
  JSON.stringify({ inputs: [{ name: "input", shape: [1, 4], datatype: "FP32", data: [6.0, 2.7, 5.1, 1.6] }] }),
);
const POOL = "pool-ep";

/**
 * Copies that are ONNX model hosts of iris `version`, counting how many were ever loaded;
 * `loadMs` stretches each load, as a real model's takes its time.
 */
function irisCopies(version: number, loadMs = 0) {
  const loaded: ComponentCopy[] = [];
  return {
    loaded,
    load: async () => {
      await sleep(loadMs);
      const host = await startOnnxModelHost({ modelPath: modelPath(version), modelName: "iris", version });
      loaded.push(host);
      return host;
    },
  };
}

/** Whether anything still listens at `url` (a closed model host refuses the connection). */
async function listening(url: string): Promise<boolean> {
  return fetch(`${url}/ping`).then(
    () => true,
    () => false,
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await sleep(50);
  }
}

describe("inference components on the local SageMaker Runtime", () => {
  let emulator: SageMakerRuntimeEmulator;
  let client: SageMakerRuntimeClient;
  const components: ScaledComponent[] = [];
  const servers: Server[] = [];

  beforeAll(async () => {
    emulator = await startSageMakerRuntimeEmulator();
    emulator.setEndpoint("variant-ep", [{ variantName: "v1", url: "http://127.0.0.1:9" }]);
    client = new SageMakerRuntimeClient({
      region: "us-east-1",
      endpoint: emulator.url,
      credentials: { accessKeyId: "AKIDLOCAL", secretAccessKey: "local-secret" },
      maxAttempts: 1,
    });
  });

  afterEach(async () => {
    for (const c of components.splice(0)) {
      emulator.removeComponent(POOL, c.componentName);
      await c.close();
    }
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  });

  afterAll(async () => {
    client?.destroy();
    await emulator?.close();
  });

  async function place(
    name: string,
    opts: { version?: number; minCopies: number; idleMs?: number; initialCopies?: number; loadMs?: number },
  ) {
    const copies = irisCopies(opts.version ?? 1, opts.loadMs);
    const component = new ScaledComponent({
      componentName: name,
      load: copies.load,
      minCopies: opts.minCopies,
      idleMs: opts.idleMs ?? 60_000,
      ...(opts.initialCopies !== undefined ? { initialCopies: opts.initialCopies } : {}),
    });
    components.push(component);
    await component.start();
    emulator.setComponent(POOL, component);
    return { component, copies };
  }

  const invoke = (InferenceComponentName?: string, EndpointName = POOL) =>
    client.send(new InvokeEndpointCommand({ EndpointName, InferenceComponentName, Body: body, ContentType: "application/json" }));
  const modelVersion = (out: { Body?: Uint8Array }) =>
    (JSON.parse(new TextDecoder().decode(out.Body)) as { model_version: string }).model_version;
  const stateOf = (name: string) => emulator.components().find((c) => c.componentName === name);

  it("routes each call to the component it names, on one pool endpoint", async () => {
    await place("iris-1", { version: 1, minCopies: 1 });
    await place("iris-2", { version: 2, minCopies: 1 });
    expect(modelVersion(await invoke("iris-2"))).toBe("2");
    const first = await invoke("iris-1");
    expect(modelVersion(first)).toBe("1");
    expect(first.InvokedProductionVariant).toBe("AllTraffic");
    expect(stateOf("iris-1")).toMatchObject({ endpointName: POOL, invocations: 1, noCapacity: 0, currentCopies: 1, status: "InService" });
    // The same report over HTTP, for a test or an operator outside this process.
    const report = (await (await fetch(`${emulator.url}/_local/inference-components`)).json()) as { components: unknown[] };
    expect(report.components).toEqual(emulator.components());
  });

  it("names the component on the streamed call too", async () => {
    await place("iris-1", { minCopies: 1 });
    const out = await client.send(
      new InvokeEndpointWithResponseStreamCommand({
        EndpointName: POOL,
        InferenceComponentName: "iris-1",
        Body: body,
        ContentType: "application/json",
      }),
    );
    let text = "";
    for await (const event of out.Body ?? []) text += new TextDecoder().decode(event.PayloadPart?.Bytes);
    expect(JSON.parse(text)).toMatchObject({ model_version: "1" });
  });

  it("answers SageMaker's ValidationErrors for a missing, unwanted or unknown component name", async () => {
    await place("iris-1", { minCopies: 1 });
    await expect(invoke()).rejects.toThrow(/Inference Component Name header is required/);
    await expect(invoke("iris-1", "variant-ep")).rejects.toThrow(/Inference Component Name header is not allowed/);
    const unknown = invoke("iris-9");
    await expect(unknown).rejects.toBeInstanceOf(ValidationError);
    await expect(unknown).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
  });

  it("closes a scale-to-zero component's model host when idle, answers 'no capacity' while it loads, then serves", async () => {
    const { copies } = await place("iris-cold", { minCopies: 0, idleMs: 300, loadMs: 500 });
    expect(modelVersion(await invoke("iris-cold"))).toBe("1");
    const firstUrl = stateOf("iris-cold")?.url as string;
    expect(await listening(firstUrl)).toBe(true);

    const idle = await until(
      async () => stateOf("iris-cold"),
      (s) => s?.status === "ScaledToZero",
    );
    expect(idle).toMatchObject({ currentCopies: 0, status: "ScaledToZero" });
    expect(idle).not.toHaveProperty("url");
    expect(await listening(firstUrl)).toBe(false);

    // The cloud's answer, which the gateway's invoker reads as "waking".
    const cold = await invoke("iris-cold").catch((e: unknown) => e);
    expect(cold).toBeInstanceOf(ValidationError);
    expect((cold as Error).message).toMatch(/^Inference Component has no capacity to process this request\./);
    const invoker = new SageMakerInvoker(client, () => undefined);
    const mapped = await invoker
      .invoke({
        endpointName: POOL,
        variantName: "v1",
        inferenceComponentName: "iris-cold",
        body,
        contentType: "application/json",
        timeoutMs: 5000,
      })
      .catch((e: unknown) => e);
    expect(mapped).toBeInstanceOf(ModelWakingError);

    const served = await until(
      () => invoke("iris-cold").then(modelVersion, () => "no capacity"),
      (v) => v === "1",
    );
    expect(served).toBe("1");
    expect(copies.loaded).toHaveLength(2);
    expect(stateOf("iris-cold")).toMatchObject({ currentCopies: 1, status: "InService", noCapacity: expect.any(Number) });
    expect(stateOf("iris-cold")?.noCapacity).toBeGreaterThanOrEqual(2);
  });

  it("starts with no copy when told to, and loads one on the first call", async () => {
    const { copies } = await place("iris-zero", { minCopies: 0, initialCopies: 0 });
    expect(copies.loaded).toHaveLength(0);
    await expect(invoke("iris-zero")).rejects.toThrow(/no capacity/);
    expect(
      await until(
        () => invoke("iris-zero").then(modelVersion, () => ""),
        (v) => v === "1",
      ),
    ).toBe("1");
  });

  it("keeps a component with a minimum of one loaded, however long it idles", async () => {
    const { copies } = await place("iris-warm", { minCopies: 1, idleMs: 100 });
    await invoke("iris-warm");
    await sleep(400);
    expect(stateOf("iris-warm")).toMatchObject({ currentCopies: 1, status: "InService" });
    expect(modelVersion(await invoke("iris-warm"))).toBe("1");
    expect(copies.loaded).toHaveLength(1);
  });

  it("stays at zero after a copy fails to load, and tries again on the next call", async () => {
    const copies = irisCopies(1);
    let attempts = 0;
    const component = new ScaledComponent({
      componentName: "flaky",
      load: async () => {
        attempts++;
        if (attempts === 1) throw new Error("the artifact is not there yet");
        return copies.load();
      },
      minCopies: 0,
      initialCopies: 0,
      idleMs: 60_000,
    });
    components.push(component);
    await component.start();
    emulator.setComponent(POOL, component);
    await expect(invoke("flaky")).rejects.toThrow(/no capacity/);
    await until(
      async () => stateOf("flaky")?.status,
      (s) => s === "ScaledToZero",
    );
    expect(attempts).toBe(1);
    expect(
      await until(
        () => invoke("flaky").then(modelVersion, () => ""),
        (v) => v === "1",
      ),
    ).toBe("1");
    expect(attempts).toBe(2);
  });

  it("never closes a copy while a call is in flight", async () => {
    // A container that takes 600 ms to answer, placed with an idle time of 100 ms.
    const slow = createServer((_req, res) => {
      setTimeout(() => res.writeHead(200, { "content-type": "application/json" }).end('{"slow":true}'), 600);
    });
    servers.push(slow);
    await new Promise<void>((r) => slow.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
    let closed = 0;
    const component = new ScaledComponent({
      componentName: "slow",
      load: async () => ({ url, close: async () => void closed++ }),
      minCopies: 0,
      idleMs: 100,
    });
    components.push(component);
    await component.start();
    emulator.setComponent(POOL, component);
    const out = await invoke("slow");
    expect(JSON.parse(new TextDecoder().decode(out.Body))).toEqual({ slow: true });
    expect(closed).toBe(0);
    expect(
      await until(
        async () => closed,
        (n) => n === 1,
      ),
    ).toBe(1);
  });
});
