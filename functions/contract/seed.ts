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
  }>;
  readonly versions: readonly VersionSeed[];
  readonly aliases: readonly AliasSeed[];
  /** Initial prices (written when absent, starting before anything was received): components as decimal strings. */
  readonly prices?: readonly PriceSeed[];
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
