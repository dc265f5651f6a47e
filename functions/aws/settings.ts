import { DEFAULT_SERVICE_NAME, FUNCTION_ENV, type FunctionSettings, POWERTOOLS_ENV, SETTINGS_ENV } from "../contract/settings";
import { intEnv, optionalEnv, requireEnv } from "./env";

/**
 * The settings CDK wrote into this Lambda function's environment (`functionEnvironment`), read
 * once by a cloud composition root (`functions/<name>/handler.ts`). The local host never
 * comes here: it hands the same settings to the factories directly.
 */
export function settingsFromEnv(): FunctionSettings {
  return {
    platformName: requireEnv(SETTINGS_ENV.platformName),
    tables: {
      identity: requireEnv(SETTINGS_ENV.identityTable),
      registry: requireEnv(SETTINGS_ENV.registryTable),
      usage: requireEnv(SETTINGS_ENV.usageTable),
    },
    maxBodyBytes: requiredInt(SETTINGS_ENV.maxBodyBytes),
    invokeTimeoutMs: requiredInt(SETTINGS_ENV.invokeTimeoutMs),
    streamTimeoutMs: requiredInt(SETTINGS_ENV.streamTimeoutMs),
    usageRetentionDays: requiredInt(SETTINGS_ENV.usageRetentionDays),
    registryCacheTtlMs: requiredInt(SETTINGS_ENV.registryCacheTtlMs),
    maxKeysPerTenant: requiredInt(SETTINGS_ENV.maxKeysPerTenant),
    currency: requireEnv(SETTINGS_ENV.currency),
    invoiceCloseDelaySeconds: requiredInt(SETTINGS_ENV.invoiceCloseDelaySeconds),
  };
}

type FunctionSetting = keyof typeof FUNCTION_ENV;

/** A setting only some functions get (`FUNCTION_ENV`): undefined where CDK set none. */
export function optionalFunctionSetting(name: FunctionSetting): string | undefined {
  return optionalEnv(FUNCTION_ENV[name]);
}

/** A setting this function cannot run without: a missing one fails loudly at cold start. */
export function requiredFunctionSetting(name: FunctionSetting): string {
  return requireEnv(FUNCTION_ENV[name]);
}

/** Powertools' service name and metrics namespace, with the local host's defaults where unset. */
export function powertoolsSettings(): { readonly serviceName: string; readonly metricsNamespace: string } {
  return {
    serviceName: optionalEnv(POWERTOOLS_ENV.serviceName) ?? DEFAULT_SERVICE_NAME,
    metricsNamespace: optionalEnv(POWERTOOLS_ENV.metricsNamespace) ?? DEFAULT_SERVICE_NAME,
  };
}

function requiredInt(name: string): number {
  requireEnv(name);
  return intEnv(name, Number.NaN);
}
