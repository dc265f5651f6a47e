import { type Price, priceFromJson, priceToJson } from "../core/money/prices";
import type { Alias, AliasHistoryEntry, AliasTarget, ModelVersion, TensorSpec, VersionStatus, WeightedTarget } from "../core/registry";

/**
 * Registry table layout: one partition per model, so one Query reads a whole model.
 *   model:   pk MODEL#<model>#  sk MODEL
 *   version: pk MODEL#<model>#  sk VERSION#<0000N>
 *   alias:   pk MODEL#<model>#  sk ALIAS#<alias>
 *   price:   pk MODEL#<model>#  sk PRICE#<effectiveFrom>#<tenant|*>#<version|*>   price: the price as JSON
 *            (in the model's partition: the request path reads a model's prices with the model, free)
 *   history: pk HISTORY#<model>#  sk <alias>#<000000rev>   (own partition: a model read never pages through it)
 *   catalog: pk CATALOG         sk MODEL#<model>   (lists models with one Query)
 *   pools:   pk POOLS           sk CONFIG          poolsJson: the config's pools (PoolSeed[]) as JSON, replaced by every seed
 */
export const CATALOG_PK = "CATALOG";
export const POOLS_KEY = { pk: "POOLS", sk: "CONFIG" } as const;
export const modelPk = (model: string) => `MODEL#${model}#`;
export const versionSk = (version: number) => `VERSION#${String(version).padStart(5, "0")}`;
export const aliasSk = (alias: string) => `ALIAS#${alias}`;
export const PRICE_SK_PREFIX = "PRICE#";
export const priceSk = (p: Pick<Price, "effectiveFrom" | "tenant" | "version">) =>
  `${PRICE_SK_PREFIX}${p.effectiveFrom}#${p.tenant ?? "*"}#${p.version ?? "*"}`;
export const historyPk = (model: string) => `HISTORY#${model}#`;
export const historySk = (alias: string, revision: number) => `${alias}#${String(revision).padStart(9, "0")}`;

type Item = Record<string, unknown>;

export function versionFromItem(i: Item): ModelVersion {
  return {
    model: String(i.model),
    version: Number(i.version),
    runtime: String(i.runtime),
    status: (i.status as VersionStatus | undefined) ?? "ready",
    endpointName: String(i.endpointName),
    variantName: String(i.variantName),
    ...(typeof i.inferenceComponentName === "string" ? { inferenceComponentName: i.inferenceComponentName } : {}),
    artifactUri: String(i.artifactUri),
    createdAt: String(i.createdAt),
    ...(typeof i.sha256 === "string" ? { sha256: i.sha256 } : {}),
    ...(typeof i.size === "number" ? { size: i.size } : {}),
    ...(typeof i.statusReason === "string" ? { statusReason: i.statusReason } : {}),
    ...(typeof i.updatedAt === "string" ? { updatedAt: i.updatedAt } : {}),
    ...(typeof i.instanceType === "string" ? { instanceType: i.instanceType } : {}),
    ...(Array.isArray(i.inputs) ? { inputs: i.inputs as TensorSpec[] } : {}),
    ...(Array.isArray(i.outputs) ? { outputs: i.outputs as TensorSpec[] } : {}),
  };
}

/** An alias target as stored. */
export function aliasTargetFromItem(value: unknown): AliasTarget {
  const i = (value ?? {}) as Item;
  const shadow = i.shadow as { version?: unknown; percent?: unknown } | undefined;
  return {
    targets: (i.targets as WeightedTarget[] | undefined)?.map((t) => ({ version: Number(t.version), weight: Number(t.weight) })) ?? [],
    ...(shadow && shadow.version !== undefined ? { shadow: { version: Number(shadow.version), percent: Number(shadow.percent) } } : {}),
    ...(typeof i.fallback === "number" ? { fallback: i.fallback } : {}),
  };
}

/** The stored form of an alias target (no undefined fields). */
export function aliasTargetItem(t: AliasTarget): Item {
  return {
    targets: t.targets.map((w) => ({ version: w.version, weight: w.weight })),
    ...(t.shadow ? { shadow: { version: t.shadow.version, percent: t.shadow.percent } } : {}),
    ...(t.fallback !== undefined ? { fallback: t.fallback } : {}),
  };
}

export function aliasFromItem(i: Item): Alias {
  return {
    model: String(i.model),
    alias: String(i.alias),
    ...aliasTargetFromItem(i),
    revision: Number(i.revision),
    updatedAt: String(i.updatedAt),
    updatedBy: String(i.updatedBy),
  };
}

export function historyFromItem(i: Item): AliasHistoryEntry {
  return {
    model: String(i.model),
    alias: String(i.alias),
    revision: Number(i.revision),
    from: i.from === null || i.from === undefined ? null : aliasTargetFromItem(i.from),
    to: aliasTargetFromItem(i.to),
    at: String(i.at),
    by: String(i.by),
    ...(typeof i.rollbackOf === "number" ? { rollbackOf: i.rollbackOf } : {}),
  };
}

export const priceItem = (p: Price) => ({ pk: modelPk(p.model), sk: priceSk(p), type: "price", price: priceToJson(p) });
export const priceFromItem = (i: Item): Price => priceFromJson(i.price);
