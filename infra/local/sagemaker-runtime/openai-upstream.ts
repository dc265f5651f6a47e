import type { VariantTarget } from "./variants";

/**
 * Where a request for a variant goes on its server. A SageMaker container answers
 * /ping and /invocations. An OpenAI-compatible server (vLLM, llama.cpp server, Ollama) has
 * neither: the LMI contract's body is already an OpenAI body, so /invocations maps by its shape
 * to /v1/chat/completions (`messages`) or /v1/completions (`prompt`), and /ping to /v1/models.
 * Paths are relative, so a base URL with or without a trailing /v1 works.
 */
export function containerPaths(variant: VariantTarget, body: Buffer): { invocations: string; ping: string } {
  if (variant.protocol !== "openai") return { invocations: "invocations", ping: "ping" };
  const prefix = /\/v1\/?$/.test(new URL(variant.url).pathname) ? "" : "v1/";
  return { invocations: `${prefix}${isChatBody(body) ? "chat/completions" : "completions"}`, ping: `${prefix}models` };
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
