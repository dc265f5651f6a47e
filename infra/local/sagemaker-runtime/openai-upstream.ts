import { routeFromAttributes } from "../../../functions/contract/upstream-route";
import type { VariantTarget } from "./variants";

/**
 * Where a request for a variant goes on its server. A SageMaker container answers
 * /ping and /invocations. An OpenAI-compatible server (vLLM, llama.cpp server, Ollama) has
 * neither: /invocations goes to the route the gateway named in the call's CustomAttributes
 * (`openai-route=/v1/embeddings`, functions/contract/upstream-route.ts), and /ping to /v1/models.
 * A call that names no route (a raw InvokeEndpoint) falls back to the LMI contract's body
 * shape: `messages` for chat, else completions. Paths are relative, so a base URL with or
 * without a trailing /v1 works.
 */
export function containerPaths(variant: VariantTarget, body: Buffer, customAttributes?: string): { invocations: string; ping: string } {
  if (variant.protocol !== "openai") return { invocations: "invocations", ping: "ping" };
  const prefix = /\/v1\/?$/.test(new URL(variant.url).pathname) ? "" : "v1/";
  const route = routeFromAttributes(customAttributes)?.slice("/v1/".length) ?? (isChatBody(body) ? "chat/completions" : "completions");
  return { invocations: `${prefix}${route}`, ping: `${prefix}models` };
}

function isChatBody(body: Buffer): boolean {
  try {
    const parsed = JSON.parse(body.toString("utf8")) as unknown;
    return typeof parsed === "object" && parsed !== null && "messages" in parsed;
  } catch {
    // Not JSON: the upstream server answers the 400 itself.
    return false;
  }
}
