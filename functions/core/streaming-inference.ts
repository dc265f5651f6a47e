import { ApiError, ServiceUnavailableError } from "./errors";
import {
  admitted,
  dispatchShadow,
  type InferenceDeps,
  InferenceFailedError,
  type InferenceRequest,
  isServerSide,
  rejectedTokens,
  type Used,
  usageRecordOf,
} from "./inference";
import { invokeTargetOf } from "./invoke-target";
import { JsonLineDecoder, StreamMeter } from "./llm-stream";
import { openAIError } from "./openai";
import type { ModelVersion } from "./registry";
import type { Resolution } from "./routing";
import { costNanoOf } from "./usage";

/** Where a streamed completion goes: the client's response, as Server-Sent Events. */
export interface EventStreamOut {
  /** Sends the status (200) and headers; called once, before the first event. */
  start(answered: StreamAnswer): void;
  /**
   * Sends SSE events' data, in order: the events that arrived together go in one write. Never
   * throws: a client that left just stops receiving.
   */
  events(data: readonly string[]): void;
}

/** Which version answers a stream, told before the first event (for the response headers). */
export interface StreamAnswer {
  readonly model: string;
  readonly version: number;
  readonly alias?: string;
  readonly fallbackFrom?: number;
  /** x-ratelimit-* headers of the caller's limits. */
  readonly headers: Readonly<Record<string, string>>;
}

export interface StreamingRequest extends InferenceRequest {
  /** The `model` the client named, echoed in every chunk. */
  readonly clientModel: string;
  /** Whether the client asked for the usage chunk (the gateway always asks the engine for it). */
  readonly includeUsage: boolean;
  /** How long the whole generation may take. */
  readonly streamTimeoutMs: number;
}

export interface StreamOutcome {
  readonly status: number;
  readonly tokens?: { readonly input: number; readonly output: number };
  /** What the request cost (its usage record's `cost`), when a price applied. */
  readonly cost?: string;
  /** False when the usage record could not be written: reconciliation finds the request in the gateway's access log. */
  readonly recorded: boolean;
}

/**
 * A streamed completion: the same admission as every model route (grants, routing, limits
 * reserved before the call), the model's stream relayed event by event as it arrives, and
 * exactly one usage record once the stream has ended. The stream is read to its end even when
 * the client has gone (bounded by the request's max_tokens and the stream deadline), so what
 * was generated is billed. Failures before the first event reject (an ordinary HTTP error);
 * after it, they end the stream with an SSE error event.
 */
export async function runStreamingInference(deps: InferenceDeps, req: StreamingRequest, out: EventStreamOut): Promise<StreamOutcome> {
  return admitted(deps, req, (resolution, limitHeaders, used) => serveStream(deps, req, out, { resolution, limitHeaders, used }));
}

interface Admitted {
  readonly resolution: Resolution;
  readonly limitHeaders: Readonly<Record<string, string>>;
  readonly used: Used;
}

async function serveStream(deps: InferenceDeps, req: StreamingRequest, out: EventStreamOut, a: Admitted): Promise<StreamOutcome> {
  const invokeStream = deps.invoker.invokeStream?.bind(deps.invoker);
  if (!invokeStream) throw new ServiceUnavailableError("this host's model invoker cannot stream");
  const now = deps.now ?? Date.now;
  const { resolution, limitHeaders, used } = a;
  dispatchShadow(deps, req, resolution);
  const open = (v: ModelVersion) =>
    invokeStream({
      ...invokeTargetOf(v),
      body: req.body,
      contentType: req.contentType,
      timeoutMs: req.streamTimeoutMs,
      ...(req.route ? { route: req.route } : {}),
    });

  let answered = resolution.version;
  let fallbackFrom = resolution.notReady;
  let parts: AsyncIterable<Uint8Array> | undefined;
  let failure: unknown;
  try {
    parts = await open(answered);
  } catch (err) {
    failure = err;
    if (resolution.fallback && isServerSide(err)) {
      fallbackFrom = answered.version;
      answered = resolution.fallback;
      failure = undefined;
      parts = await open(answered).catch((again: unknown) => {
        failure = again;
        return undefined;
      });
    }
  }
  let cost: string | undefined;
  const record = (status: number, tokens: StreamOutcome["tokens"], bytesOut: number) => {
    const usage = usageRecordOf(req, {
      version: answered.version,
      alias: resolution.alias,
      status,
      finishedAt: now(),
      bytesOut,
      tokens,
      leases: used.leases,
      prices: used.prices,
    });
    used.costNano = costNanoOf(usage);
    cost = usage.cost;
    return deps.usage.record(usage);
  };
  const fail = (error: unknown) => new InferenceFailedError(error, req.model, answered.version, resolution.alias, limitHeaders);

  if (!parts) {
    // Not ready or unreachable: the model never ran, so there is nothing to meter.
    if (failure instanceof ServiceUnavailableError) throw fail(failure);
    // An error answer (nothing generated, nothing billed): a lost record of it is not worth a 503.
    await record(failure instanceof ApiError ? failure.status : 500, undefined, 0).catch(() => undefined);
    throw fail(failure);
  }

  out.start({
    model: req.model,
    version: answered.version,
    ...(resolution.alias ? { alias: resolution.alias } : {}),
    ...(fallbackFrom !== undefined ? { fallbackFrom } : {}),
    headers: limitHeaders,
  });
  const meter = new StreamMeter(req.clientModel, rejectedTokens(deps, req, answered.version));
  const decoder = new JsonLineDecoder();
  let bytesOut = 0;
  let status = 200;
  const relay = (lines: string[]) => {
    const events: string[] = [];
    for (const line of lines) {
      const chunk = meter.read(line);
      if (chunk.isUsage && !req.includeUsage) continue;
      bytesOut += chunk.json.length;
      events.push(chunk.json);
    }
    if (events.length > 0) out.events(events);
  };
  try {
    for await (const part of parts) relay(decoder.push(part));
    relay(decoder.end());
  } catch (err) {
    status = err instanceof ApiError ? err.status : 502;
    out.events([JSON.stringify(openAIError(err, req.requestId).body)]);
  }
  const tokens = meter.tokens();
  if (tokens) used.tokens = tokens.input + tokens.output;
  // The answer has gone out: a record that cannot be written leaves a 200 in the gateway's access
  // log without a usage record, so reconciliation reports (and can repair) this request.
  const recorded = await record(status, tokens, bytesOut).then(
    () => true,
    () => false,
  );
  return { status, ...(tokens ? { tokens } : {}), ...(cost !== undefined ? { cost } : {}), recorded };
}
