import { existsSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError, parsePlatformConfig } from "./config";
import { huggingFaceModelId, type PlatformConfig } from "./config-schema";

/** A validated config plus where it came from, with local artifact paths made absolute. */
export interface LoadedConfig {
  readonly config: PlatformConfig;
  readonly path: string;
  /** Absolute path of each local artifact, by `model/version`; s3:// and hf:// artifacts are absent. */
  readonly localArtifacts: ReadonlyMap<string, string>;
}

export const DEFAULT_CONFIG_FILE = "modelgate.config.ts";

/** Loads and validates the platform config module (default export) at `path`. */
export async function loadPlatformConfig(path = DEFAULT_CONFIG_FILE): Promise<LoadedConfig> {
  const { config, path: absolute } = await readPlatformConfig(path);
  return { config, path: absolute, localArtifacts: resolveArtifacts(config, dirname(absolute)) };
}

/** The validated config module at `path`, without looking for its artifacts (what `modelgate cost` reads). */
export async function readPlatformConfig(path = DEFAULT_CONFIG_FILE): Promise<{ config: PlatformConfig; path: string }> {
  const absolute = resolve(path);
  if (!existsSync(absolute)) throw new ConfigError(`config file not found: ${absolute}`, []);
  const mod = (await import(pathToFileURL(absolute).href)) as { default?: unknown };
  return { config: parsePlatformConfig(mod.default, path), path: absolute };
}

export function resolveArtifacts(config: PlatformConfig, baseDir: string): Map<string, string> {
  const out = new Map<string, string>();
  const issues: string[] = [];
  for (const [model, m] of Object.entries(config.models)) {
    m.versions.forEach((v, i) => {
      if (v.artifact.startsWith("s3://") || huggingFaceModelId(v.artifact) !== undefined) return;
      const file = isAbsolute(v.artifact) ? v.artifact : resolve(baseDir, v.artifact);
      if (!existsSync(file)) issues.push(`models.${model}.versions.${i}.artifact: file not found: ${file}`);
      out.set(`${model}/${v.version}`, file);
    });
  }
  if (issues.length) throw new ConfigError(`invalid platform config:\n  - ${issues.join("\n  - ")}`, issues);
  return out;
}
