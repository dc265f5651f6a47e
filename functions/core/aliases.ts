import { BadRequestError, ConflictError, NotFoundError } from "./errors";
import type { RegistryAdmin } from "./ports";
import type { Alias, AliasHistoryEntry, AliasTarget, ModelRecord } from "./registry";

/**
 * Checks an alias target against the model: weights sum to 100, each version once, every
 * version it names (weighted, shadow, fallback) exists and is ready. An alias may only point
 * at what is being served right now.
 */
export function validateAliasTarget(record: ModelRecord, target: AliasTarget): void {
  const { targets, shadow, fallback } = target;
  if (targets.length === 0) throw new BadRequestError("an alias needs at least one version");
  if (targets.reduce((s, t) => s + t.weight, 0) !== 100) throw new BadRequestError("weights must sum to 100");
  if (new Set(targets.map((t) => t.version)).size !== targets.length) throw new BadRequestError("each version may appear once");
  const named = [...targets.map((t) => t.version), ...(shadow ? [shadow.version] : []), ...(fallback !== undefined ? [fallback] : [])];
  for (const version of named) {
    const v = record.versions.get(version);
    if (!v) throw new BadRequestError(`model '${record.model}' has no version ${version}`);
    if (v.status !== "ready") throw new BadRequestError(`version ${version} of '${record.model}' is ${v.status}, not ready`);
  }
  if (shadow && (shadow.percent < 1 || shadow.percent > 100)) throw new BadRequestError("the shadow percentage must be 1–100");
  if (shadow && targets.some((t) => t.version === shadow.version && t.weight > 0)) {
    throw new BadRequestError(`version ${shadow.version} already serves this alias; a shadow must be another version`);
  }
  if (fallback !== undefined && targets.length === 1 && targets[0]?.version === fallback) {
    throw new BadRequestError("the fallback must differ from the version it backs up");
  }
}

async function requireModel(registry: RegistryAdmin, model: string): Promise<ModelRecord> {
  const record = await registry.getModel(model);
  if (!record) throw new NotFoundError(`model '${model}' does not exist`);
  return record;
}

/** Moves an alias, conditional on the revision the caller last saw (409 when it moved since). */
export async function moveAlias(
  registry: RegistryAdmin,
  model: string,
  alias: string,
  target: AliasTarget,
  expectedRevision: number,
  actor: string,
): Promise<Alias> {
  validateAliasTarget(await requireModel(registry, model), target);
  return registry.setAlias(model, alias, target, expectedRevision, actor);
}

/**
 * Restores the target the alias had before its latest move, in one conditional move (so a
 * concurrent move makes it a 409 rather than undoing the wrong change). The rollback is itself
 * a move in the history; rolling back twice returns to where it started.
 */
export async function rollbackAlias(registry: RegistryAdmin, model: string, alias: string, actor: string): Promise<Alias> {
  const record = await requireModel(registry, model);
  const current = record.aliases.get(alias) ?? (await registry.getAlias(model, alias));
  if (!current) throw new NotFoundError(`model '${model}' has no alias '${alias}'`);
  const latest = await registry.aliasHistoryEntry(model, alias, current.revision);
  if (!latest?.from) throw new ConflictError(`alias '${alias}' of '${model}' has no earlier target to roll back to`);
  validateAliasTarget(record, latest.from);
  return registry.setAlias(model, alias, latest.from, current.revision, actor, current.revision);
}

export async function aliasHistory(registry: RegistryAdmin, model: string, alias: string, limit = 50): Promise<AliasHistoryEntry[]> {
  await requireModel(registry, model);
  const entries = await registry.aliasHistory(model, alias, limit);
  if (entries.length === 0 && !(await registry.getAlias(model, alias))) throw new NotFoundError(`model '${model}' has no alias '${alias}'`);
  return entries;
}
