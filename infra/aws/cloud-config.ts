import { ConfigError } from "../shared/config";
import type { ModelConfig, PlatformConfig } from "../shared/config-schema";

/**
 * The part of the config the cloud deploys: versions marked `localOnly` are dropped, with the
 * aliases that target them and the models left without versions. The stack builds endpoints and
 * the registry seed from this view, so the cloud API answers 404 for a local-only model instead
 * of routing to an endpoint that cannot serve it. (The schema refuses aliases that mix
 * local-only and deployed versions, and a default alias that would vanish.) Pools that no
 * deployed version is placed on are dropped too: an endpoint hosting nothing would still run
 * (and bill) its instances.
 */
export function cloudConfig(config: PlatformConfig): PlatformConfig {
  const models: Record<string, ModelConfig> = {};
  for (const [name, m] of Object.entries(config.models)) {
    const versions = m.versions.filter((v) => !v.localOnly);
    if (versions.length === 0) continue;
    const deployed = new Set(versions.map((v) => v.version));
    const aliases = Object.fromEntries(
      Object.entries(m.aliases).filter(([, target]) =>
        (typeof target === "number" ? [target] : target.map((t) => t.version)).every((v) => deployed.has(v)),
      ),
    );
    models[name] = { ...m, versions, aliases };
  }
  if (Object.keys(models).length === 0) {
    throw new ConfigError("invalid platform config:\n  - models: every version is localOnly; nothing deploys to AWS", ["models"]);
  }
  const used = new Set(Object.values(models).flatMap((m) => m.versions.flatMap((v) => (v.placement ? [v.placement.pool] : []))));
  const pools = Object.fromEntries(Object.entries(config.pools).filter(([name]) => used.has(name)));
  return { ...config, models, pools };
}
