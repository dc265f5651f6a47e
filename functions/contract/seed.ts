/**
 * What the registry holds for the platform config at deploy (the seed function) and at local
 * start: computed from the config by `infra/shared/function-env.ts`, written by
 * `functions/aws/registry-seed.ts`.
 */

/** One registry version as seeded: where it is served and what it is. */
export interface VersionSeed {
  readonly model: string;
  readonly version: number;
  readonly runtime: string;
  readonly endpointName: string;
  readonly variantName: string;
  /** Set for a version placed on a pool: its inference component on the pool's endpoint. */
  readonly inferenceComponentName?: string;
  readonly artifactUri: string;
  readonly sha256?: string;
  readonly instanceType: string;
  /** Tensor signature (KServe v2 metadata terms), when known at seed time. */
  readonly inputs?: ReadonlyArray<{ readonly name: string; readonly datatype: string; readonly shape: readonly number[] }>;
  readonly outputs?: ReadonlyArray<{ readonly name: string; readonly datatype: string; readonly shape: readonly number[] }>;
}

export interface AliasSeed {
  readonly model: string;
  readonly alias: string;
  readonly targets: ReadonlyArray<{ readonly version: number; readonly weight: number }>;
}

export interface RegistrySeed {
  readonly models: ReadonlyArray<{
    readonly model: string;
    readonly description?: string;
    readonly defaultAlias: string;
    readonly maxTokensPerRequest?: number;
    /** Set for an embedding model (functions/core/registry.ts EmbeddingSpec). */
    readonly embedding?: { readonly dimensions: number; readonly truncatable: boolean };
  }>;
  readonly versions: readonly VersionSeed[];
  readonly aliases: readonly AliasSeed[];
  /** Initial prices (written when absent, starting before anything was received): components as decimal strings. */
  readonly prices?: readonly PriceSeed[];
  /**
   * The shared pools and what runs on them, for showback (functions/core/billing/showback.ts):
   * deploy-time knowledge (instance sizes and list prices live in infra/) the runtime cannot
   * compute. Replaced whole at every seed, so a pool removed from the config goes with it.
   */
  readonly pools?: readonly PoolSeed[];
}

/** A pool as showback needs it: its endpoint, its instances, their list prices, its components. */
export interface PoolSeed {
  readonly pool: string;
  readonly endpointName: string;
  readonly instanceType: string;
  /** What one instance of the type has: the units a copy's share is measured in. */
  readonly instance: { readonly accelerators: number; readonly vcpus: number };
  /** Instances the pool starts with: the estimate's instance count until Cost Explorer has the pool's cost. */
  readonly initialInstances: number;
  /** The config's instance range (absent from seeds written before it was added). */
  readonly instances?: CountRange;
  /**
   * On-demand list price of one instance-hour by region, decimal strings in `priceCurrency`
   * (infra/shared/sagemaker-prices.ts); a region missing here has no estimate.
   */
  readonly listPricePerHour: Readonly<Record<string, string>>;
  readonly priceCurrency: string;
  /** The versions placed on the pool, with what one copy reserves. */
  readonly components: ReadonlyArray<{
    readonly model: string;
    readonly version: number;
    readonly componentName: string;
    readonly accelerators: number;
    readonly cpus: number;
    /** The config's copy range, target tracking's bounds (absent from seeds written before it was added). */
    readonly copies?: CountRange;
  }>;
}

/** A count the platform scales between `min` and `max`, starting at `initial` at deploy. */
export interface CountRange {
  readonly min: number;
  readonly initial: number;
  readonly max: number;
}

export interface PriceSeed {
  readonly model: string;
  readonly version?: number;
  readonly tenant?: string;
  readonly currency: string;
  readonly components: Readonly<Record<string, string>>;
}

/** S3 key of a version's artifact in the model store. */
export function artifactKey(model: string, version: number, fileName = "model.tar.gz"): string {
  return `models/${model}/${version}/${fileName}`;
}
