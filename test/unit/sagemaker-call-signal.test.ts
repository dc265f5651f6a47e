import { Readable } from "node:stream";
import { InvokeEndpointCommand, InvokeEndpointWithResponseStreamCommand } from "@aws-sdk/client-sagemaker-runtime";
import { afterEach, describe, expect, it, jest } from "@jest/globals";
import { HttpResponse } from "@smithy/core/protocols";
import type { HttpHandlerOptions, HttpRequest } from "@smithy/types";
import { createAwsClients } from "../../functions/aws/clients";
import { SageMakerInvoker } from "../../functions/aws/sagemaker-invoker";

/**
 * The SageMaker Runtime client as both hosts build it (createAwsClients), over a request
 * handler that stands in for the network: what it is handed is what NodeHttpHandler would be.
 */
function clientOver(handle: (options: HttpHandlerOptions) => Promise<{ response: HttpResponse }>) {
  const seen: HttpHandlerOptions[] = [];
  const requests: HttpRequest[] = [];
  const handler = {
    handle: (request: HttpRequest, options: HttpHandlerOptions = {}) => {
      seen.push(options);
      requests.push(request);
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
  return { invoker: new SageMakerInvoker(clients.sagemakerRuntime, () => undefined), seen, requests, client: clients.sagemakerRuntime };
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

  it("makes a call once, signed: a failure is not tried again, and no retry bookkeeping rides on the request", async () => {
    const failing = async () => ({
      response: new HttpResponse({
        statusCode: 500,
        headers: { "content-type": "application/json", "x-amzn-errortype": "InternalFailure" },
        body: Readable.from([Buffer.from('{"message":"the endpoint failed"}')]),
      }),
    });
    const { invoker, requests } = clientOver(failing);
    const err = (await invoker.invoke({ ...call, timeoutMs: 5_000 }).catch((e) => e)) as { status: number };
    expect(err.status).toBeGreaterThanOrEqual(500);
    expect(requests).toHaveLength(1);
    const headers = requests[0]?.headers ?? {};
    expect(headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=a\//);
    expect(headers).not.toHaveProperty("amz-sdk-request");
    expect(headers).not.toHaveProperty("amz-sdk-invocation-id");
  });

  it("signs every call, with one signer for the client instead of one built per call", async () => {
    const { invoker, requests, client } = clientOver(answer);
    for (let i = 0; i < 3; i++) await invoker.invoke({ ...call, timeoutMs: 5_000 });
    expect(requests).toHaveLength(3);
    for (const r of requests) {
      expect(r.headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=a\/\d{8}\/us-east-1\/sagemaker\/aws4_request, SignedHeaders=.*host.*x-amz-date.*, Signature=[0-9a-f]{64}$/,
      );
    }
    const scheme = { name: "sigv4", signingName: "sagemaker", signingRegion: "us-east-1", properties: {} };
    expect(await client.config.signer(scheme)).toBe(await client.config.signer(scheme));
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
