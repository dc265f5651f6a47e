/**
 * Which OpenAI route a model call serves, as the container is told it. SageMaker has one
 * container path (`/invocations`), and an LMI (vLLM) container there tells chat, completion and
 * embedding bodies apart by their shape; modelgate instead says the route the client called, in
 * InvokeEndpoint's `CustomAttributes` (SageMaker passes it to the container as the
 * `X-Amzn-SageMaker-Custom-Attributes` header). The local SageMaker emulator maps it to the
 * path of an OpenAI-compatible server (`localUrl`), and the local model hosts read it.
 */
export const UPSTREAM_ROUTES = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings"] as const;
export type UpstreamRoute = (typeof UPSTREAM_ROUTES)[number];

const KEY = "openai-route";

/** The CustomAttributes value naming a route: `openai-route=/v1/embeddings`. */
export function routeAttribute(route: UpstreamRoute): string {
  return `${KEY}=${route}`;
}

/**
 * The route a CustomAttributes value names, if any. Attributes are `key=value` pairs separated
 * by `;` or `,` (the header may carry other attributes beside ours); unknown routes are ignored.
 */
export function routeFromAttributes(attributes: string | undefined): UpstreamRoute | undefined {
  for (const pair of attributes?.split(/[;,]/) ?? []) {
    const at = pair.indexOf("=");
    if (at < 0 || pair.slice(0, at).trim() !== KEY) continue;
    const value = pair.slice(at + 1).trim();
    return (UPSTREAM_ROUTES as readonly string[]).includes(value) ? (value as UpstreamRoute) : undefined;
  }
  return undefined;
}
