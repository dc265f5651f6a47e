import type { UpstreamRoute } from "../contract/upstream-route";
import { ApiError } from "./errors";
import { invokeTargetOf } from "./invoke-target";
import type { ModelInvoker, UsageSink } from "./ports";
import { buildUsageRecord, shadowRequestId } from "./usage";

/** A sampled copy of a served request, bound for an alias's shadow version. */
export interface ShadowRequest {
  /** The client request it copies; the shadow's usage record gets a derived id. */
  readonly requestId: string;
  readonly receivedAt: number;
  readonly tenantId: string;
  readonly keyId: string;
  readonly model: string;
  readonly alias: string;
  readonly version: number;
  readonly endpointName: string;
  readonly variantName: string;
  /** The shadow version's inference component, when it is placed on a pool. */
  readonly inferenceComponentName?: string;
  /** Base64, so the request survives a JSON hop (Lambda's async invoke payload). */
  readonly body: string;
  readonly contentType: string;
  readonly accept?: string;
  /** The OpenAI route the copied request called. */
  readonly route?: UpstreamRoute;
}

/**
 * Hands a shadow copy off so that it runs outside the client's request: in Lambda an
 * asynchronous invocation of the shadow function, on the local host the same call to the
 * local Lambda endpoint. Resolves once handed off; the copy's own outcome is never awaited.
 */
export interface ShadowDispatcher {
  dispatch(req: ShadowRequest): Promise<void>;
}

export interface ShadowDeps {
  readonly invoker: ModelInvoker;
  readonly usage: UsageSink;
  readonly invokeTimeoutMs: number;
  readonly now?: () => number;
}

export interface ShadowOutcome {
  readonly status: number;
  readonly latencyMs: number;
}

/**
 * Runs one shadow copy: calls the shadow variant, discards its answer, and records its usage
 * as `shadow` (counted apart, never billed). Failures of the shadow are its own business: they
 * are recorded with their status and never reach the client, who was answered already.
 */
export async function runShadow(deps: ShadowDeps, req: ShadowRequest): Promise<ShadowOutcome> {
  const now = deps.now ?? Date.now;
  const started = now();
  const body = Buffer.from(req.body, "base64");
  let status = 200;
  let bytesOut = 0;
  try {
    const out = await deps.invoker.invoke({
      ...invokeTargetOf(req),
      body,
      contentType: req.contentType,
      timeoutMs: deps.invokeTimeoutMs,
      ...(req.accept ? { accept: req.accept } : {}),
      ...(req.route ? { route: req.route } : {}),
    });
    bytesOut = out.body.byteLength;
  } catch (err) {
    status = err instanceof ApiError ? err.status : 500;
  }
  const finished = now();
  await deps.usage.record(
    buildUsageRecord({
      requestId: shadowRequestId(req.requestId),
      receivedAt: req.receivedAt,
      finishedAt: req.receivedAt + (finished - started),
      tenantId: req.tenantId,
      keyId: req.keyId,
      model: req.model,
      version: req.version,
      alias: req.alias,
      kind: "shadow",
      status,
      bytesIn: body.byteLength,
      bytesOut,
    }),
  );
  return { status, latencyMs: finished - started };
}
