import { Readable } from "node:stream";
import { InvokeEndpointCommand, InvokeEndpointWithResponseStreamCommand } from "@aws-sdk/client-sagemaker-runtime";
import { afterEach, describe, expect, it, jest } from "@jest/globals";
import { HttpResponse } from "@smithy/core/protocols";
import type { HttpHandlerOptions } from "@smithy/types";
import { createAwsClients } from "../../functions/aws/clients";
import { SageMakerInvoker } from "../../functions/aws/sagemaker-invoker";

/**
 * The SageMaker Runtime client as both hosts build it (createAwsClients), over a request
 * handler that stands in for the network: what it is handed is what NodeHttpHandler would be.
 */
function clientOver(handle: (options: HttpHandlerOptions) => Promise<{ response: HttpResponse }>) {
  const seen: HttpHandlerOptions[] = [];
  const handler = {
    handle: (_request: unknown, options: HttpHandlerOptions = {}) => {
      seen.push(options);
      return handle(options);
    },
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
  };
  const clients = createAwsClients({
    sagemakerRuntime: {
      endpoint: "http://127.0.0.1:9",
      region: "us-east-1",
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
      requestHandler: handler,
    },
  });
  return { invoker: new SageMakerInvoker(clients.sagemakerRuntime, () => undefined), seen };
}

const call = { endpointName: "e", variantName: "v1", body: new Uint8Array([123, 125]), contentType: "application/json" };
const answer = async () => ({
  response: new HttpResponse({
    statusCode: 200,
    headers: { "content-type": "application/json" },
    body: Readable.from([Buffer.from("{}")]),
  }),
});

/** Reads a streamed call to its end (this handler's body is no event stream: it fails, which ends it). */
async function drain(parts: Promise<AsyncIterable<Uint8Array>>): Promise<void> {
  try {
    for await (const _ of await parts);
  } catch {}
}

describe("SageMaker Runtime calls: one middleware resolution per command, a deadline per call", () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it("cuts a call that passes its deadline: the request handler's signal fires, the client gets a 504", async () => {
    let cut = false;
    const { invoker } = clientOver(
      (options) =>
        new Promise((_resolve, reject) => {
          const signal = options.abortSignal as AbortSignal | undefined;
          const abort = () => {
            cut = true;
            reject(Object.assign(new Error("Request aborted"), { name: "AbortError" }));
          };
          // As NodeHttpHandler does: on a loaded machine the deadline can pass before the call reaches it.
          if (signal?.aborted) abort();
          else signal?.addEventListener("abort", abort);
        }),
    );
    const err = (await invoker.invoke({ ...call, timeoutMs: 30 }).catch((e) => e)) as { status: number };
    expect(err.status).toBe(504);
    expect(cut).toBe(true);
  });

  it("gives every call its own signal, and resolves each command's middleware once however many calls", async () => {
    const resolveInvoke = jest.spyOn(InvokeEndpointCommand.prototype, "resolveMiddleware");
    const resolveStream = jest.spyOn(InvokeEndpointWithResponseStreamCommand.prototype, "resolveMiddleware");
    const { invoker, seen } = clientOver(answer);
    for (let i = 0; i < 3; i++) await invoker.invoke({ ...call, timeoutMs: 5_000 });
    // A streamed call between buffered ones leaves their resolved middleware in place.
    await drain(invoker.invokeStream({ ...call, timeoutMs: 5_000 }));
    await invoker.invoke({ ...call, timeoutMs: 5_000 });
    expect(resolveInvoke).toHaveBeenCalledTimes(1);
    expect(resolveStream).toHaveBeenCalledTimes(1);
    const signals = seen.map((o) => o.abortSignal);
    expect(signals).toHaveLength(5);
    expect(new Set(signals).size).toBe(5);
    expect(signals.every((s) => s !== undefined && !s.aborted)).toBe(true);
  });
});
