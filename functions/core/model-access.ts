import { NotFoundError } from "./errors";
import type { RegistryReader } from "./ports";
import { type Principal, requireGrant, requireScope } from "./principal";
import type { ModelRecord } from "./registry";
import { type Resolution, resolveVersion, type VersionSelector } from "./routing";

export async function lookupModel(registry: RegistryReader, model: string): Promise<ModelRecord> {
  const record = await registry.getModel(model);
  if (!record) throw new NotFoundError(`model '${model}' does not exist`);
  return record;
}

export interface ModelRequest {
  readonly model: string;
  readonly selector: VersionSelector;
  /** What weighted aliases route by: the caller's `x-routing-key`, else its API key id. */
  readonly routingKey: string;
}

/**
 * The opening every model route shares (inference, metadata, readiness): the key needs the
 * `invoke` scope, the model must exist and be granted to the tenant, and the selector picks
 * the version with the request's routing key, so all three land on the same version.
 */
export async function openModel(
  registry: RegistryReader,
  principal: Principal,
  req: ModelRequest,
): Promise<{ readonly model: ModelRecord; readonly resolution: Resolution }> {
  requireScope(principal, "invoke");
  const model = await lookupModel(registry, req.model);
  requireGrant(principal, req.model);
  return { model, resolution: resolveVersion(model, req.selector, req.routingKey) };
}
