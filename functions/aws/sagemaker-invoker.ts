import {
  InternalDependencyException,
  InternalFailure,
  InvokeEndpointCommand,
  InvokeEndpointWithResponseStreamCommand,
  ModelError,
  ModelNotReadyException,
  type SageMakerRuntimeClient,
  ServiceUnavailable,
  ValidationError,
} from "@aws-sdk/client-sagemaker-runtime";
import { routeAttribute } from "../contract/upstream-route";
import {
  ApiError,
  BadRequestError,
  DeadlineExceededError,
  ModelFailedError,
  ModelInputError,
  ModelWakingError,
  ServiceUnavailableError,
} from "../core/errors";
import type { InvokeRequest, InvokeResponse, ModelInvoker } from "../core/ports";
import { logger } from "../http/logger";
import { withCallSignal } from "./call-signal";

/** What SageMaker or the container said about a failed call: for the operator's log, never the client. */
export interface ModelCallFailure {
  readonly endpointName: string;
  readonly variantName: string;
  readonly inferenceComponentName?: string;
  readonly error: string;
  readonly message: string;
  readonly originalStatusCode?: number;
  readonly originalMessage?: string;
}

const logFailure = (failure: ModelCallFailure) => logger.warn("model call failed", { ...failure });

/**
 * SageMaker's answer to a call on an inference component with no copy (scaled to zero, or
 * not yet scaled out): a ValidationError (HTTP 400) whose message reads "Inference Component
 * has no capacity to process this request. ApplicationAutoScaling may be in-progress (if
 * configured) or try to increase the capacity by invoking UpdateInferenceComponentRuntimeConfig
 * API." (AWS ML blog, "Unlock cost savings with the new scale down to zero feature in SageMaker
 * Inference", 2024-12). The failed call is what raises NoCapacityInvocationFailures, the metric
 * whose alarm scales the component out from zero.
 */
const NO_CAPACITY = /inference component has no capacity/i;

/**
 * How long a client should wait for a waking component in the cloud: a copy on a running
 * instance loads in tens of seconds, after the alarm's one-minute period; a new instance takes
 * minutes. A host whose copies start faster passes its own (SageMakerInvokerOptions).
 */
export const WAKING_RETRY_AFTER_SECONDS = 30;

export interface SageMakerInvokerOptions {
  /** Retry-After of a waking component's 503. @default WAKING_RETRY_AFTER_SECONDS */
  readonly wakingRetryAfterSeconds?: number;
}

/**
 * InvokeEndpoint with TargetVariant (or InferenceComponentName) and our own deadline; SageMaker failures become ApiErrors
 * with generic messages (SageMaker's and the container's texts name accounts, variants and
 * container internals), and the detail goes to `onFailure`: the log.
 */
export class SageMakerInvoker implements ModelInvoker {
  private readonly wakingRetryAfterSeconds: number;

  constructor(
    private readonly client: SageMakerRuntimeClient,
    private readonly onFailure: (failure: ModelCallFailure) => void = logFailure,
    options: SageMakerInvokerOptions = {},
  ) {
    this.wakingRetryAfterSeconds = options.wakingRetryAfterSeconds ?? WAKING_RETRY_AFTER_SECONDS;
  }

  async invoke(req: InvokeRequest): Promise<InvokeResponse> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), req.timeoutMs);
    try {
      const out = await this.client.send(new InvokeEndpointCommand(withCallSignal(commandInput(req), abort.signal)));
      return {
        body: out.Body ?? new Uint8Array(),
        contentType: out.ContentType ?? "application/octet-stream",
        ...(out.InvokedProductionVariant ? { invokedVariant: out.InvokedProductionVariant } : {}),
      };
    } catch (err) {
      if (abort.signal.aborted) throw new DeadlineExceededError(`the model did not answer within ${req.timeoutMs} ms`, { cause: err });
      if (!(err instanceof ApiError)) this.onFailure(failureOf(req, err));
      throw mapSageMakerError(err, this.wakingRetryAfterSeconds);
    } finally {
      clearTimeout(timer);
    }
  }

  /** InvokeEndpointWithResponseStream: the container's bytes, PayloadPart by PayloadPart. */
  async invokeStream(req: InvokeRequest): Promise<AsyncIterable<Uint8Array>> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), req.timeoutMs);
    const failed = (err: unknown): ApiError => {
      if (abort.signal.aborted) return new DeadlineExceededError(`the model did not finish within ${req.timeoutMs} ms`, { cause: err });
      if (!(err instanceof ApiError)) this.onFailure(failureOf(req, err));
      return mapSageMakerError(err, this.wakingRetryAfterSeconds);
    };
    try {
      const out = await this.client.send(new InvokeEndpointWithResponseStreamCommand(withCallSignal(commandInput(req), abort.signal)));
      const events = out.Body;
      if (!events) throw new ModelFailedError("the model endpoint sent no stream");
      return (async function* parts() {
        try {
          for await (const event of events) {
            if (event.PayloadPart?.Bytes) yield event.PayloadPart.Bytes;
            else if (event.ModelStreamError) throw new ModelFailedError("the model failed mid-stream", { cause: event.ModelStreamError });
            else if (event.InternalStreamFailure)
              throw new ModelFailedError("the model stream failed", { cause: event.InternalStreamFailure });
          }
        } catch (err) {
          throw failed(err);
        } finally {
          clearTimeout(timer);
        }
      })();
    } catch (err) {
      clearTimeout(timer);
      throw failed(err);
    }
  }
}

