import type { AwsClients } from "../aws/clients";
import type { FunctionSettings } from "../contract/settings";
import { type InvokeWiring, invokeDeps } from "../invoke/deps";
import type { LlmDeps } from "./create-llm-handler";

/** The LLM function's adapters: the invoke function's, with concurrency leases that outlive a generation. */
export function llmDeps(clients: AwsClients, settings: FunctionSettings, wiring: InvokeWiring = {}): LlmDeps {
  return { ...invokeDeps(clients, settings, wiring, settings.streamTimeoutMs), streamTimeoutMs: settings.streamTimeoutMs };
}
