import { retryMiddlewareOptions } from "@smithy/core/retry";
import type { AuthScheme, MetadataBearer, MiddlewareStack, RequestSigner } from "@smithy/types";

/**
 * Things the SDK does on every call that a long-lived client can do once. Each call still
 * goes through the SDK's own serializer, SigV4 signer and deserializer.
 */

type SignerProvider = (authScheme?: AuthScheme) => Promise<RequestSigner>;

/**
 * The SDK's default signer provider builds a new SignatureV4 for every call, from a copy of the
 * whole client config (~7 KB per call, bench/README.md). A signer holds no per-request state
 * (it asks the credential provider on each signing, so refreshed credentials are used, and
 * region and service come with each signing), so one per auth scheme signs the same.
 */
export function reuseSigner(client: { config: { signer: SignerProvider } }): void {
  const build = client.config.signer;
  const built = new Map<string, Promise<RequestSigner>>();
  client.config.signer = (authScheme) => {
    const key = `${authScheme?.name}/${authScheme?.signingRegion}/${authScheme?.signingName}`;
    let signer = built.get(key);
    if (!signer) {
      signer = build(authScheme);
      built.set(key, signer);
      // A provider that failed (no region yet, say) is asked again on the next call.
      signer.catch(() => built.delete(key));
    }
    return signer;
  };
}

/**
 * With one attempt the SDK's retry step only stamps invocation headers, and builds a
 * stack-traced Error, on every call: it is replaced by a step that passes the call on, under
 * its name, since the signing step is placed relative to it.
 */
export function skipRetryStep<I extends object, O extends MetadataBearer>(client: { middlewareStack: MiddlewareStack<I, O> }): void {
  client.middlewareStack.add((next) => next, { ...retryMiddlewareOptions, override: true });
}

/**
 * The SDK builds a client's config by adding properties to one object, which leaves it in V8's
 * dictionary mode, and its endpoint step copies the whole of it on every call: ~9 µs for a
 * dictionary-mode object against ~1 µs for a fast one (bench/README.md). That step is bound to
 * `client.config` on the client's first call, so the client is given a fast copy before it. The
 * serializer and deserializer, bound at construction, keep the original: they copy it merged with
 * the call's context, and bound to a fast copy they made each call slower, not faster (measured
 * in bench/README.md, not explained). Call this after every other change to the config: steps
 * bound at construction (the signer's among them) read the original, and a later change to one
 * object is not seen through the other.
 */
export function fastConfig(client: { config: object }): void {
  client.config = { ...client.config };
}
