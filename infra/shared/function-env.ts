import { DEFAULT_MAX_KEYS } from "../../functions/core/api-keys";
import { endpointName, inferenceComponentName, POOL_VARIANT_NAME, poolEndpointName, poolOf, variantName } from "./config";
import { isComponentVersion, type PlatformConfig } from "./config-schema";
import { TABLES, tableName } from "./tables";

/**
 * What every handler is configured with, computed once from the config for both hosts: CDK
 * writes it into each Lambda function's environment (`functionEnvironment`) and the cloud's
 * composition roots read it back (`functions/aws/settings.ts`); the local host passes the
 * object itself to the handler factories.
 */
export interface FunctionSettings {
  readonly platformName: string;
  readonly tables: { readonly identity: string; readonly registry: string; readonly usage: string };
  readonly maxBodyBytes: number;
  readonly invokeTimeoutMs: number;
  /** How long one streamed LLM generation may run (API Gateway's streaming limit is 15 minutes). */
  readonly streamTimeoutMs: number;
  readonly usageRetentionDays: number;
  /** How long the invoke path trusts its in-memory copy of a model's registry entry. */
  readonly registryCacheTtlMs: number;
  readonly maxKeysPerTenant: number;
}

/** A minute under API Gateway's 15-minute cap for streamed responses, so the stream ends on our terms. */
export const STREAM_TIMEOUT_MS = 14 * 60_000;
/** Registry entries are re-read after this long: an alias move reaches every instance within it. */
export const REGISTRY_CACHE_TTL_MS = 5000;

export function functionSettings(config: PlatformConfig): FunctionSettings {
  const [identity, registry, usage] = TABLES.map((t) => tableName(config.name, t));
  return {
    platformName: config.name,
    tables: { identity: identity ?? "", registry: registry ?? "", usage: usage ?? "" },
    maxBodyBytes: config.gateway.maxBodyBytes,
    invokeTimeoutMs: config.gateway.invokeTimeoutMs,
    streamTimeoutMs: STREAM_TIMEOUT_MS,
    usageRetentionDays: config.usage.retentionDays,
    registryCacheTtlMs: REGISTRY_CACHE_TTL_MS,
    maxKeysPerTenant: DEFAULT_MAX_KEYS,
  };
}

/** The environment variable of each setting (`functions/aws/settings.ts` reads the same names). */
export const SETTINGS_ENV = {
  platformName: "PLATFORM_NAME",
  identityTable: "IDENTITY_TABLE",
  registryTable: "REGISTRY_TABLE",
  usageTable: "USAGE_TABLE",
  maxBodyBytes: "MAX_BODY_BYTES",
  invokeTimeoutMs: "INVOKE_TIMEOUT_MS",
  streamTimeoutMs: "STREAM_TIMEOUT_MS",
  usageRetentionDays: "USAGE_RETENTION_DAYS",
  registryCacheTtlMs: "REGISTRY_CACHE_TTL_MS",
  maxKeysPerTenant: "MAX_KEYS_PER_TENANT",
} as const;

/**
 * The admin function's one setting of its own: the log group of the API stage's access log,
 * which reconciliation queries. CDK sets it from the stage's log group (GatewayApi.accessLogs);
 * the local host hands the admin function its file-backed access log instead.
 */
export const ACCESS_LOG_GROUP_ENV = "ACCESS_LOG_GROUP";

/** The Lambda environment of every handler: the settings, plus Powertools' own variables. */
export function functionEnvironment(config: PlatformConfig): Record<string, string> {
  const s = functionSettings(config);
  return {
    [SETTINGS_ENV.platformName]: s.platformName,
    [SETTINGS_ENV.identityTable]: s.tables.identity,
    [SETTINGS_ENV.registryTable]: s.tables.registry,
    [SETTINGS_ENV.usageTable]: s.tables.usage,
    [SETTINGS_ENV.maxBodyBytes]: String(s.maxBodyBytes),
    [SETTINGS_ENV.invokeTimeoutMs]: String(s.invokeTimeoutMs),
    [SETTINGS_ENV.streamTimeoutMs]: String(s.streamTimeoutMs),
    [SETTINGS_ENV.usageRetentionDays]: String(s.usageRetentionDays),
    [SETTINGS_ENV.registryCacheTtlMs]: String(s.registryCacheTtlMs),
    [SETTINGS_ENV.maxKeysPerTenant]: String(s.maxKeysPerTenant),
    POWERTOOLS_SERVICE_NAME: config.name,
    // EMF metrics namespace; the dashboard's SEARCH expressions read the same one.
    POWERTOOLS_METRICS_NAMESPACE: config.name,
  };
}

/** One registry version as seeded at deploy / start: where it is served and what it is. */
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
      // A component is named on its pool's endpoint, whose one variant it runs on; a version in
      // the variant layout is its own variant on its model's endpoint.
      const servedBy = isComponentVersion(v)
        ? {
            endpointName: poolEndpointName(config.name, v.placement.pool),
            variantName: POOL_VARIANT_NAME,
            inferenceComponentName: inferenceComponentName(config.name, model, v.version),
            instanceType: poolOf(config, v).instanceType,
          }
        : { endpointName: endpointName(config, model), variantName: variantName(v.version), instanceType: v.instanceType };
      versions.push({
        model,
        version: v.version,
        runtime: v.runtime,
        ...servedBy,
        artifactUri: artifactUri(model, v.version),
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
