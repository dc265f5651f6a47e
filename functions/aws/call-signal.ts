import type { HttpHandler, HttpRequest, HttpResponse } from "@smithy/core/protocols";
import type { HttpHandlerOptions, RequestHandlerMetadata } from "@smithy/types";

/**
 * Per-call abort signals for a client whose middleware is resolved once per command
 * (`cacheMiddleware`). The SDK uses that cache only for calls made without options, and
 * `abortSignal` is an option: so a call's signal rides on its command input (under a key no
 * serializer reads), a last middleware step moves it onto the signed request, and the request
 * handler hands it on as the option it would have been.
 */
const SIGNAL = Symbol("modelgate.callSignal");

type Signalled = { [SIGNAL]?: AbortSignal };

/** `input`, marked with the signal that cuts the call made with it. */
export function withCallSignal<I extends object>(input: I, signal: AbortSignal): I {
  Object.defineProperty(input, SIGNAL, { value: signal, enumerable: false });
  return input;
}

/** The request handler that gives a marked request's signal to `inner` as its `abortSignal` option. */
export class SignalledRequestHandler<Config extends object> implements HttpHandler<Config> {
  constructor(private readonly inner: HttpHandler<Config>) {}

  get metadata(): RequestHandlerMetadata | undefined {
    return this.inner.metadata;
  }

  handle(request: HttpRequest, options: HttpHandlerOptions = {}): Promise<{ response: HttpResponse }> {
    const signal = (request as Signalled)[SIGNAL];
    return this.inner.handle(request, signal ? { ...options, abortSignal: signal } : options);
  }

  updateHttpClientConfig(key: keyof Config, value: Config[typeof key]): void {
    this.inner.updateHttpClientConfig(key, value);
  }

  httpHandlerConfigs(): Config {
    return this.inner.httpHandlerConfigs();
  }

  destroy(): void {
    this.inner.destroy?.();
  }
}

type CallArgs = { input: object; request: unknown };

/** The slice of a client's middleware stack this needs (any client's has it). */
interface MiddlewareStackLike {
  add(
    middleware: (next: (args: CallArgs) => Promise<unknown>) => (args: CallArgs) => Promise<unknown>,
    options: { step: "deserialize"; name: string; override: boolean },
  ): void;
}

/**
 * Adds to `client` the step that moves a marked input's signal onto its request: at the
 * deserialize step, after signing (which copies the request), on the request the handler gets.
 */
export function carryCallSignals(client: { middlewareStack: unknown }): void {
  (client.middlewareStack as MiddlewareStackLike).add(
    (next) => (args) => {
      const signal = (args.input as Signalled)[SIGNAL];
      if (signal && typeof args.request === "object" && args.request !== null)
        Object.defineProperty(args.request, SIGNAL, { value: signal, enumerable: false });
      return next(args);
    },
    { step: "deserialize", name: "modelgateCallSignal", override: true },
  );
}
