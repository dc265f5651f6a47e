import { ConflictError, NotFoundError } from "../../../functions/core/errors";
import type { Price } from "../../../functions/core/money/prices";
import type { RegistryAdmin } from "../../../functions/core/ports";
import type {
  Alias,
  AliasHistoryEntry,
  AliasTarget,
  EmbeddingSpec,
  ModelRecord,
  ModelVersion,
  VersionStatus,
} from "../../../functions/core/registry";

interface StoredModel {
  readonly model: string;
  readonly description?: string;
  readonly defaultAlias: string;
  readonly embedding?: EmbeddingSpec;
  readonly versions: Map<number, ModelVersion>;
  readonly aliases: Map<string, Alias>;
  /** Alias moves, oldest first, per alias. */
  readonly history: Map<string, AliasHistoryEntry[]>;
  readonly prices: Price[];
}

/** The registry in memory: immutable versions, aliases moved only at the revision the caller saw. */
export class MemoryRegistry implements RegistryAdmin {
  private readonly models = new Map<string, StoredModel>();

  /** A model as the seed (or the config) declares it, with its versions and initial aliases. */
  addModel(
    m: { model: string; description?: string; defaultAlias?: string; embedding?: EmbeddingSpec },
    versions: ModelVersion[] = [],
    aliases: Alias[] = [],
  ) {
    this.models.set(m.model, {
      model: m.model,
      ...(m.description ? { description: m.description } : {}),
      defaultAlias: m.defaultAlias ?? "prod",
      ...(m.embedding ? { embedding: m.embedding } : {}),
      versions: new Map(versions.map((v) => [v.version, v])),
      aliases: new Map(aliases.map((a) => [a.alias, a])),
      history: new Map(),
      prices: [],
    });
  }

  async getModel(model: string): Promise<ModelRecord | undefined> {
    const m = this.models.get(model);
    // A snapshot: what a caller holds never changes under it, as with a store read.
    return (
      m && {
        model: m.model,
        ...(m.description ? { description: m.description } : {}),
        defaultAlias: m.defaultAlias,
        ...(m.embedding ? { embedding: m.embedding } : {}),
        versions: new Map(m.versions),
        aliases: new Map(m.aliases),
        prices: [...m.prices],
      }
    );
  }

  async listModels() {
    return [...this.models.keys()].sort();
  }

  async getAlias(model: string, alias: string) {
    return this.models.get(model)?.aliases.get(alias);
  }

  async setAlias(model: string, alias: string, target: AliasTarget, expectedRevision: number, actor: string, rollbackOf?: number) {
    const m = this.require(model);
    const previous = m.aliases.get(alias);
    if ((previous?.revision ?? 0) !== expectedRevision)
      throw new ConflictError(`alias '${alias}' of '${model}' is no longer at revision ${expectedRevision}`);
    const to = targetOf(target);
    const next: Alias = { model, alias, ...to, revision: expectedRevision + 1, updatedAt: new Date().toISOString(), updatedBy: actor };
    m.aliases.set(alias, next);
    const entry: AliasHistoryEntry = {
      model,
      alias,
      revision: next.revision,
      from: previous ? targetOf(previous) : null,
      to,
      at: next.updatedAt,
      by: actor,
      ...(rollbackOf !== undefined ? { rollbackOf } : {}),
    };
    m.history.set(alias, [...(m.history.get(alias) ?? []), entry]);
    return next;
  }

  async aliasHistory(model: string, alias: string, limit: number) {
    return [...(this.models.get(model)?.history.get(alias) ?? [])].reverse().slice(0, limit);
  }

  async aliasHistoryEntry(model: string, alias: string, revision: number) {
    return this.models
      .get(model)
      ?.history.get(alias)
      ?.find((e) => e.revision === revision);
  }

  async addPrice(p: Price) {
    const m = this.require(p.model);
    const same = (q: Price) => q.effectiveFrom === p.effectiveFrom && q.tenant === p.tenant && q.version === p.version;
    if (m.prices.some(same)) throw new ConflictError(`a price of '${p.model}' for this scope already starts at ${p.effectiveFrom}`);
    m.prices.push(p);
  }

  async registerVersion(v: ModelVersion) {
    const m = this.require(v.model);
    if (m.versions.has(v.version)) throw new ConflictError(`version ${v.version} of '${v.model}' already exists; versions are immutable`);
    m.versions.set(v.version, v);
  }

  async setVersionStatus(model: string, version: number, from: VersionStatus, to: VersionStatus, reason?: string) {
    const m = this.require(model);
    const v = m.versions.get(version);
    if (v?.status !== from) throw new ConflictError(`version ${version} of '${model}' is not ${from}`);
    const { statusReason: _old, ...rest } = v;
    m.versions.set(version, { ...rest, status: to, updatedAt: new Date().toISOString(), ...(reason ? { statusReason: reason } : {}) });
  }

  private require(model: string): StoredModel {
    const m = this.models.get(model);
    if (!m) throw new NotFoundError(`model '${model}' does not exist`);
    return m;
  }
}

/** Only the target's own fields, none undefined (what the store keeps and history records). */
function targetOf(t: AliasTarget): AliasTarget {
  return {
    targets: t.targets.map((w) => ({ version: w.version, weight: w.weight })),
    ...(t.shadow ? { shadow: { version: t.shadow.version, percent: t.shadow.percent } } : {}),
    ...(t.fallback !== undefined ? { fallback: t.fallback } : {}),
  };
}
