import type { z } from "zod";
import { isLlmRuntime } from "../../functions/contract/runtimes";
import { endpointName, poolEndpointName } from "../../functions/contract/sagemaker-names";
import type { VersionConfig } from "./config-schema";
import { INSTANCE_SPECS_FILE, instanceSpec, llmInstanceIssue } from "./instance-specs";
import { type CopyRequirement, instanceCapacity, instancesFor } from "./pool-capacity";
import { initialCopies, type PoolConfig } from "./pool-schema";

/** The parts of a platform config the placement checks read. */
interface PlacementView {
  readonly name: string;
  readonly pools: Readonly<Record<string, PoolConfig>>;
  readonly models: Readonly<Record<string, { readonly versions: readonly VersionConfig[] }>>;
}

const RESOURCE_WORDS = { accelerators: "accelerators", cpus: "vCPUs", memoryMiB: "MiB of memory" } as const;

/**
 * Cross-field rules of pools and placements, each issue on the field to change: a placement
 * names a declared pool; one copy fits one instance of the pool's type (sagemaker-instances.ts);
 * an LLM runtime gets an accelerator; a pool can hold its components' copies at deploy; a pool's
 * endpoint name is not already a model's endpoint name.
 */
export function checkPlacements(c: PlacementView, ctx: z.RefinementCtx): void {
  for (const [pool, p] of Object.entries(c.pools)) {
    if (!instanceSpec(p.instanceType)) {
      ctx.addIssue({
        code: "custom",
        path: ["pools", pool, "instanceType"],
        message: `'${p.instanceType}' is not in ${INSTANCE_SPECS_FILE}; add its vCPUs, memory and accelerators there to use it in a pool`,
      });
    }
  }
  const copiesAtDeploy = new Map<string, CopyRequirement[]>();
  for (const [model, m] of Object.entries(c.models)) {
    m.versions.forEach((v, i) => {
      if (!v.placement) return;
      const at = ["models", model, "versions", i, "placement"];
      const pool = c.pools[v.placement.pool];
      if (!pool) {
        const declared = Object.keys(c.pools);
        ctx.addIssue({
          code: "custom",
          path: [...at, "pool"],
          message: `unknown pool '${v.placement.pool}' (${declared.length ? `declared: ${declared.join(", ")}` : "no pools are declared"})`,
        });
        return;
      }
      const spec = instanceSpec(pool.instanceType);
      if (!spec) return;
      const whole = instanceCapacity(spec);
      for (const field of ["accelerators", "cpus", "memoryMiB"] as const) {
        const have = whole[field];
        if (v.placement[field] > have) {
          ctx.addIssue({
            code: "custom",
            path: [...at, field],
            message: `${v.placement[field]} ${RESOURCE_WORDS[field]} per copy do not fit one ${pool.instanceType} of pool '${v.placement.pool}' (it has ${have})`,
          });
        }
      }
      if (v.localOnly) return;
      if (isLlmRuntime(v.runtime)) {
        const issue = llmInstanceIssue(pool.instanceType, v.image);
        if (issue?.field === "instanceType") {
          ctx.addIssue({ code: "custom", path: [...at, "pool"], message: `pool '${v.placement.pool}' runs ${issue.message}` });
        } else if (issue) {
          ctx.addIssue({ code: "custom", path: ["models", model, "versions", i, "image"], message: issue.message });
        } else if (v.placement.accelerators < 1) {
          ctx.addIssue({
            code: "custom",
            path: [...at, "accelerators"],
            message: "must be at least 1 for an LLM runtime on a GPU or Neuron pool",
          });
        }
        const degree = v.llm?.tensorParallelDegree;
        if (typeof degree === "number" && degree > v.placement.accelerators) {
          ctx.addIssue({
            code: "custom",
            path: ["models", model, "versions", i, "llm", "tensorParallelDegree"],
            message: `${degree} exceeds the ${v.placement.accelerators} accelerator(s) its placement reserves per copy`,
          });
        }
      }
      const copies = copiesAtDeploy.get(v.placement.pool) ?? [];
      for (let n = 0; n < initialCopies(v.placement); n++) copies.push(v.placement);
      copiesAtDeploy.set(v.placement.pool, copies);
    });
  }
  for (const [pool, copies] of copiesAtDeploy) {
    const p = c.pools[pool];
    const spec = p && instanceSpec(p.instanceType);
    if (!p || !spec) continue;
    const needed = instancesFor(copies, spec);
    if (needed > p.instances.max) {
      ctx.addIssue({
        code: "custom",
        path: ["pools", pool, "instances", "max"],
        message: `its components' ${copies.length} copies at deploy need ${needed} instances of ${p.instanceType}; raise instances.max or lower copies`,
      });
    }
  }
  // Only a model with a version in the variant layout has an endpoint of its own.
  const modelEndpoints = new Map(
    Object.entries(c.models)
      .filter(([, m]) => m.versions.some((v) => !v.placement && !v.localOnly))
      .map(([model]) => [endpointName(c, model), model]),
  );
  for (const pool of Object.keys(c.pools)) {
    const clash = modelEndpoints.get(poolEndpointName(c.name, pool));
    if (clash) {
      ctx.addIssue({
        code: "custom",
        path: ["pools", pool],
        message: `its endpoint name is model '${clash}''s endpoint name; rename the pool`,
      });
    }
  }
}
