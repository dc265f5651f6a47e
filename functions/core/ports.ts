import type { UpstreamRoute } from "../contract/upstream-route";
import type { AccessEntry } from "./access-log";
import type { TenantLimits } from "./limits/tenant-limits";
import type { Price } from "./money/prices";
import type { Alias, AliasHistoryEntry, AliasTarget, ModelRecord, ModelVersion, VersionStatus } from "./registry";
import type { KeyScope } from "./scopes";
import type { Granularity, UsageRecord, UsageRow } from "./usage";

/**
 * The small interfaces core logic depends on. Adapters in `functions/aws` implement them
 * against DynamoDB and SageMaker; tests can implement them in memory.
 */

export type TenantStatus = "active" | "disabled" | "deleted";
export type KeyStatus = "active" | "revoked";

export interface Tenant {
  readonly tenantId: string;
  readonly name: string;
  readonly models: readonly string[];
  readonly plan: string;
  /** `deleted` is a tombstone: the id is never reused, so kept usage stays unambiguous. */
  readonly status: TenantStatus;
  readonly createdAt: string;
  readonly updatedAt?: string;
  /** Bumped by every tenant write; key writes are conditional on it (see `putKey`). */
  readonly revision: number;
  /** Rate, quota and concurrency limits; absent fields are unlimited. */
  readonly limits?: TenantLimits;
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
  readonly lastUsedAt?: string;
  readonly revokedAt?: string;
  /** Set on a key that was rotated: the id of its successor. */
  readonly replacedBy?: string;
  /** Set on a key created by rotation: the id of the key it replaces. */
  readonly rotatedFrom?: string;
  /** The key's own limits, on top of its tenant's (both must admit a request). */
  readonly limits?: TenantLimits;
  /**
   * The key whose limit counters this key charges, when not itself: a key created by rotation
   * keeps charging its predecessor's, so rotating never resets a key's quota.
   */
  readonly limitKeyId?: string;
}

export interface KeyStore {
  getKey(keyId: string): Promise<StoredKey | undefined>;
  getTenant(tenantId: string): Promise<Tenant | undefined>;
  /**
   * Records that a key was used, only if its stored `lastUsedAt` is absent or older than
   * `staleBefore` (a conditional write, so concurrent callers write at most once). Optional:
   * stores that do not track use (test doubles) leave it out.
   */
  touchKey?(keyId: string, usedAt: string, staleBefore: string): Promise<void>;
}

export interface TenantPatch {
  readonly name?: string | undefined;
  readonly models?: readonly string[] | undefined;
  readonly plan?: string | undefined;
  readonly status?: TenantStatus | undefined;
  /** Replaces the whole set; `{}` removes every limit. */
  readonly limits?: TenantLimits | undefined;
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Opaque; pass back to get the next page. Absent on the last page. */
  readonly cursor?: string;
}

export interface IdentityAdmin extends KeyStore {
  /** Creates a tenant; ConflictError when the id exists (or existed: tombstones count). */
  createTenant(t: Tenant): Promise<void>;
  /** Live (non-deleted) tenants by id. */
  listTenants(limit: number, cursor?: string): Promise<Page<Tenant>>;
  /**
   * Applies a patch if the tenant's revision is still `expectedRevision`; StaleRevisionError
   * otherwise, NotFoundError when it does not exist. Returns the updated tenant.
   */
  updateTenant(tenantId: string, patch: TenantPatch, expectedRevision: number, now: string): Promise<Tenant>;
  /** Every key of a tenant (any status), oldest first. */
  listKeys(tenantId: string): Promise<StoredKey[]>;
  /**
   * Stores a new key, atomically with a check that the tenant is active and still at
   * `tenantRevision` (and bumps it), so concurrent creations cannot exceed the key cap.
   * `rotate`, when given, supersedes that key of the same tenant in the same transaction:
   * it must be active and not yet replaced; it gets `replacedBy` and `expiresAt`.
   * StaleRevisionError when the tenant changed; ConflictError when `rotate` no longer applies.
   */
  putKey(
    k: StoredKey,
    tenantRevision: number,
    rotate?: { readonly keyId: string; readonly expiresAt: string; readonly now: string },
  ): Promise<void>;
  /**
   * Replaces the limits of a key of `tenantId` (`{}` removes them) and returns the key;
   * NotFoundError when that tenant has no such key.
   */
  setKeyLimits(tenantId: string, keyId: string, limits: TenantLimits): Promise<StoredKey>;
  /** Revokes a key of `tenantId`; NotFoundError when that tenant has no such key. */
  revokeKey(tenantId: string, keyId: string, now?: string): Promise<void>;
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
   * Moves an alias if its revision still equals `expectedRevision` (0: must not exist yet),
   * writing a history entry in the same transaction. ConflictError otherwise, so concurrent
   * updates never get lost.
   */
  setAlias(model: string, alias: string, target: AliasTarget, expectedRevision: number, actor: string, rollbackOf?: number): Promise<Alias>;
  /** Moves of an alias, newest first. */
  aliasHistory(model: string, alias: string, limit: number): Promise<AliasHistoryEntry[]>;
  /** One history entry (the move that produced `revision`). */
  aliasHistoryEntry(model: string, alias: string, revision: number): Promise<AliasHistoryEntry | undefined>;
  /**
   * Adds a version that must not exist yet (versions are immutable): ConflictError when the
   * number is taken. The model must exist.
   */
  registerVersion(v: ModelVersion): Promise<void>;
  /**
   * Appends a price to its model's history (never overwrites one): NotFoundError when the model
   * does not exist, ConflictError when a price of the same scope starts at the same time.
   */
  addPrice(p: Price): Promise<void>;
  /**
   * Changes a version's status only if it is still `from`: ConflictError otherwise (so a
   * retired version never comes back, and two deployers never both activate one).
   */
  setVersionStatus(model: string, version: number, from: VersionStatus, to: VersionStatus, reason?: string): Promise<void>;
}

