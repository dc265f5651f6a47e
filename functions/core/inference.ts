import type { UpstreamRoute } from "../contract/upstream-route";
import { admit, hasBudget, hasTokenQuota, settle, tokenReservationOf } from "./admission";
import { ApiError, ServiceUnavailableError } from "./errors";
import { invokeTargetOf } from "./invoke-target";
import { reportedTokens, validateInferRequest } from "./kserve";
import type { LimitStore } from "./limits/tenant-limits";
import { openModel } from "./model-access";
import { batchPriceOf } from "./money/batch-price";
import { costEstimateNano } from "./money/budget-estimate";
import type { Price } from "./money/prices";
import type { InvokeResponse, ModelInvoker, RegistryReader, UsageSink } from "./ports";
import type { Principal } from "./principal";
import type { ModelVersion } from "./registry";
import { inShadowSample, type Resolution, type VersionSelector } from "./routing";
import type { ShadowDispatcher } from "./shadow";
import { buildRefusalRecord, buildUsageRecord, costNanoOf } from "./usage";

export interface InferenceRequest {
  readonly requestId: string;
  readonly receivedAt: number;
  readonly principal: Principal;
  readonly model: string;
  readonly selector: VersionSelector;
  /** Sticky routing key: the caller's `x-routing-key`, else the API key id. */
  readonly routingKey: string;
  /** `kserve`: a KServe v2 JSON request (parsed into `json`), checked here; `raw`: passed through untouched; `openai`: checked by its route. */
  readonly protocol: "kserve" | "raw" | "openai";
  readonly json?: unknown;
  readonly body: Uint8Array;
  readonly contentType: string;
  readonly accept?: string;
  /** Tokens to reserve against a token quota; by default the body's own maximum, if it names one. */
  readonly tokenReservation?: number;
  /** How long the model may take, which bounds a per-second price's reservation. @default the invoke timeout */
  readonly timeoutMs?: number;
  /**
   * What a shadow copy is sent, when not `body` (a streamed request's copy is not streamed): built
   * only when a copy is sent, which most requests never are.
   */
  readonly shadowBody?: () => Uint8Array;
  /** The OpenAI route called, passed to the container with the body (see InvokeRequest). */
  readonly route?: UpstreamRoute;
  /** `batch`: a line of a batch job, metered and priced as one (functions/core/batch). @default billable */
  readonly kind?: "batch";
}

export interface InferenceResult {
  readonly body: Uint8Array;
  readonly contentType: string;
  readonly model: string;
  readonly version: number;
  readonly alias?: string;
  /** Set when the alias's fallback answered: the version that failed or was not ready. */
  readonly fallbackFrom?: number;
  /** x-ratelimit-* headers of the tenant's limits, when it has any. */
  readonly headers: Readonly<Record<string, string>>;
  /** Tokens the model reported (KServe v2 outputs or an LLM usage object), as metered. */
  readonly tokens?: { readonly input: number; readonly output: number };
  /** What the request cost (its usage record's `cost`), when a price applied. */
  readonly cost?: string;
}

export interface InferenceDeps {
  readonly registry: RegistryReader;
  readonly invoker: ModelInvoker;
  readonly usage: UsageSink;
  readonly invokeTimeoutMs: number;
  /** Tenant limits; without a store, limits are not enforced. */
  readonly limits?: LimitStore;
  /** Where sampled shadow copies go; without one, aliases' shadows are not served. */
  readonly shadow?: ShadowDispatcher;
  /** Told about shadow copies that could not be handed off (they never affect the client). */
  readonly onShadowError?: (err: unknown) => void;
  /** Told about token counts a model reported that cannot be billed (they are ignored). */
  readonly onRejectedTokens?: (r: RejectedTokens) => void;
  readonly now?: () => number;
}

/** A model's token report that was not billed: which request, which model, what it said. */
export interface RejectedTokens {
  readonly requestId: string;
  readonly model: string;
  readonly version: number;
  readonly usage: unknown;
}

/** Failure after a version was chosen: carries what answered so usage and headers can say so. */
export class InferenceFailedError extends Error {
  override readonly name = "InferenceFailedError";
  constructor(
    readonly error: unknown,
    readonly model: string,
    readonly version: number,
    readonly alias: string | undefined,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super("inference failed", { cause: error });
  }
}

/**
 * The request path after authorization: scope and grant checks, version resolution, the
 * tenant's limits (charged atomically before the model is called), the model call with the
 * alias's fallback, and exactly one usage record for every request that reached the model. A
 * usage record that cannot be written fails the request (503): nothing is served unbilled.
 */
