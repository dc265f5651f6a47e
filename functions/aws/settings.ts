import { type FunctionSettings, SETTINGS_ENV } from "../../infra/shared/function-env";
import { intEnv, requireEnv } from "./env";

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
  };
}

function requiredInt(name: string): number {
  requireEnv(name);
  return intEnv(name, Number.NaN);
}
