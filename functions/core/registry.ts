import type { Price } from "./money/prices";

/** Registry shapes: models, immutable versions, aliases, prices. Pure data, no storage here. */

export type VersionStatus = "registered" | "ready" | "retired";

export interface TensorSpec {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
}

export interface ModelVersion {
  readonly model: string;
  readonly version: number;
  readonly runtime: string;
  readonly status: VersionStatus;
  /** SageMaker endpoint serving the model, and this version's production variant on it. */
  readonly endpointName: string;
  readonly variantName: string;
  /** set when the version is an inference component on a shared pool endpoint; the invoker names it instead of a variant */
  readonly inferenceComponentName?: string;
  readonly artifactUri: string;
  readonly sha256?: string;
  /** Artifact size in bytes. */
  readonly size?: number;
  readonly instanceType?: string;
  readonly inputs?: readonly TensorSpec[];
  readonly outputs?: readonly TensorSpec[];
  readonly createdAt: string;
  /** Why a version is not ready (e.g. its artifact failed to load), when known. */
  readonly statusReason?: string;
  readonly updatedAt?: string;
}

export interface WeightedTarget {
  readonly version: number;
  readonly weight: number;
}

/** A sampled copy of an alias's traffic sent to another version; its answers are discarded. */
export interface ShadowTarget {
  readonly version: number;
  /** Share of requests copied, 1–100. */
  readonly percent: number;
}

/** Where an alias sends traffic: everything an alias move changes, and what rollback restores. */
export interface AliasTarget {
  readonly targets: readonly WeightedTarget[];
  readonly shadow?: ShadowTarget;
  /** Version that answers when the chosen one answers 5xx or is not ready. */
  readonly fallback?: number;
}

export interface Alias extends AliasTarget {
  readonly model: string;
  readonly alias: string;
  /** Incremented on every move; updates are conditional on it. */
  readonly revision: number;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

/** One alias move: revision `revision` went from `from` (null: created) to `to`. */
export interface AliasHistoryEntry {
  readonly model: string;
  readonly alias: string;
  readonly revision: number;
  readonly from: AliasTarget | null;
  readonly to: AliasTarget;
  readonly at: string;
  readonly by: string;
  /** Set when this move was a rollback. */
  readonly rollbackOf?: number;
}

export interface ModelRecord {
  readonly model: string;
  readonly description?: string;
  readonly defaultAlias: string;
  /** Tokens a request that names no maximum reserves against a token quota (see `tokenReservationOf`). */
  readonly maxTokensPerRequest?: number;
  /** Set for an embedding model: it serves `/v1/embeddings` and none of the generation routes. */
  readonly embedding?: EmbeddingSpec;
  readonly versions: ReadonlyMap<number, ModelVersion>;
  readonly aliases: ReadonlyMap<string, Alias>;
  /** The model's price history (list and contract prices, every version), in no order. */
  readonly prices?: readonly Price[];
}

/** What an embedding model produces, as the platform config declares it. */
export interface EmbeddingSpec {
  /** Length of the vectors the model returns. */
  readonly dimensions: number;
  /**
   * Whether a prefix of a vector is itself a usable embedding (Matryoshka-trained models, or
   * components ordered by importance as in PCA/LSA): only then does a request's `dimensions`
   * apply, as truncation and renormalisation.
   */
  readonly truncatable: boolean;
}
