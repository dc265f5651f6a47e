import { createHash } from "node:crypto";
import { ALIAS_NAME } from "../contract/name-rules";
import { NotFoundError, ServiceUnavailableError } from "./errors";
import type { ModelRecord, ModelVersion, WeightedTarget } from "./registry";
import { parseVersionNumber } from "./version-number";

/** What a request asked for: an explicit version number, an alias, or the model's default. */
export type VersionSelector =
  | { readonly kind: "version"; readonly version: number }
  | { readonly kind: "alias"; readonly alias: string }
  | { readonly kind: "default" };

/** A version or an alias name, as found in `/versions/{version}` (KServe puts both there). */
export function parseVersionOrAlias(value: string): VersionSelector {
  const version = parseVersionNumber(value);
  if (version !== undefined) return { kind: "version", version };
  if (ALIAS_NAME.test(value)) return { kind: "alias", alias: value };
  throw new NotFoundError(`'${value}' is neither a version number nor an alias name`);
}

export interface Resolution {
  readonly version: ModelVersion;
  /** The alias that was followed, if any. */
  readonly alias?: string;
  /** The alias's fallback, when it has one that is ready and differs from `version`. */
  readonly fallback?: ModelVersion;
  /** Set when the alias's chosen version was not ready and `version` is its fallback. */
  readonly notReady?: number;
  /** The alias's shadow version and the share of requests it samples. */
  readonly shadow?: { readonly version: ModelVersion; readonly percent: number };
}

/**
 * Picks the version that serves a request. Weighted aliases route deterministically by a
 * routing key (the API key id, or the caller's `x-routing-key`): the same key lands on the
 * same version for as long as the weights stay the same, and keys spread by the weights.
 */
export function resolveVersion(model: ModelRecord, selector: VersionSelector, routingKey: string): Resolution {
  if (selector.kind === "version") {
    const version = model.versions.get(selector.version);
    if (!version || version.status === "retired") {
      throw new NotFoundError(`model '${model.model}' has no version ${selector.version}`);
    }
    return { version };
  }
  const aliasName = selector.kind === "alias" ? selector.alias : model.defaultAlias;
  const alias = model.aliases.get(aliasName);
  if (!alias) throw new NotFoundError(`model '${model.model}' has no alias '${aliasName}'`);
  const chosen = pickWeighted(alias.targets, `${model.model}/${aliasName}/${routingKey}`);
  const version = model.versions.get(chosen);
  const fallback = alias.fallback !== undefined ? model.versions.get(alias.fallback) : undefined;
  const usableFallback = fallback && fallback.status === "ready" && fallback.version !== chosen ? fallback : undefined;
  // A primary that is missing or not ready (e.g. retired under the alias) is served by the fallback.
  if (!version || version.status !== "ready") {
    if (usableFallback) return { version: usableFallback, alias: aliasName, notReady: chosen };
    throw new ServiceUnavailableError(`alias '${aliasName}' points at version ${chosen}, which is not being served`, {
      retryAfterSeconds: 5,
    });
  }
  const shadowVersion = alias.shadow ? model.versions.get(alias.shadow.version) : undefined;
  return {
    version,
    alias: aliasName,
    ...(usableFallback ? { fallback: usableFallback } : {}),
    ...(alias.shadow && shadowVersion?.status === "ready" ? { shadow: { version: shadowVersion, percent: alias.shadow.percent } } : {}),
  };
}

/** Whether a request is in a shadow's sample: stable per request id, so a replay samples alike. */
export function inShadowSample(requestId: string, percent: number): boolean {
  return routingBucket(`shadow/${requestId}`) < percent;
}

/** Stable bucket in [0, 100) for a routing key. */
export function routingBucket(key: string): number {
  const h = createHash("sha256").update(key).digest();
  return h.readUInt32BE(0) % 100;
}

export function pickWeighted(targets: readonly WeightedTarget[], routingKey: string): number {
  const live = targets.filter((t) => t.weight > 0);
  const first = live[0] ?? targets[0];
  if (!first) throw new ServiceUnavailableError("alias has no targets", { retryAfterSeconds: 5 });
  if (live.length <= 1) return first.version;
  const total = live.reduce((s, t) => s + t.weight, 0);
  const bucket = (routingBucket(routingKey) * total) / 100;
  let acc = 0;
  for (const t of live) {
    acc += t.weight;
    if (bucket < acc) return t.version;
  }
  return first.version;
}
