import { type PlatformConfig, type PlatformConfigInput, platformConfigSchema } from "./config-schema";

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

/** SageMaker endpoint name of a model: one endpoint per model, one variant per version. */
export function endpointName(config: Pick<PlatformConfig, "name">, model: string): string {
  return `${config.name}-${model}`;
}

/** Production variant name of a version on its model's endpoint. */
export function variantName(version: number): string {
  return `v${version}`;
}
