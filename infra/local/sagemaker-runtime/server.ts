import { randomUUID } from "node:crypto";
import { Agent, createServer, type IncomingHttpHeaders } from "node:http";
import { finished } from "node:stream/promises";
import { endpointLogGroup, POOL_VARIANT_NAME } from "../../../functions/contract/sagemaker-names";
import { guardListener, listenerOptions, listenLocal, tryDecodeURIComponent } from "../http-guard";
import { fromNodeRequest, type LocalHttpReply, type LocalHttpRequest } from "../in-process-http";
import { SageMakerError, sendSageMakerError } from "./aws-errors";
import { type ComponentLease, type ComponentSnapshot, type ComponentTarget, noCapacity, pickComponent } from "./components";
import { ContainerTimeoutError, ContainerUnreachableError, callContainer, openContainerRequest } from "./container-client";
import { encodeModelStreamError, encodePayloadPart, payloadParts } from "./event-stream";
import { InProcessHttpHandler } from "./in-process-handler";
import { containerPaths } from "./openai-upstream";
import { pickVariant, type VariantTarget } from "./variants";

export type { ComponentLease, ComponentSnapshot, ComponentTarget } from "./components";
export type { VariantTarget } from "./variants";

export interface SageMakerRuntimeEmulator {
  readonly url: string;
  readonly port: number;
  setEndpoint(name: string, variants: readonly VariantTarget[]): void;
  removeEndpoint(name: string): void;
  /** Adds (or replaces) an inference component on a pool endpoint, creating the endpoint if needed. */
  setComponent(endpointName: string, component: ComponentTarget): void;
  removeComponent(endpointName: string, componentName: string): void;
  /** Every component with its copies and the calls that named it (also `GET /_local/inference-components`). */
  components(): ComponentSnapshot[];
  /**
   * An SDK request handler that hands the SageMaker Runtime client's requests to this emulator
   * in process: the SDK still serializes, signs and parses each call (and the event stream of a
   * streamed one) exactly as over HTTP, but no socket, HTTP framing or second parse sits
   * between them. The local host's handlers use it; the HTTP listener stays for everything else.
   */
  inProcessHandler(): InProcessHttpHandler;
  close(): Promise<void>;
}

export interface SageMakerRuntimeEmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** How long a container may take to answer /invocations; SageMaker's is 60 s. */
  containerTimeoutMs?: number;
  /** Largest request body accepted; SageMaker real-time InvokeEndpoint's is 6 MB. @default 6 MiB */
  maxPayloadBytes?: number;
  /** Used in ARNs and console links of error messages. Default us-east-1 / 000000000000. */
  region?: string;
  accountId?: string;
  /**
   * Cut each chunk the container streams into PayloadParts of at most this many bytes.
   * Default: one part per chunk as it arrives. SageMaker may cut anywhere; tests set it small.
   */
  maxPartBytes?: number;
}

const ROUTE = /^\/endpoints\/([^/]+)\/(invocations|invocations-response-stream)$/;
/** Not a SageMaker API: the local host's view of its components, for tests and debugging. */
const STATE_ROUTE = "/_local/inference-components";
/** The container name SageMaker puts in ModelError messages for single-container endpoints. */
const CONTAINER = "primary";
const PING_TIMEOUT_MS = 2_000;

/**
 * A local SageMaker Runtime: InvokeEndpoint and InvokeEndpointWithResponseStream for endpoints
 * registered with setEndpoint, forwarded to each variant's container over a keep-alive pool;
 * on pool endpoints (setComponent), to the container of the inference component a call names.
 * It does not check SigV4 signatures: the SDK signs with whatever credentials it is given.
 */
