import {
  type ComponentVersionConfig,
  type PlatformConfig,
  type PlatformConfigInput,
  type PoolConfig,
  platformConfigSchema,
} from "./config-schema";

/** A config that failed validation; the message lists every bad field by its path. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    message: string,
    readonly issues: readonly string[],
  ) {
    super(message);
  }
}

/** Validates a platform config, throwing a ConfigError that names each bad field. */
export function parsePlatformConfig(input: unknown, source = "modelgate.config.ts"): PlatformConfig {
  const result = platformConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`);
  throw new ConfigError(`invalid platform config in ${source}:\n  - ${issues.join("\n  - ")}`, issues);
}

/** Typed helper for `modelgate.config.ts`, so editors check the file as it is written. */
export function defineConfig(config: PlatformConfigInput): PlatformConfigInput {
  return config;
}

/** The pool a placed version runs on (validation guarantees it is declared). */
export function poolOf(config: Pick<PlatformConfig, "pools">, v: ComponentVersionConfig): PoolConfig {
  const pool = config.pools[v.placement.pool];
  if (!pool) throw new ConfigError(`invalid platform config:\n  - version ${v.version}: unknown pool '${v.placement.pool}'`, []);
  return pool;
}
