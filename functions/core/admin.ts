import type { KeyScope } from "../../infra/shared/routes";
import { BadRequestError, ForbiddenError, NotFoundError } from "./errors";
import { generateApiKey } from "./keys";
import type { IdentityAdmin, RegistryAdmin, Tenant } from "./ports";
import type { Alias, WeightedTarget } from "./registry";

export const TENANT_ID = /^[a-z0-9-]{3,40}$/;
export const ALL_SCOPES: readonly KeyScope[] = ["invoke", "usage:read"];

export interface NewTenant {
  readonly tenantId: string;
  readonly name?: string | undefined;
  readonly models: readonly string[];
  readonly plan?: string | undefined;
}

export async function createTenant(store: IdentityAdmin, input: NewTenant, now = new Date()): Promise<Tenant> {
  const tenant: Tenant = {
    tenantId: input.tenantId,
    name: input.name ?? input.tenantId,
    models: [...new Set(input.models)].sort(),
    plan: input.plan ?? "default",
    status: "active",
    createdAt: now.toISOString(),
  };
  await store.createTenant(tenant);
  return tenant;
}

export async function requireTenant(store: IdentityAdmin, tenantId: string): Promise<Tenant> {
  const tenant = await store.getTenant(tenantId);
  if (!tenant) throw new NotFoundError(`tenant '${tenantId}' does not exist`);
  return tenant;
}

export interface NewKey {
  readonly name?: string | undefined;
  readonly expiresAt?: string | undefined;
  readonly scopes?: readonly KeyScope[] | undefined;
}

export interface CreatedKey {
  readonly keyId: string;
  /** The whole key: returned once, never stored. */
  readonly apiKey: string;
  readonly tenantId: string;
  readonly prefix: string;
  readonly name?: string;
  readonly scopes: readonly KeyScope[];
  readonly createdAt: string;
  readonly expiresAt?: string;
}

export async function createKey(store: IdentityAdmin, tenantId: string, input: NewKey, now = new Date()): Promise<CreatedKey> {
  const tenant = await requireTenant(store, tenantId);
  if (tenant.status !== "active") throw new ForbiddenError(`tenant '${tenantId}' is disabled`);
  if (input.expiresAt !== undefined && Date.parse(input.expiresAt) <= now.getTime())
    throw new BadRequestError("expiresAt must be in the future");
  const key = generateApiKey();
  const scopes = input.scopes && input.scopes.length > 0 ? [...new Set(input.scopes)] : [...ALL_SCOPES];
  const createdAt = now.toISOString();
  await store.putKey({
    keyId: key.keyId,
    tenantId,
    secretHash: key.secretHash,
    scopes,
    status: "active",
    createdAt,
    ...(input.name ? { name: input.name } : {}),
    ...(input.expiresAt ? { expiresAt: new Date(input.expiresAt).toISOString() } : {}),
  });
  return {
    keyId: key.keyId,
    apiKey: key.apiKey,
    tenantId,
    prefix: key.displayPrefix,
    scopes,
    createdAt,
    ...(input.name ? { name: input.name } : {}),
    ...(input.expiresAt ? { expiresAt: new Date(input.expiresAt).toISOString() } : {}),
  };
}

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
