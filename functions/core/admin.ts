import { BadRequestError, NotFoundError } from "./errors";
import type { RegistryAdmin } from "./ports";
import type { Alias, WeightedTarget } from "./registry";

// Tenants and keys live in their own modules; re-exported here for existing callers.
export { ALL_SCOPES, type CreatedKey, createKey, type NewKey } from "./api-keys";
export { createTenant, type NewTenant, requireTenant, TENANT_ID } from "./tenants";

/**
 * Moves an alias, conditional on the revision the caller last saw. Every target must be a
 * ready version of the model; weights must sum to 100.
 */
export async function moveAlias(
  registry: RegistryAdmin,
  model: string,
  alias: string,
  targets: readonly WeightedTarget[],
  expectedRevision: number,
  actor: string,
): Promise<Alias> {
  const record = await registry.getModel(model);
  if (!record) throw new NotFoundError(`model '${model}' does not exist`);
  if (targets.reduce((s, t) => s + t.weight, 0) !== 100) throw new BadRequestError("weights must sum to 100");
  if (new Set(targets.map((t) => t.version)).size !== targets.length) throw new BadRequestError("each version may appear once");
  for (const t of targets) {
    const v = record.versions.get(t.version);
    if (!v) throw new BadRequestError(`model '${model}' has no version ${t.version}`);
    if (v.status !== "ready") throw new BadRequestError(`version ${t.version} of '${model}' is ${v.status}, not ready`);
  }
  return registry.setAlias(model, alias, targets, expectedRevision, actor);
}
