import type { KeyScope } from "../../infra/shared/routes";
import type { Alias, ModelRecord, WeightedTarget } from "./registry";
import type { Granularity, UsageRecord, UsageRow } from "./usage";

/**
 * The small interfaces core logic depends on. Adapters in `functions/aws` implement them
 * against DynamoDB and SageMaker; tests can implement them in memory.
 */

export type TenantStatus = "active" | "disabled";
export type KeyStatus = "active" | "revoked";

export interface Tenant {
  readonly tenantId: string;
  readonly name: string;
  readonly models: readonly string[];
  readonly plan: string;
  readonly status: TenantStatus;
  readonly createdAt: string;
}

export interface StoredKey {
  readonly keyId: string;
  readonly tenantId: string;
  readonly secretHash: string;
  readonly name?: string;
  readonly scopes: readonly KeyScope[];
  readonly status: KeyStatus;
  readonly createdAt: string;
  readonly expiresAt?: string;
}

export interface KeyStore {
  getKey(keyId: string): Promise<StoredKey | undefined>;
  getTenant(tenantId: string): Promise<Tenant | undefined>;
}

export interface IdentityAdmin extends KeyStore {
  /** Creates a tenant; ConflictError when it exists. */
  createTenant(t: Tenant): Promise<void>;
  /** Stores a new key; the tenant must exist and be active. */
  putKey(k: StoredKey): Promise<void>;
  /** Revokes a key of `tenantId`; NotFoundError when that tenant has no such key. */
  revokeKey(tenantId: string, keyId: string): Promise<void>;
}

export interface RegistryReader {
  /** The model with its versions and aliases; undefined when unknown. */
  getModel(model: string): Promise<ModelRecord | undefined>;
  /** Names of all models, sorted. */
  listModels(): Promise<string[]>;
}

export interface RegistryAdmin extends RegistryReader {
  getAlias(model: string, alias: string): Promise<Alias | undefined>;
  /**
   * Moves an alias if its revision still equals `expectedRevision` (0: must not exist yet).
   * ConflictError otherwise, so concurrent updates never get lost.
   */
  setAlias(model: string, alias: string, targets: readonly WeightedTarget[], expectedRevision: number, actor: string): Promise<Alias>;
}

export type RecordOutcome = "recorded" | "duplicate";

export interface UsageSink {
  /**
   * Durably records one request's usage, idempotently by request id: a second call with
   * the same id changes nothing and reports "duplicate". Rejects when the write failed.
   */
  record(r: UsageRecord): Promise<RecordOutcome>;
}

export interface UsageReader {
  /** Aggregate rows (possibly one per shard) of a tenant in [from, to] periods inclusive. */
  aggregates(tenantId: string, granularity: Granularity, fromPeriod: string, toPeriod: string): Promise<UsageRow[]>;
}

export interface InvokeRequest {
  readonly endpointName: string;
  readonly variantName: string;
  readonly body: Uint8Array;
  readonly contentType: string;
  readonly accept?: string;
  readonly timeoutMs: number;
}

export interface InvokeResponse {
  readonly body: Uint8Array;
  readonly contentType: string;
  readonly invokedVariant?: string;
}

export interface ModelInvoker {
  /** Calls the model; throws ApiErrors mapped from the runtime's failures. */
  invoke(req: InvokeRequest): Promise<InvokeResponse>;
}
