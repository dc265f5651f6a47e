import { ApiError, NotFoundError, ServiceUnavailableError } from "./errors";
import { reportedTokens, validateInferRequest } from "./kserve";
import type { ModelInvoker, RegistryReader, UsageSink } from "./ports";
import { type Principal, requireGrant, requireScope } from "./principal";
import type { ModelRecord } from "./registry";
import { resolveVersion, type VersionSelector } from "./routing";
import { buildUsageRecord } from "./usage";

export interface InferenceRequest {
  readonly requestId: string;
  readonly receivedAt: number;
  readonly principal: Principal;
  readonly model: string;
  readonly selector: VersionSelector;
  /** Sticky routing key: the caller's `x-routing-key`, else the API key id. */
  readonly routingKey: string;
  /** `kserve`: a KServe v2 JSON request (parsed into `json`), checked here; `raw`: passed through untouched. */
  readonly protocol: "kserve" | "raw";
  readonly json?: unknown;
  readonly body: Uint8Array;
  readonly contentType: string;
  readonly accept?: string;
}

export interface InferenceResult {
  readonly body: Uint8Array;
  readonly contentType: string;
  readonly model: string;
  readonly version: number;
  readonly alias?: string;
}

export interface InferenceDeps {
  readonly registry: RegistryReader;
  readonly invoker: ModelInvoker;
  readonly usage: UsageSink;
  readonly invokeTimeoutMs: number;
  readonly now?: () => number;
}

/** Failure after the model was reached: carries what answered so usage and headers can say so. */
export class InferenceFailedError extends Error {
  override readonly name = "InferenceFailedError";
  constructor(
    readonly error: unknown,
    readonly model: string,
    readonly version: number,
    readonly alias: string | undefined,
  ) {
    super("inference failed", { cause: error });
  }
}

export async function lookupModel(registry: RegistryReader, model: string): Promise<ModelRecord> {
  const record = await registry.getModel(model);
  if (!record) throw new NotFoundError(`model '${model}' does not exist`);
  return record;
}

/**
 * The request path after authorization: scope and grant checks, version resolution, the
 * model call, and exactly one usage record for every request that reached the model. A usage
 * record that cannot be written fails the request (503): nothing is served unbilled.
 */
export async function runInference(deps: InferenceDeps, req: InferenceRequest): Promise<InferenceResult> {
  const now = deps.now ?? Date.now;
  requireScope(req.principal, "invoke");
  const model = await lookupModel(deps.registry, req.model);
  requireGrant(req.principal, req.model);
  const { version, alias } = resolveVersion(model, req.selector, req.routingKey);
  if (req.protocol === "kserve") validateInferRequest(req.json);

  let status = 200;
  let response: Awaited<ReturnType<ModelInvoker["invoke"]>> | undefined;
  let failure: unknown;
  try {
    response = await deps.invoker.invoke({
      endpointName: version.endpointName,
      variantName: version.variantName,
      body: req.body,
      contentType: req.contentType,
      timeoutMs: deps.invokeTimeoutMs,
      ...(req.accept ? { accept: req.accept } : {}),
    });
  } catch (err) {
    // Not-ready and unreachable endpoints never ran the model: nothing to meter.
    if (err instanceof ServiceUnavailableError) throw new InferenceFailedError(err, req.model, version.version, alias);
    failure = err;
    status = err instanceof ApiError ? err.status : 500;
  }

  const record = buildUsageRecord({
    requestId: req.requestId,
    receivedAt: req.receivedAt,
    finishedAt: now(),
    tenantId: req.principal.tenantId,
    keyId: req.principal.keyId,
    model: req.model,
    version: version.version,
    alias,
    status,
    bytesIn: req.body.byteLength,
    bytesOut: response?.body.byteLength ?? 0,
    tokens: response ? tokensOf(response.body, response.contentType) : undefined,
  });
  try {
    await deps.usage.record(record);
  } catch (err) {
    throw new InferenceFailedError(
      new ServiceUnavailableError("usage could not be recorded; the request was not served", { cause: err, retryAfterSeconds: 1 }),
      req.model,
      version.version,
      alias,
    );
  }
  if (failure !== undefined || !response) throw new InferenceFailedError(failure, req.model, version.version, alias);
  return {
    body: response.body,
    contentType: response.contentType,
    model: req.model,
    version: version.version,
    ...(alias ? { alias } : {}),
  };
}

function tokensOf(body: Uint8Array, contentType: string) {
  if (!/json/i.test(contentType) || body.byteLength > 1_000_000) return undefined;
  try {
    return reportedTokens(JSON.parse(Buffer.from(body).toString("utf8")));
  } catch {
    return undefined;
  }
}