export async function startSageMakerRuntimeEmulator(opts: SageMakerRuntimeEmulatorOptions = {}): Promise<SageMakerRuntimeEmulator> {
  const containerTimeoutMs = opts.containerTimeoutMs ?? 60_000;
  const region = opts.region ?? "us-east-1";
  const accountId = opts.accountId ?? "000000000000";
  const endpoints = new Map<string, readonly VariantTarget[]>();
  const pools = new Map<string, Map<string, ComponentTarget>>();
  // Weak: a component removed from its pool takes its counts with it.
  const calls = new WeakMap<ComponentTarget, { invocations: number; noCapacity: number }>();
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const maxPayload = opts.maxPayloadBytes ?? 6 * 1024 * 1024;

  /** One call, from either transport; every failure becomes SageMaker's error shape. */
  const serve = (req: LocalHttpRequest, res: LocalHttpReply): Promise<void> =>
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      const failure = err instanceof SageMakerError ? err : new SageMakerError("InternalFailure", (err as Error).message ?? String(err));
      // A refused request whose body was not read: close instead of draining what it still sends.
      if (!req.complete) res.setHeader("connection", "close");
      sendSageMakerError(res, failure);
    });
  const server = createServer(listenerOptions(), (req, res) => void serve(fromNodeRequest(req), res));
  server.keepAliveTimeout = 65_000;
  guardListener(server, (_status, message) => ({
    body: JSON.stringify({ Message: message }),
    headers: { "x-amzn-errortype": "ValidationError" },
  }));

  async function handle(req: LocalHttpRequest, res: LocalHttpReply): Promise<void> {
    const path = req.url.split("?", 1)[0] ?? "";
    if (req.method === "GET" && path === STATE_ROUTE) {
      const body = JSON.stringify({ components: snapshots() });
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    const match = req.method === "POST" ? ROUTE.exec(path) : null;
    if (!match) throw new SageMakerError("ValidationError", `Unsupported operation: ${req.method} ${req.url}`);
    const endpointName = tryDecodeURIComponent(match[1] as string);
    if (endpointName === undefined) throw new SageMakerError("ValidationError", "Endpoint name is not valid percent-encoding.");
    const streaming = match[2] === "invocations-response-stream";
    // SageMaker's own words for an oversized payload.
    const body = await req.body(
      maxPayload,
      () => new SageMakerError("PayloadTooLarge", `HTTP content length exceeded ${maxPayload} bytes.`),
    );
    const variants = endpoints.get(endpointName);
    const components = pools.get(endpointName);
    if (!variants && !components) {
      throw new SageMakerError("ValidationError", `Endpoint ${endpointName} of account ${accountId} not found.`);
    }
    const component = pickComponent(endpointName, components, header(req, "x-amzn-sagemaker-inference-component"));
    let lease: ComponentLease | undefined;
    let target: Target;
    if (component) {
      const counts = countsOf(component);
      counts.invocations += 1;
      lease = component.acquire();
      if (!lease) {
        counts.noCapacity += 1;
        throw noCapacity();
      }
      target = {
        variant: { variantName: POOL_VARIANT_NAME, url: lease.url, ...(component.protocol && { protocol: component.protocol }) },
        label: `inference component ${component.componentName}`,
      };
    } else {
      const variant = pickVariant(endpointName, variants ?? [], header(req, "x-amzn-sagemaker-target-variant"));
      target = { variant, label: `variant ${variant.variantName}` };
    }
    const { variant } = target;
    // InvokeEndpoint carries Accept as `Accept`; the streaming call as X-Amzn-SageMaker-Accept.
    const accept = header(req, streaming ? "x-amzn-sagemaker-accept" : "accept");
    const customAttributes = header(req, "x-amzn-sagemaker-custom-attributes");
    const headers: Record<string, string> = {
      "content-type": header(req, "content-type") ?? "application/octet-stream",
      "content-length": String(body.length),
      ...(accept && { accept }),
      ...(customAttributes && { "x-amzn-sagemaker-custom-attributes": customAttributes }),
    };
    const init = { method: "POST" as const, path: containerPaths(variant, body, customAttributes).invocations, headers, body };
    const context = { endpointName, ...target };
    try {
      if (streaming) await stream(res, context, init);
      else await invoke(res, context, init);
    } catch (err) {
      throw await toSageMakerError(err, context);
    } finally {
      lease?.release();
    }
  }

  /** Where a call goes: a variant's container, or a component's copy; `label` names it in errors. */
  type Target = { variant: VariantTarget; label: string };
  type Context = Target & { endpointName: string };
  type Init = Parameters<typeof callContainer>[1];

  function countsOf(component: ComponentTarget) {
    const counts = calls.get(component) ?? { invocations: 0, noCapacity: 0 };
    calls.set(component, counts);
    return counts;
  }

  function snapshots(): ComponentSnapshot[] {
    return [...pools].flatMap(([endpointName, components]) =>
      [...components.values()].map((c) => ({
        endpointName,
        componentName: c.componentName,
        ...c.describe(),
        ...(calls.get(c) ?? { invocations: 0, noCapacity: 0 }),
      })),
    );
  }

  async function invoke(res: LocalHttpReply, context: Context, init: Init): Promise<void> {
    const { variant } = context;
    const answer = await callContainer(variant.url, init, agent, containerTimeoutMs);
    if (answer.status < 200 || answer.status > 299) {
      throw await containerFailure(context, answer.status, answer.body.toString("utf8"));
    }
    const customAttributes = answer.headers["x-amzn-sagemaker-custom-attributes"];
    res.writeHead(200, {
      "content-type": answer.headers["content-type"] ?? "application/octet-stream",
      "content-length": answer.body.length,
      "x-amzn-invoked-production-variant": variant.variantName,
      "x-amzn-requestid": randomUUID(),
      ...(typeof customAttributes === "string" && { "x-amzn-sagemaker-custom-attributes": customAttributes }),
    });
    res.end(answer.body);
  }

  /**
   * Each chunk the container sends is relayed as PayloadPart events the moment it arrives, as
   * SageMaker relays a streamed body. A failure before the first byte is an ordinary error
   * response (handled by the caller); after it, a ModelStreamError frame ends the stream.
   */
  async function stream(res: LocalHttpReply, context: Context, init: Init): Promise<void> {
    const { variant } = context;
    const { response, timedOut } = await openContainerRequest(variant.url, init, agent, containerTimeoutMs);
    const status = response.statusCode ?? 0;
    if (status < 200 || status > 299) {
      const chunks: Buffer[] = [];
      for await (const chunk of response) chunks.push(chunk as Buffer);
      throw await containerFailure(context, status, Buffer.concat(chunks).toString("utf8"));
    }
    res.writeHead(200, {
      "content-type": "application/vnd.amazon.eventstream",
      "x-amzn-sagemaker-content-type": response.headers["content-type"] ?? "application/octet-stream",
      "x-amzn-invoked-production-variant": variant.variantName,
      "x-amzn-requestid": randomUUID(),
    });
    try {
      // 'data' events rather than an async iterator: no promise and microtask per token.
      response.on("data", (chunk: Buffer) => {
        for (const part of payloadParts(chunk, opts.maxPartBytes)) res.write(encodePayloadPart(part));
      });
      await finished(response);
    } catch (err) {
      const frame = timedOut()
        ? encodeModelStreamError("ModelInvocationTimeExceeded", `The model did not finish its response within ${containerTimeoutMs} ms.`)
        : encodeModelStreamError("StreamBroken", `The connection to the model container broke: ${(err as Error).message}`);
      res.end(frame);
      return;
    }
    res.end();
  }

  /** ModelError as SageMaker words it, or ModelNotReady when the container says it is not up. */
  async function containerFailure(
    { endpointName, variant, label }: Context,
    status: number,
    originalMessage: string,
  ): Promise<SageMakerError> {
    if (status === 503 && !(await pingOk(variant))) {
      return new SageMakerError(
        "ModelNotReadyException",
        `Model for endpoint ${endpointName} ${label} is not ready: its /ping does not answer 200.`,
      );
    }
    return modelError(endpointName, status, originalMessage);
  }

  function modelError(endpointName: string, status: number, originalMessage: string): SageMakerError {
    const kind = status >= 400 && status < 500 ? "client" : "server";
    const logGroup = endpointLogGroup(endpointName);
    return new SageMakerError(
      "ModelError",
      `Received ${kind} error (${status}) from ${CONTAINER} with message "${originalMessage}". See https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#logEventViewer:group=${logGroup} in account ${accountId} for more information.`,
      {
        OriginalStatusCode: status,
        OriginalMessage: originalMessage,
        LogStreamArn: `arn:aws:logs:${region}:${accountId}:log-group:${logGroup}`,
      },
    );
  }

  async function toSageMakerError(err: unknown, { endpointName, label }: Context): Promise<unknown> {
    if (err instanceof ContainerTimeoutError) {
      // SageMaker reports a container timeout as a ModelError with original status 0.
      return modelError(
        endpointName,
        0,
        `Your invocation timed out while waiting for a response from container ${CONTAINER}. Review the latency metrics for each container in Amazon CloudWatch, resolve the issue, and try again.`,
      );
    }
    if (err instanceof ContainerUnreachableError) {
      return new SageMakerError("ServiceUnavailable", `Endpoint ${endpointName} ${label} has no reachable instance (${err.message}).`);
    }
    return err;
  }

  async function pingOk(variant: VariantTarget): Promise<boolean> {
    try {
      const path = containerPaths(variant, Buffer.alloc(0)).ping;
      return (await callContainer(variant.url, { method: "GET", path }, agent, PING_TIMEOUT_MS)).status === 200;
    } catch {
      return false;
    }
  }

  const { port, url } = await listenLocal(server, opts.port, opts.host);
  return {
    url,
    port,
    setEndpoint(name, variants) {
      if (variants.length === 0) throw new Error(`endpoint ${name} needs at least one variant`);
      endpoints.set(name, [...variants]);
    },
    removeEndpoint(name) {
      endpoints.delete(name);
      pools.delete(name);
    },
    setComponent(endpointName, component) {
      const components = pools.get(endpointName) ?? new Map<string, ComponentTarget>();
      pools.set(endpointName, components);
      components.set(component.componentName, component);
    },
    removeComponent(endpointName, componentName) {
      const components = pools.get(endpointName);
      components?.delete(componentName);
      if (components?.size === 0) pools.delete(endpointName);
    },
    components: snapshots,
    inProcessHandler: () => new InProcessHttpHandler(serve),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}

function header(req: { readonly headers: IncomingHttpHeaders }, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
