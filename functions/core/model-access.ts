import { NotFoundError } from "./errors";
import type { RegistryReader } from "./ports";
import { isGranted, type Principal, requireScope } from "./principal";
import type { ModelRecord } from "./registry";
import { type Resolution, resolveVersion, type VersionSelector } from "./routing";

/**
 * The model, when the caller is granted it. The grant is checked before the registry is read,
 * and an ungranted model answers exactly like a missing one (404, the same message): otherwise a
 * tenant could tell another tenant's private model names from names that do not exist.
 */
export async function lookupGrantedModel(registry: RegistryReader, principal: Principal, model: string): Promise<ModelRecord> {
  const record = isGranted(principal, model) ? await registry.getModel(model) : undefined;
  if (!record) throw new NotFoundError(`model '${model}' does not exist or is not granted to this key`);
  return record;
}

export interface ModelRequest {
  readonly model: string;
  readonly selector: VersionSelector;
  /** What weighted aliases route by: the caller's `x-routing-key`, else its API key id. */
  readonly routingKey: string;
}

/**
 * The opening every model route shares (inference, metadata, readiness, the OpenAI routes): the
 * key needs the `invoke` scope, the model must be granted to the tenant and exist, and the
 * selector picks the version with the request's routing key, so all of them land on the same version.
 */
export async function openModel(
  registry: RegistryReader,
  principal: Principal,
  req: ModelRequest,
): Promise<{ readonly model: ModelRecord; readonly resolution: Resolution }> {
  requireScope(principal, "invoke");
  const model = await lookupGrantedModel(registry, principal, req.model);
  return { model, resolution: resolveVersion(model, req.selector, req.routingKey) };
}