export type RecordOutcome = "recorded" | "duplicate";

export interface UsageSink {
  /**
   * Durably records one request's usage, idempotently by request id: a second call with
   * the same id changes nothing and reports "duplicate". Rejects when the write failed.
   */
  record(r: UsageRecord): Promise<RecordOutcome>;
}

/**
 * The gateway's access log (functions/core/access-log.ts): what reconciliation compares the
 * usage records with. Which of its requests have usage records is the UsageReader's to say.
 */
export interface AccessLog {
  /** Every entry of a request received in [fromTime, toTime], a page at a time, in no promised order. */
  entries(fromTime: string, toTime: string): AsyncIterable<readonly AccessEntry[]>;
}

export interface UsageReader {
  /** Aggregate rows (possibly one per shard) of a tenant in [from, to] periods inclusive. */
  aggregates(tenantId: string, granularity: Granularity, fromPeriod: string, toPeriod: string): Promise<UsageRow[]>;
  /**
   * Records (every kind) of a tenant received on `day` (yyyy-mm-dd) with `time` in
   * [fromTime, toTime], oldest first, at most `limit`, starting after position `after` (a
   * previous page's cursor). The page's cursor is absent once that day has no more records.
   */
  records(
    tenantId: string,
    day: string,
    q: { readonly fromTime: string; readonly toTime: string; readonly limit: number; readonly after?: string | undefined },
  ): Promise<Page<UsageRecord>>;
  /**
   * How fresh the tenant's aggregates are at `now` (epoch ms): an ISO time such that every
   * record written before it is counted in the aggregates read after this call.
   */
  freshness(tenantId: string, now: number): Promise<string>;
}

export interface InvokeRequest {
  readonly endpointName: string;
  readonly variantName: string;
  /**
   * Set for a version placed as an inference component on a shared pool endpoint: the call
   * names the component instead of a variant.
   */
  readonly inferenceComponentName?: string;
  readonly body: Uint8Array;
  readonly contentType: string;
  readonly accept?: string;
  /**
   * The OpenAI route the client called (`/v1/embeddings`…), for a container that serves more
   * than one: it is told the route, never left to guess it from the body's shape
   * (functions/contract/upstream-route.ts).
   */
  readonly route?: UpstreamRoute;
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
  /**
   * Calls the model with a streamed answer. Resolves once the model has started answering
   * (failures before that reject, as `invoke` does); the parts are the container's bytes as
   * they arrive, cut anywhere. A failure mid-stream rejects the iteration with an ApiError.
   * `timeoutMs` bounds the whole stream. Invokers that cannot stream leave it out.
   */
  invokeStream?(req: InvokeRequest): Promise<AsyncIterable<Uint8Array>>;
}

/** The model store (S3), as the admin function needs it to turn an upload into a version. */
export interface ArtifactStore {
  readonly bucket: string;
  /**
   * SHA-256 (hex) and size of a stored object, read back from the store, with the revision
   * (S3: version id or ETag) of the bytes hashed; undefined when absent.
   */
  digest(key: string): Promise<{ readonly sha256: string; readonly size: number; readonly revision?: string } | undefined>;
  /**
   * Copies `fromKey`, only as of `revision` when given: ConflictError when the object was
   * replaced since, so what is copied is what was verified.
   */
  copy(fromKey: string, toKey: string, revision?: string): Promise<void>;
  delete(key: string): Promise<void>;
}