export async function runInference(deps: InferenceDeps, req: InferenceRequest): Promise<InferenceResult> {
  return admitted(deps, req, (resolution, limitHeaders, used) => serve(deps, req, resolution, limitHeaders, used));
}

/**
 * What serving reports back (`tokens`, and `costNano`, its usage record's cost), and what its
 * usage record needs from the admission: the quota leases it was admitted under, the model's prices.
 */
export type Used = { tokens?: number; costNano?: number; readonly leases?: readonly string[]; readonly prices?: readonly Price[] };

/** How a request is served once admitted; reports the tokens used in `used`. */
export type AdmittedServe<T> = (resolution: Resolution, limitHeaders: Readonly<Record<string, string>>, used: Used) => Promise<T>;

/**
 * The opening every model route shares: scope and grant, version resolution, the request's
 * checks, the limits (charged before the call, settled after it). Then `serveAdmitted` calls
 * the model, buffered or streamed. Nothing is written before the call for reconciliation: the
 * gateway's access log is the independent record of every request (functions/core/access.ts).
 */
export async function admitted<T>(deps: InferenceDeps, req: InferenceRequest, serveAdmitted: AdmittedServe<T>): Promise<T> {
  const now = deps.now ?? Date.now;
  const { model, resolution } = await openModel(deps.registry, req.principal, req);
  if (req.protocol === "kserve") validateInferRequest(req.json);
  const tokenQuota = hasTokenQuota(req.principal);
  const budgeted = hasBudget(req.principal);
  // Parsing a raw body for its maximum is only worth it when a token quota or a budget applies.
  const tokens = tokenQuota || budgeted ? (req.tokenReservation ?? tokenReservationOf(req, model, resolution.version.runtime)) : 0;
  const admission = await admit(deps.limits, req.principal, {
    now: now(),
    requestId: req.requestId,
    tokenEstimate: tokenQuota ? tokens : 0,
    ...(budgeted
      ? {
          // A batch line is reserved at the batch price it will be billed at.
          costEstimateNano: costEstimateNano(req.kind === "batch" ? model.prices?.map((p) => batchPriceOf(p)) : model.prices, {
            model: req.model,
            versions: [resolution.version.version, ...(resolution.fallback ? [resolution.fallback.version] : [])],
            tenant: req.principal.tenantId,
            at: new Date(req.receivedAt).toISOString(),
            tokens,
            modelTimeMs: req.timeoutMs ?? deps.invokeTimeoutMs,
          }),
        }
      : {}),
  });
  if ("refused" in admission) {
    await recordRefusal(deps, req, resolution);
    throw new InferenceFailedError(admission.refused, req.model, resolution.version.version, resolution.alias);
  }
  const used: Used = {
    ...(admission.leases.length > 0 ? { leases: admission.leases } : {}),
    ...(model.prices ? { prices: model.prices } : {}),
  };
  try {
    return await serveAdmitted(resolution, admission.headers, used);
  } finally {
    // Frees the concurrency slot and settles the token and cost reservations to what was used: a
    // request that wrote no record (the model never ran, or it could not be billed) cost nothing.
    await settle(deps.limits, admission, { tokens: used.tokens, costNano: used.costNano ?? 0 }, now());
  }
}

/** The model call (with fallback), its usage record, and the answer. Reports tokens in `used`. */
async function serve(
  deps: InferenceDeps,
  req: InferenceRequest,
  resolution: Resolution,
  limitHeaders: Readonly<Record<string, string>>,
  used: Used,
): Promise<InferenceResult> {
  const now = deps.now ?? Date.now;
  const { alias } = resolution;
  // Handed off before the model call, so the copy never waits for (or delays) the answer.
  dispatchShadow(deps, req, resolution);

  const call = (v: ModelVersion) =>
    deps.invoker.invoke({
      ...invokeTargetOf(v),
      body: req.body,
      contentType: req.contentType,
      timeoutMs: deps.invokeTimeoutMs,
      ...(req.accept ? { accept: req.accept } : {}),
      ...(req.route ? { route: req.route } : {}),
    });

  let answered = resolution.version;
  let fallbackFrom = resolution.notReady;
  let status = 200;
  let response: InvokeResponse | undefined;
  let failure: unknown;
  try {
    response = await call(answered);
  } catch (err) {
    if (resolution.fallback && isServerSide(err)) {
      // The primary failed on its side (5xx, not ready, unreachable): the fallback answers instead.
      fallbackFrom = answered.version;
      answered = resolution.fallback;
      try {
        response = await call(answered);
      } catch (again) {
        failure = again;
      }
    } else {
      failure = err;
    }
  }
  const fail = (error: unknown) => new InferenceFailedError(error, req.model, answered.version, alias, limitHeaders);
  if (failure !== undefined) {
    // Not-ready and unreachable endpoints never ran the model: nothing to meter, no gap to find.
    if (failure instanceof ServiceUnavailableError) throw fail(failure);
    status = failure instanceof ApiError ? failure.status : 500;
  }

  const tokens = response ? tokensOf(response.body, response.contentType, rejectedTokens(deps, req, answered.version)) : undefined;
  if (tokens) used.tokens = tokens.input + tokens.output;
  const record = usageRecordOf(req, {
    version: answered.version,
    alias,
    status,
    finishedAt: now(),
    bytesOut: response?.body.byteLength ?? 0,
    tokens,
    leases: used.leases,
    prices: used.prices,
  });
  try {
    await deps.usage.record(record);
    used.costNano = costNanoOf(record);
  } catch (err) {
    // The client gets a 503 and owes nothing; reconciliation never takes a 503 for a gap.
    throw fail(unrecorded(err));
  }
  if (failure !== undefined || !response) throw fail(failure);
  return {
    body: response.body,
    contentType: response.contentType,
    model: req.model,
    version: answered.version,
    ...(alias ? { alias } : {}),
    ...(fallbackFrom !== undefined ? { fallbackFrom } : {}),
    headers: limitHeaders,
    ...(tokens ? { tokens } : {}),
    ...(record.cost !== undefined ? { cost: record.cost } : {}),
  };
}