/** The request fields both calls share: endpoint, variant or component, body and media types. */
function commandInput(req: InvokeRequest) {
  return {
    EndpointName: req.endpointName,
    // A pool endpoint routes by component; its variant is the pool's, never the version's.
    ...(req.inferenceComponentName ? { InferenceComponentName: req.inferenceComponentName } : { TargetVariant: req.variantName }),
    Body: req.body,
    ContentType: req.contentType,
    ...(req.accept ? { Accept: req.accept } : {}),
    // SageMaker hands CustomAttributes to the container as X-Amzn-SageMaker-Custom-Attributes.
    ...(req.route ? { CustomAttributes: routeAttribute(req.route) } : {}),
  };
}

/** SageMaker Runtime errors → the API's errors (see the mapping table in README). */
export function mapSageMakerError(err: unknown, wakingRetryAfterSeconds = WAKING_RETRY_AFTER_SECONDS): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof ValidationError && NO_CAPACITY.test(err.message)) {
    return new ModelWakingError(`the model is scaling up from zero; retry in ${wakingRetryAfterSeconds} seconds`, {
      cause: err,
      retryAfterSeconds: wakingRetryAfterSeconds,
    });
  }
  if (err instanceof ValidationError) return new BadRequestError("the model endpoint rejected the request", { cause: err });
  if (err instanceof ModelError) {
    const original = err.OriginalStatusCode ?? 500;
    if (original === 400) return new BadRequestError("the model rejected the input (status 400)", { cause: err });
    if (original >= 400 && original < 500) return new ModelInputError(`the model rejected the input (status ${original})`, { cause: err });
    return new ModelFailedError(`the model failed (status ${original})`, { cause: err });
  }
  if (err instanceof ModelNotReadyException || err instanceof ServiceUnavailable || err instanceof InternalDependencyException) {
    return new ServiceUnavailableError("the model is not ready to serve; retry shortly", { cause: err, retryAfterSeconds: 5 });
  }
  const name = (err as { name?: string } | undefined)?.name ?? "";
  if (/Throttl/i.test(name))
    return new ServiceUnavailableError("the model endpoint is throttling; retry shortly", { cause: err, retryAfterSeconds: 2 });
  if (err instanceof InternalFailure) return new ModelFailedError("the model endpoint failed", { cause: err });
  // Connection refused, reset, DNS: the endpoint is not reachable right now.
  return new ServiceUnavailableError("the model endpoint is unreachable; retry shortly", { cause: err, retryAfterSeconds: 5 });
}

/** Enough to diagnose, bounded: a container can answer megabytes of error text. */
function failureOf(req: InvokeRequest, err: unknown): ModelCallFailure {
  const clip = (text: string) => (text.length > 2000 ? `${text.slice(0, 2000)}…` : text);
  const e = (err ?? {}) as { name?: unknown; message?: unknown; OriginalStatusCode?: unknown; OriginalMessage?: unknown };
  return {
    endpointName: req.endpointName,
    variantName: req.variantName,
    ...(req.inferenceComponentName ? { inferenceComponentName: req.inferenceComponentName } : {}),
    error: typeof e.name === "string" ? e.name : "Error",
    message: clip(typeof e.message === "string" ? e.message : String(err)),
    ...(typeof e.OriginalStatusCode === "number" ? { originalStatusCode: e.OriginalStatusCode } : {}),
    ...(typeof e.OriginalMessage === "string" ? { originalMessage: clip(e.OriginalMessage) } : {}),
  };
}
