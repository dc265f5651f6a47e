import type { Writable } from "node:stream";

/** The marker Lambda's Node.js runtime reads to call a handler with a response stream. */
export const STREAMING_HANDLER = Symbol.for("aws.lambda.runtime.handler.streaming");
export const STREAMING_RESPONSE = "response";
/** Content type of a stream that starts with an HTTP prelude (JSON, then 8 NUL bytes). */
export const HTTP_INTEGRATION_RESPONSE = "application/vnd.awslambda.http-integration-response";
const DELIMITER_LENGTH = 8;

/** What `HttpResponseStream.from` needs of a stream: the runtime's response stream has both. */
interface RuntimeResponseStream extends Writable {
  setContentType(type: string): void;
  _onBeforeFirstWrite?: (write: (chunk: string | Uint8Array) => void) => void;
}

/** `awslambda.streamifyResponse`, as the runtime defines it: marks the handler and returns it. */
function streamifyResponse<T extends object>(handler: T): T {
  (handler as Record<symbol, unknown>)[STREAMING_HANDLER] = STREAMING_RESPONSE;
  return handler;
}

/**
 * `awslambda.HttpResponseStream`, as the runtime defines it: the prelude is written just before
 * the stream's first byte, so a handler may set it and then write or pipe.
 */
const HttpResponseStream = {
  from(stream: RuntimeResponseStream, prelude: Record<string, unknown>): RuntimeResponseStream {
    stream.setContentType(HTTP_INTEGRATION_RESPONSE);
    // JSON.stringify never emits a NUL byte, so the delimiter cannot occur inside the prelude.
    const text = JSON.stringify(prelude);
    stream._onBeforeFirstWrite = (write) => {
      write(text);
      write(new Uint8Array(DELIMITER_LENGTH));
    };
    return stream;
  },
};

/**
 * Gives `globalThis.awslambda` (its types: the global namespace in @types/aws-lambda) the
 * runtime's streaming API, as Lambda's Node.js runtime does before loading handler code, so
 * streaming handlers (`awslambda.streamifyResponse(...)`) load and run on the local host.
 * The object may exist already: `@aws/lambda-invoke-store` (under Powertools) creates it for its
 * `InvokeStore`, so it is extended, never replaced or frozen. Idempotent; members already there
 * (the real runtime's) are left alone.
 */
export function installAwsLambdaGlobal(): void {
  const g = globalThis as { awslambda?: Record<string, unknown> };
  g.awslambda ??= {};
  const members = { streamifyResponse, HttpResponseStream };
  for (const [name, value] of Object.entries(members)) {
    if (name in g.awslambda) continue;
    Object.defineProperty(g.awslambda, name, { value, enumerable: true, configurable: false, writable: false });
  }
}