/** The usage record of a request that reached the model: who, which version, what it cost. */
export function usageRecordOf(
  req: InferenceRequest,
  outcome: {
    readonly version: number;
    readonly alias: string | undefined;
    readonly status: number;
    readonly finishedAt: number;
    readonly bytesOut: number;
    readonly tokens: { readonly input: number; readonly output: number } | undefined;
    readonly leases?: readonly string[] | undefined;
    readonly prices?: readonly Price[] | undefined;
  },
) {
  return buildUsageRecord({
    requestId: req.requestId,
    receivedAt: req.receivedAt,
    tenantId: req.principal.tenantId,
    keyId: req.principal.keyId,
    model: req.model,
    bytesIn: req.body.byteLength,
    ...(req.kind ? { kind: req.kind } : {}),
    ...outcome,
  });
}

/**
 * A refusal is counted (never billed) so operators see pressure on limits. Best effort: the
 * client gets its 429 either way, and a lost refusal record bills nobody.
 */
async function recordRefusal(deps: InferenceDeps, req: InferenceRequest, r: Resolution): Promise<void> {
  await deps.usage
    .record(
      buildRefusalRecord({
        requestId: req.requestId,
        receivedAt: req.receivedAt,
        tenantId: req.principal.tenantId,
        keyId: req.principal.keyId,
        model: req.model,
        version: r.version.version,
        alias: r.alias,
        bytesIn: req.body.byteLength,
      }),
    )
    .catch(() => undefined);
}

export function unrecorded(cause: unknown): ServiceUnavailableError {
  return new ServiceUnavailableError("usage could not be recorded; the request was not served", { cause, retryAfterSeconds: 1 });
}

/** Failures a fallback may cover: the model side broke, not the request. */
export function isServerSide(err: unknown): boolean {
  return !(err instanceof ApiError) || err.status >= 500;
}

export function dispatchShadow(deps: InferenceDeps, req: InferenceRequest, r: Resolution): void {
  if (!deps.shadow || !r.shadow || !r.alias || !inShadowSample(req.requestId, r.shadow.percent)) return;
  const shadow = r.shadow.version;
  deps.shadow
    .dispatch({
      requestId: req.requestId,
      receivedAt: req.receivedAt,
      tenantId: req.principal.tenantId,
      keyId: req.principal.keyId,
      model: req.model,
      alias: r.alias,
      version: shadow.version,
      ...invokeTargetOf(shadow),
      body: Buffer.from(req.shadowBody?.() ?? req.body).toString("base64"),
      contentType: req.contentType,
      ...(req.accept ? { accept: req.accept } : {}),
      ...(req.route ? { route: req.route } : {}),
    })
    .catch((err: unknown) => deps.onShadowError?.(err));
}

/** Where a request's unbillable token report goes (nowhere without `onRejectedTokens`). */
export function rejectedTokens(deps: InferenceDeps, req: InferenceRequest, version: number): (usage: unknown) => void {
  return (usage) => deps.onRejectedTokens?.({ requestId: req.requestId, model: req.model, version, usage });
}

function tokensOf(body: Uint8Array, contentType: string, onRejected: (usage: unknown) => void) {
  if (!/json/i.test(contentType) || body.byteLength > 1_000_000) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body).toString("utf8"));
  } catch {
    return undefined;
  }
  return reportedTokens(parsed, onRejected);
}
