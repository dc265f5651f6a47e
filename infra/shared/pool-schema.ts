import { z } from "zod";

/**
 * Shared instance pools and the placement of a version on one (issue 14). A pool is one
 * SageMaker endpoint whose instances many versions share as inference components; each
 * component reserves accelerators, CPUs and memory per copy and scales by copy count, down to
 * zero copies when `copies.min` is 0.
 *
 * The rule for which layout a version gets: a version with `placement` is an inference
 * component on its pool; a version without it keeps the older layout, its own production
 * variant (`instanceType`, `instances`) on its model's endpoint. Both are supported and tested;
 * the shipped config and the README present pools, because a variant per version keeps a whole
 * instance running per version, idle or not. The two cannot be mixed on one version:
 * `placement` beside `instanceType`/`instances` is refused.
 */

/** Pool names: like model names, but at most 32 characters and not ending in '-' (they go into endpoint names). */
export const POOL_NAME = /^[a-z](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

/** How a pool's endpoint spreads requests over the copies of a component. */
export const ROUTING_STRATEGIES = ["LEAST_OUTSTANDING_REQUESTS", "RANDOM"] as const;

/** How long a scale-to-zero component may be idle before it goes to zero copies. @default 600 */
export const DEFAULT_IDLE_SECONDS = 600;

/** A SageMaker instance type's name (its shape only: the spec table says whether it is known). */
export const instanceTypeSchema = z.string().regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/, "must be a SageMaker instance type such as ml.g5.xlarge");

/** A `{min, max, initial?}` range whose bounds are in order, each issue on the field to change. */
export function checkRange(
  ctx: z.RefinementCtx,
  path: string,
  { min, max, initial }: { readonly min: number; readonly max: number; readonly initial?: number | undefined },
): void {
  if (min > max) ctx.addIssue({ code: "custom", path: [path, "min"], message: `must not exceed ${path}.max` });
  if (initial !== undefined && (initial < min || initial > max)) {
    ctx.addIssue({ code: "custom", path: [path, "initial"], message: "must lie between min and max" });
  }
}

/** Where a range starts at deploy: its `initial`, else its `min` but at least one. */
const initialOf = (r: { readonly min: number; readonly initial?: number | undefined }) => r.initial ?? Math.max(1, r.min);

export const poolConfigSchema = z
  .strictObject({
    /** The SageMaker instance type of every instance in the pool (listed in infra/shared/sagemaker-instances.ts). */
    instanceType: instanceTypeSchema,
    /**
     * Instances of the pool. With managed instance scaling SageMaker adds and removes instances
     * between `min` and `max` as components' copies need room; `min: 0` lets an idle pool (every
     * component at zero copies) release its last instance. `initial` (instances at deploy)
     * @default max(min, 1).
     */
    instances: z.strictObject({
      min: z.number().int().min(0),
      max: z.number().int().min(1),
      initial: z.number().int().min(1).optional(),
    }),
    /** SageMaker managed instance scaling of the pool's variant (ManagedInstanceScaling). @default true */
    managedInstanceScaling: z.boolean().default(true),
    /** The variant's RoutingConfig. @default "LEAST_OUTSTANDING_REQUESTS" */
    routingStrategy: z.enum(ROUTING_STRATEGIES).default("LEAST_OUTSTANDING_REQUESTS"),
  })
  .superRefine((p, ctx) => {
    checkRange(ctx, "instances", p.instances);
    if (p.instances.min === 0 && !p.managedInstanceScaling) {
      ctx.addIssue({
        code: "custom",
        path: ["instances", "min"],
        message: "0 needs managedInstanceScaling (only managed instance scaling can take a pool to zero instances)",
      });
    }
  });

export const placementSchema = z
  .strictObject({
    /** The pool (a key of the top-level `pools`) whose endpoint hosts this version as an inference component. */
    pool: z.string().min(1),
    /** Accelerators per copy: GPUs, or Neuron cores on ml.inf2/ml.trn*. 0 on CPU pools. @default 0 */
    accelerators: z.number().int().min(0).default(0),
    /** vCPUs reserved per copy (NumberOfCpuCoresRequired; SageMaker accepts quarters). @default 1 */
    cpus: z.number().min(0.25).multipleOf(0.25).default(1),
    /** Memory reserved per copy, in MiB (MinMemoryRequiredInMb). */
    memoryMiB: z.number().int().min(128),
    /**
     * Copies of the model: target tracking moves between `min` and `max`. `min: 0` is scale to
     * zero: after `idleSeconds` without requests the component has no copy, and the next request
     * is answered 503 "waking" while one starts. `initial` (copies at deploy) @default max(min, 1).
     */
    copies: z
      .strictObject({
        min: z.number().int().min(0),
        max: z.number().int().min(1),
        initial: z.number().int().min(0).optional(),
      })
      .default({ min: 1, max: 1 }),
    /**
     * A scale-to-zero component (copies.min 0) goes to zero copies after this long without
     * requests: in the cloud the scale-in side of its scaling, on the local host the time after
     * which its model host is unloaded. @default 600
     */
    idleSeconds: z.number().int().min(60).max(86_400).default(DEFAULT_IDLE_SECONDS),
    /**
     * Target-tracking target: concurrent requests per copy (SageMaker's high-resolution
     * ConcurrentRequestsPerCopy), above which copies are added. @default 4
     */
    targetConcurrentRequestsPerCopy: z.number().min(0.1).max(1000).default(4),
  })
  .superRefine((p, ctx) => checkRange(ctx, "copies", p.copies));

export type PoolConfig = z.output<typeof poolConfigSchema>;
export type PlacementConfig = z.output<typeof placementSchema>;

/** Instances a pool starts with at deploy. */
export function initialInstances(pool: PoolConfig): number {
  return initialOf(pool.instances);
}

/** Copies a component starts with at deploy (a scale-to-zero one starts awake, with one). */
export function initialCopies(placement: PlacementConfig): number {
  return initialOf(placement.copies);
}
