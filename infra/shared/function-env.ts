import { endpointName, variantName } from "./config";
import type { PlatformConfig } from "./config-schema";
import { TABLE_ENV, TABLES, tableName } from "./tables";

/**
 * Environment of every handler, computed once from the config so both hosts set the same
 * variables: CDK puts them on each Lambda function, the local host on its own process.
 */
export function functionEnvironment(config: PlatformConfig): Record<string, string> {
  const env: Record<string, string> = {
    PLATFORM_NAME: config.name,
    POWERTOOLS_SERVICE_NAME: config.name,
    // EMF metrics namespace; the dashboard's SEARCH expressions read the same one.
    POWERTOOLS_METRICS_NAMESPACE: config.name,
    MAX_BODY_BYTES: String(config.limits.maxBodyBytes),
    INVOKE_TIMEOUT_MS: String(config.limits.invokeTimeoutMs),
    USAGE_RETENTION_DAYS: String(config.usage.retentionDays),
  };
  for (const t of TABLES) env[TABLE_ENV[t.id]] = tableName(config.name, t);
  return env;
}

/** One registry version as seeded at deploy / start: where it is served and what it is. */
export interface VersionSeed {
  readonly model: string;
  readonly version: number;
  readonly runtime: string;
  readonly endpointName: string;
  readonly variantName: string;
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
}

/**
 * What the registry must hold for `config`. `artifactUri(model, version)` says where each
 * artifact was put (the S3 URI differs between the hosts only by bucket).
 */
export function registrySeed(
  config: PlatformConfig,
  artifactUri: (model: string, version: number) => string,
  sha256: (model: string, version: number) => string | undefined = () => undefined,
): RegistrySeed {
  const models: Array<RegistrySeed["models"][number]> = [];
  const versions: VersionSeed[] = [];
  const aliases: AliasSeed[] = [];
  for (const [model, m] of Object.entries(config.models)) {
    models.push({
      model,
      defaultAlias: m.defaultAlias,
      ...(m.description ? { description: m.description } : {}),
      ...(m.maxTokensPerRequest !== undefined ? { maxTokensPerRequest: m.maxTokensPerRequest } : {}),
    });
    for (const v of m.versions) {
      const digest = v.sha256 ?? sha256(model, v.version);
      versions.push({
        model,
        version: v.version,
        runtime: v.runtime,
        endpointName: endpointName(config, model),
        variantName: variantName(v.version),
        artifactUri: artifactUri(model, v.version),
        instanceType: v.instanceType,
        ...(digest ? { sha256: digest } : {}),
      });
    }
    for (const [alias, target] of Object.entries(m.aliases)) {
      aliases.push({ model, alias, targets: typeof target === "number" ? [{ version: target, weight: 100 }] : target });
    }
  }
  return { models, versions, aliases };
}

/** S3 key of a version's artifact in the model store. */
export function artifactKey(model: string, version: number, fileName = "model.tar.gz"): string {
  return `models/${model}/${version}/${fileName}`;
}
