/** Registry shapes: models, immutable versions, aliases. Pure data, no storage here. */

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
  readonly artifactUri: string;
  readonly sha256?: string;
  readonly instanceType?: string;
  readonly inputs?: readonly TensorSpec[];
  readonly outputs?: readonly TensorSpec[];
  readonly createdAt: string;
}

export interface WeightedTarget {
  readonly version: number;
  readonly weight: number;
}

export interface Alias {
  readonly model: string;
  readonly alias: string;
  readonly targets: readonly WeightedTarget[];
  /** Incremented on every move; updates are conditional on it. */
  readonly revision: number;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

export interface ModelRecord {
  readonly model: string;
  readonly description?: string;
  readonly defaultAlias: string;
  readonly versions: ReadonlyMap<number, ModelVersion>;
  readonly aliases: ReadonlyMap<string, Alias>;
}
