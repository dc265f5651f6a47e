import type { Alias, ModelVersion, TensorSpec, VersionStatus, WeightedTarget } from "../core/registry";

/**
 * Registry table layout: one partition per model, so one Query reads a whole model.
 *   model:   pk MODEL#<model>#  sk MODEL
 *   version: pk MODEL#<model>#  sk VERSION#<0000N>
 *   alias:   pk MODEL#<model>#  sk ALIAS#<alias>
 *   history: pk HISTORY#<model>#  sk <alias>#<000000rev>   (own partition: a model read never pages through it)
 *   catalog: pk CATALOG         sk MODEL#<model>   (lists models with one Query)
 */
export const CATALOG_PK = "CATALOG";
export const modelPk = (model: string) => `MODEL#${model}#`;
export const versionSk = (version: number) => `VERSION#${String(version).padStart(5, "0")}`;
export const aliasSk = (alias: string) => `ALIAS#${alias}`;
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
    artifactUri: String(i.artifactUri),
    createdAt: String(i.createdAt),
    ...(typeof i.sha256 === "string" ? { sha256: i.sha256 } : {}),
    ...(typeof i.instanceType === "string" ? { instanceType: i.instanceType } : {}),
    ...(Array.isArray(i.inputs) ? { inputs: i.inputs as TensorSpec[] } : {}),
    ...(Array.isArray(i.outputs) ? { outputs: i.outputs as TensorSpec[] } : {}),
  };
}

export function aliasFromItem(i: Item): Alias {
  return {
    model: String(i.model),
    alias: String(i.alias),
    targets: (i.targets as WeightedTarget[] | undefined)?.map((t) => ({ version: Number(t.version), weight: Number(t.weight) })) ?? [],
    revision: Number(i.revision),
    updatedAt: String(i.updatedAt),
    updatedBy: String(i.updatedBy),
  };
}
