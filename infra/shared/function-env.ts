import {
  endpointName,
  inferenceComponentName,
  POOL_VARIANT_NAME,
  poolEndpointName,
  variantName,
} from "../../functions/contract/sagemaker-names";
import type { AliasSeed, PoolSeed, PriceSeed, RegistrySeed, VersionSeed } from "../../functions/contract/seed";
import {
  type FunctionSettings,
  POWERTOOLS_ENV,
  REGISTRY_CACHE_TTL_MS,
  SETTINGS_ENV,
  STREAM_TIMEOUT_MS,
} from "../../functions/contract/settings";
import { TABLES, tableName } from "../../functions/contract/tables";
import { DEFAULT_MAX_KEYS } from "../../functions/core/api-keys";
import { poolOf } from "./config";
import { isComponentVersion, type PlatformConfig } from "./config-schema";
import { instanceSpec } from "./instance-specs";
import { initialCopies, initialInstances } from "./pool-schema";
import { SAGEMAKER_PRICES } from "./sagemaker-prices";

/** The settings every handler gets, computed once from the config for both hosts. */
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
    currency: config.currency,
    invoiceCloseDelaySeconds: config.usage.invoiceCloseDelaySeconds,
  };
}

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
    [SETTINGS_ENV.currency]: s.currency,
    [SETTINGS_ENV.invoiceCloseDelaySeconds]: String(s.invoiceCloseDelaySeconds),
    [POWERTOOLS_ENV.serviceName]: config.name,
    [POWERTOOLS_ENV.metricsNamespace]: config.name,
  };
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
  const prices: PriceSeed[] = [];
  for (const [model, m] of Object.entries(config.models)) {
    models.push({
      model,
      defaultAlias: m.defaultAlias,
      ...(m.description ? { description: m.description } : {}),
      ...(m.maxTokensPerRequest !== undefined ? { maxTokensPerRequest: m.maxTokensPerRequest } : {}),
      ...(m.embedding ? { embedding: m.embedding } : {}),
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
    for (const { version, tenant, ...components } of m.prices) {
      prices.push({
        model,
        ...(version !== undefined ? { version } : {}),
        ...(tenant !== undefined ? { tenant } : {}),
        currency: config.currency,
        components,
      });
    }
    for (const [alias, target] of Object.entries(m.aliases)) {
      aliases.push({ model, alias, targets: typeof target === "number" ? [{ version: target, weight: 100 }] : target });
    }
  }
  return { models, versions, aliases, prices, pools: poolSeeds(config) };
}

/**
 * Each pool with a version placed on it, with what showback needs that only the deploy knows:
 * its instance type's size and list prices (by region: the stack may not know its own at synth)
 * and what each component's copy reserves.
 */
export function poolSeeds(config: PlatformConfig): PoolSeed[] {
  const regions: Readonly<Record<string, Readonly<Record<string, number>>>> = SAGEMAKER_PRICES.regions;
  const out: PoolSeed[] = [];
  for (const [pool, p] of Object.entries(config.pools)) {
    const components = Object.entries(config.models).flatMap(([model, m]) =>
      m.versions.flatMap((v) =>
        isComponentVersion(v) && v.placement.pool === pool
          ? [
              {
                model,
                version: v.version,
                componentName: inferenceComponentName(config.name, model, v.version),
                accelerators: v.placement.accelerators,
                cpus: v.placement.cpus,
                copies: { min: v.placement.copies.min, initial: initialCopies(v.placement), max: v.placement.copies.max },
              },
            ]
          : [],
      ),
    );
    if (components.length === 0) continue;
    const spec = instanceSpec(p.instanceType);
    const listPricePerHour: Record<string, string> = {};
    for (const [region, table] of Object.entries(regions)) {
      const price = table[p.instanceType];
      // The table's figures have at most 4 decimals: String() writes them exactly, never with an exponent.
      if (price !== undefined) listPricePerHour[region] = String(price);
    }
    out.push({
      pool,
      endpointName: poolEndpointName(config.name, pool),
      instanceType: p.instanceType,
      // The config check refuses a pool whose type is not in the spec table.
      instance: { accelerators: spec?.accelerators ?? 0, vcpus: spec?.vcpus ?? 1 },
      initialInstances: initialInstances(p),
      instances: { min: p.instances.min, initial: initialInstances(p), max: p.instances.max },
      listPricePerHour,
      priceCurrency: SAGEMAKER_PRICES.currency,
      components,
    });
  }
  return out;
}
