import { z } from "zod";
import { ALIAS_NAME, ALIAS_NAME_RULE, MODEL_NAME, MODEL_NAME_RULE } from "../../functions/contract/name-rules";
import { isLlmRuntime, LLM_RUNTIMES, RUNTIMES } from "../../functions/contract/runtimes";
import { DEFAULT_INVOICE_CLOSE_DELAY_SECONDS } from "../../functions/core/billing/month";
import { VERSION_NUMBER } from "../../functions/core/version-number";
import { llmInstanceIssue } from "./instance-specs";
import { EMBEDDING_RUNTIMES, embeddingConfigSchema, llmConfigSchema, priceConfigSchema } from "./model-options-schema";
import { checkPlacements } from "./placement-rules";
import { checkRange, instanceTypeSchema, type PlacementConfig, POOL_NAME, placementSchema, poolConfigSchema } from "./pool-schema";

/**
 * The platform config: the one file operators edit (`modelgate.config.ts`). Both hosts read
 * it: CDK turns it into endpoints and variants, the local host into model hosts. Validation
 * errors name the field so a bad config fails at start and at synth with a useful message.
 */

/** An IAM user, role, assumed-role or account-root ARN, in any partition. */
const IAM_PRINCIPAL_ARN = /^arn:aws[a-z-]*:(iam|sts)::(\d{12}):(root|user\/.+|role\/.+|assumed-role\/.+)$/;

/**
 * `artifact: "hf://<org>/<name>"` names a Hugging Face hub model that the LMI/TGI container
 * downloads at startup instead of weights in S3 (one field, so "both an S3 artifact and a hub
 * id" cannot be written).
 */
export const HF_ARTIFACT_PREFIX = "hf://";
const HF_MODEL_ID = /^[A-Za-z0-9][\w.-]{0,95}(\/[A-Za-z0-9][\w.-]{0,95})?$/;

/** The hub model id of an `hf://` artifact, undefined for S3 URIs and local paths. */
export function huggingFaceModelId(artifact: string): string | undefined {
  return artifact.startsWith(HF_ARTIFACT_PREFIX) ? artifact.slice(HF_ARTIFACT_PREFIX.length) : undefined;
}

/** Instance type, instances and autoscaling target of a version without `placement` (its own variant). */
export const DEFAULT_INSTANCE_TYPE = "ml.g5.xlarge";
export const DEFAULT_INSTANCES = { initial: 1, min: 1, max: 2 } as const;
export const DEFAULT_TARGET_INVOCATIONS_PER_INSTANCE = 600;

const versionFieldsSchema = z.strictObject({
  /** Version number, immutable, unique per model. */
  version: VERSION_NUMBER,
  /**
   * Local path (relative to the config file) of a `.onnx` file or `model.tar.gz`, or an `s3://` URI.
   * For an LLM runtime (`lmi`, `tgi`) on the local host: the `model.onnx` of a Hugging Face style
   * model directory (config.json, tokenizer.json, tokenizer_config.json beside it).
   * For an LLM runtime in the cloud: an `s3://` prefix of Hugging Face format weights, or
   * `hf://<org>/<name>`, a Hugging Face hub model the container downloads.
   */
  artifact: z.string().min(1),
  /** Expected SHA-256 of the artifact (hex). Verified after upload when given. */
  sha256: z
    .string()
    .regex(/^[a-f0-9]{64}$/)
    .optional(),
  runtime: z.enum(RUNTIMES).default("onnx"),
  /** Container image for `custom` (required there), or an override for the others. */
  image: z.string().min(1).optional(),
  /**
   * Where the version runs in the cloud: an inference component on a shared pool (see
   * pool-schema.ts). Without it the version is its own production variant on its model's
   * endpoint, sized by `instanceType` and `instances` below.
   */
  placement: placementSchema.optional(),
  /** Variant layout only (no `placement`). @default ml.g5.xlarge */
  instanceType: instanceTypeSchema.optional(),
  /** Variant layout only: instances at deploy; autoscaling moves between min and max. @default { initial: 1, min: 1, max: 2 } */
  instances: z
    .strictObject({
      initial: z.number().int().min(1).default(DEFAULT_INSTANCES.initial),
      min: z.number().int().min(1).default(DEFAULT_INSTANCES.min),
      max: z.number().int().min(1).default(DEFAULT_INSTANCES.max),
    })
    .optional(),
  /** Variant layout only: target invocations per instance per minute for autoscaling. @default 600 */
  targetInvocationsPerInstance: z.number().int().min(1).optional(),
  /**
   * Local host only: an HTTP server speaking the SageMaker container contract
   * (`GET /ping`, `POST /invocations`) to use instead of the built-in ONNX host.
   */
  localUrl: z.url().optional(),
  /**
   * What `localUrl` speaks. `openai`: an OpenAI-compatible server (vLLM, llama.cpp server,
   * Ollama), sent the same body on the route the client called (/v1/chat/completions,
   * /v1/completions or /v1/embeddings). `sagemaker`: the container contract.
   * Default: `openai` for LLM runtimes, `sagemaker` otherwise.
   */
  localApi: z.enum(["sagemaker", "openai"]).optional(),
  /** LMI runtime: vLLM settings (context length, tensor parallelism, a Hugging Face token). */
  llm: llmConfigSchema.optional(),
  /**
   * Served by the local host only: CDK creates no SageMaker model or variant for it and leaves
   * it out of the cloud registry (e.g. an ONNX LLM that only the local LLM runtime runs).
   */
  localOnly: z.boolean().default(false),
});

export const versionConfigSchema = versionFieldsSchema
  .superRefine((v, ctx) => {
    if (v.runtime === "custom" && !v.image) {
      ctx.addIssue({ code: "custom", path: ["image"], message: "is required when runtime is 'custom'" });
    }
    if (v.llm !== undefined && v.runtime !== "lmi") {
      ctx.addIssue({ code: "custom", path: ["llm"], message: "applies only to runtime 'lmi'" });
    }
    const hubId = huggingFaceModelId(v.artifact);
    if (hubId !== undefined) {
      if (!isLlmRuntime(v.runtime)) {
        ctx.addIssue({ code: "custom", path: ["artifact"], message: `hf:// applies only to LLM runtimes (${LLM_RUNTIMES.join(", ")})` });
      } else if (!HF_MODEL_ID.test(hubId)) {
        ctx.addIssue({ code: "custom", path: ["artifact"], message: "must be hf://<org>/<name>, a Hugging Face hub model id" });
      }
      if (v.sha256 !== undefined) {
        ctx.addIssue({ code: "custom", path: ["sha256"], message: "cannot be checked for an hf:// artifact (the container downloads it)" });
      }
    }
    if (v.llm?.huggingFaceTokenSecretArn !== undefined && hubId === undefined) {
      ctx.addIssue({ code: "custom", path: ["llm", "huggingFaceTokenSecretArn"], message: "applies only to an hf:// artifact" });
    }
    if (v.placement) {
      for (const field of ["instanceType", "instances", "targetInvocationsPerInstance"] as const) {
        if (v[field] !== undefined) {
          ctx.addIssue({
            code: "custom",
            path: [field],
            message: `contradicts 'placement': a component runs on its pool's instances (pools.${v.placement.pool}) and scales by placement.copies; drop one of the two`,
          });
        }
      }
    } else if (isLlmRuntime(v.runtime) && !v.localOnly) {
      // Placed versions are checked against their pool's instance type (placement-rules.ts).
      const issue = llmInstanceIssue(v.instanceType ?? DEFAULT_INSTANCE_TYPE, v.image);
      if (issue)
        ctx.addIssue({ code: "custom", path: [issue.field === "instanceType" ? "instanceType" : "image"], message: issue.message });
    }
    if (v.localApi !== undefined && !v.localUrl) {
      ctx.addIssue({ code: "custom", path: ["localApi"], message: "needs 'localUrl'" });
    }
    if (v.instances) checkRange(ctx, "instances", v.instances);
  })
  .transform(
    ({ placement, instanceType, instances, targetInvocationsPerInstance, ...rest }): VersionConfig =>
      placement
        ? { ...rest, placement }
        : {
            ...rest,
            instanceType: instanceType ?? DEFAULT_INSTANCE_TYPE,
            instances: instances ?? { ...DEFAULT_INSTANCES },
            targetInvocationsPerInstance: targetInvocationsPerInstance ?? DEFAULT_TARGET_INVOCATIONS_PER_INSTANCE,
          },
  );

export const weightedTargetSchema = z.strictObject({
  version: z.number().int().min(1),
  weight: z.number().int().min(0).max(100),
});

/** An alias target: one version, or weighted versions summing to 100. */
export const aliasTargetSchema = z.union([
  z.number().int().min(1),
  z
    .array(weightedTargetSchema)
    .min(1)
    .max(10)
    .refine((ts) => ts.reduce((s, t) => s + t.weight, 0) === 100, "weights must sum to 100")
    .refine((ts) => new Set(ts.map((t) => t.version)).size === ts.length, "versions must be distinct"),
]);

export const modelConfigSchema = z
  .strictObject({
    description: z.string().max(500).optional(),
    /**
     * Tokens reserved against a tenant's token quota by a request that names no maximum of its
     * own (`max_tokens`, `parameters.max_new_tokens`…), and, on the OpenAI routes, the
     * `max_tokens` the engine is sent for such a request. 0: the model uses no tokens.
     * @default 4096 for versions on an LLM runtime (tgi, lmi), 0 for the others
     */
    maxTokensPerRequest: z.number().int().min(0).max(10_000_000).optional(),
    /**
     * Declares an embedding model: it serves `POST /v1/embeddings` (and not the chat or
     * completion routes). Its versions run on an OpenAI-compatible LLM runtime (`lmi`: vLLM
     * with an embedding model, or the local host's ONNX embedding models) and are placed on
     * pools like any other version.
     */
    embedding: embeddingConfigSchema.optional(),
    versions: z.array(versionConfigSchema).min(1),
    /** Alias name → target. Moved at run time by the admin API; this is the initial value. */
    aliases: z.record(z.string().regex(ALIAS_NAME, ALIAS_NAME_RULE), aliasTargetSchema),
    /** Alias used when a request names none. @default prod */
    defaultAlias: z.string().regex(ALIAS_NAME).default("prod"),
    /**
     * Initial prices in the platform currency, decimal strings (`"0.15"`): the list price, or
     * with `version` one version's, with `tenant` a contract price. Written when absent; moved at
     * run time with `modelgate prices set`, without a deploy. @default none: the model is free
     */
    prices: z.array(priceConfigSchema).default([]),
  })
  .superRefine((m, ctx) => {
    const declared = new Set<number>();
    m.versions.forEach((v, i) => {
      // The gateway sends an embedding model OpenAI's embeddings body: only containers that take it.
      if (m.embedding && !EMBEDDING_RUNTIMES.includes(v.runtime)) {
        ctx.addIssue({
          code: "custom",
          path: ["versions", i, "runtime"],
          message: `an embedding model runs on ${EMBEDDING_RUNTIMES.join(" or ")} (an OpenAI-compatible /v1/embeddings), not '${v.runtime}'`,
        });
      }
      if (declared.has(v.version)) {
        ctx.addIssue({ code: "custom", path: ["versions", i, "version"], message: `version ${v.version} is declared twice` });
      }
      declared.add(v.version);
    });
    for (const [alias, target] of Object.entries(m.aliases)) {
      const versions = typeof target === "number" ? [target] : target.map((t) => t.version);
      versions.forEach((v) => {
        if (!declared.has(v)) {
          ctx.addIssue({ code: "custom", path: ["aliases", alias], message: `points at undeclared version ${v}` });
        }
      });
    }
    if (!(m.defaultAlias in m.aliases)) {
      ctx.addIssue({ code: "custom", path: ["defaultAlias"], message: `alias '${m.defaultAlias}' is not declared` });
    }
    // The cloud drops local-only versions, so an alias must be wholly local-only or wholly deployed.
    const localOnly = new Set(m.versions.filter((v) => v.localOnly).map((v) => v.version));
    if (localOnly.size > 0 && localOnly.size < m.versions.length) {
      for (const [alias, target] of Object.entries(m.aliases)) {
        const versions = typeof target === "number" ? [target] : target.map((t) => t.version);
        const local = versions.filter((v) => localOnly.has(v)).length;
        if (local > 0 && local < versions.length) {
          ctx.addIssue({ code: "custom", path: ["aliases", alias], message: "mixes localOnly and deployed versions" });
        } else if (local > 0 && alias === m.defaultAlias) {
          ctx.addIssue({
            code: "custom",
            path: ["defaultAlias"],
            message: `alias '${alias}' targets only localOnly versions, which the cloud does not deploy`,
          });
        }
      }
    }
  });

/** Longest authorizer result cache the config accepts (API Gateway itself allows 3,600 s). */
export const MAX_AUTHORIZER_CACHE_TTL_SECONDS = 300;

/** The platform's own settings (request size, deadlines, authorizer cache, stage throttling); tenant limits are set per tenant. */
export const gatewayConfigSchema = z.strictObject({
  /** Largest request body accepted, in bytes (SageMaker real-time payloads stop at 6 MB). @default 6 MiB */
  maxBodyBytes: z
    .number()
    .int()
    .min(1024)
    .max(6 * 1024 * 1024)
    .default(6 * 1024 * 1024),
  /** Our deadline for a model call; API Gateway's integration timeout is 29 s. @default 25000 */
  invokeTimeoutMs: z.number().int().min(100).max(28_000).default(25_000),
  /**
   * Authorizer result cache TTL; revocation, disabling and lowered limits take effect within it,
   * hence the 300 s cap. @default 60
   */
  authorizerCacheTtlSeconds: z
    .number()
    .int()
    .min(0)
    .max(MAX_AUTHORIZER_CACHE_TTL_SECONDS, `at most ${MAX_AUTHORIZER_CACHE_TTL_SECONDS} s: revocation and disabling lag by up to this TTL`)
    .default(60),
  /** Stage-wide steady request rate and burst (API Gateway throttling). */
  rateLimitPerSecond: z.number().min(1).default(1000),
  burstLimit: z.number().int().min(1).default(2000),
});

export const platformConfigSchema = z
  .strictObject({
    /** Prefix for every resource name (endpoints, tables). */
    name: z
      .string()
      .regex(/^[a-z][a-z0-9-]{1,23}$/, "must match [a-z][a-z0-9-]{1,23}")
      .default("modelgate"),
    /**
     * Shared instance pools by name: one SageMaker endpoint each, whose instances the versions
     * placed on it (`versions[].placement.pool`) share as inference components. @default none
     */
    pools: z.record(z.string().regex(POOL_NAME, "pool names match [a-z][a-z0-9-]{0,30}[a-z0-9]"), poolConfigSchema).default({}),
    models: z
      .record(z.string().regex(MODEL_NAME, MODEL_NAME_RULE), modelConfigSchema)
      .refine((m) => Object.keys(m).length > 0, "declare at least one model"),
    gateway: gatewayConfigSchema.default(gatewayConfigSchema.parse({})),
    /** The platform's one currency (ISO 4217 code): prices, costs and budgets are in it. @default USD */
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, "an ISO 4217 currency code such as USD")
      .default("USD"),
    /** Renamed to `gateway` before 0.1.0; kept only to say so to a config that still uses it. */
    limits: z
      .undefined({
        error: "'limits' is now 'gateway' (maxBodyBytes, invokeTimeoutMs, authorizerCacheTtlSeconds, rateLimitPerSecond, burstLimit)",
      })
      .optional(),
    usage: z
      .strictObject({
        /** Per-request usage records expire after this many days; aggregates never do. @default 400 */
        retentionDays: z.number().int().min(1).max(3650).default(400),
        /**
         * Seconds after a month ends before its invoices may be issued: the longest request
         * (15 minutes streamed) plus reconciliation's minimum age (20 minutes). Later records
         * are adjustments on the next invoice. @default 2100
         */
        invoiceCloseDelaySeconds: z
          .number()
          .int()
          .min(0)
          .max(31 * 86_400)
          .default(DEFAULT_INVOICE_CLOSE_DELAY_SECONDS),
      })
      .default({ retentionDays: 400, invoiceCloseDelaySeconds: DEFAULT_INVOICE_CLOSE_DELAY_SECONDS }),
    /** Cloud only: who may call the admin API (the local host has one admin credential). */
    admin: z
      .strictObject({
        /**
         * IAM principal ARNs allowed on `/admin/*` by the API's resource policy (wildcards as in
         * `ArnLike`); an account root `arn:aws:iam::<account>:root` stands for every principal of
         * that account. Each still needs its own IAM policy allowing `execute-api:Invoke`.
         * @default this account's root: any principal of the account that IAM allows
         */
        principals: z
          .array(z.string().regex(IAM_PRINCIPAL_ARN, "must be an IAM principal ARN such as arn:aws:iam::111122223333:role/admin"))
          .min(1)
          .optional(),
      })
      .default({}),
    /** Cloud only: a WAF web ACL on the stage with a per-IP rate rule. */
    waf: z
      .strictObject({
        /** Opt out with `false` (or attach your own web ACL with `-c webAclArn=…`). @default true */
        enabled: z.boolean().default(true),
        /** Requests per client IP per 5 minutes before WAF answers 429. @default 20000 */
        ratePerIpPer5Minutes: z.number().int().min(10).max(2_000_000_000).default(20_000),
      })
      .default({ enabled: true, ratePerIpPer5Minutes: 20_000 }),
  })
  .superRefine((c, ctx) => checkPlacements(c, ctx));

export type PlatformConfigInput = z.input<typeof platformConfigSchema>;
export type PlatformConfig = z.output<typeof platformConfigSchema>;
export type ModelConfig = z.output<typeof modelConfigSchema>;
type VersionFields = Omit<
  z.output<typeof versionFieldsSchema>,
  "placement" | "instanceType" | "instances" | "targetInvocationsPerInstance"
>;
/** A version in the variant layout: its own production variant on its model's endpoint. */
export type VariantVersionConfig = VersionFields & {
  readonly placement?: undefined;
  instanceType: string;
  instances: { initial: number; min: number; max: number };
  targetInvocationsPerInstance: number;
};
/** A version placed as an inference component on a shared pool. */
export type ComponentVersionConfig = VersionFields & {
  placement: PlacementConfig;
  readonly instanceType?: undefined;
  readonly instances?: undefined;
  readonly targetInvocationsPerInstance?: undefined;
};
export type VersionConfig = VariantVersionConfig | ComponentVersionConfig;
export type { PlacementConfig, PoolConfig } from "./pool-schema";

export function isComponentVersion(v: VersionConfig): v is ComponentVersionConfig {
  return v.placement !== undefined;
}
/** Whether a version is its own production variant on its model's endpoint (no `placement`). */
export function isVariantVersion(v: VersionConfig): v is VariantVersionConfig {
  return v.placement === undefined;
}
export type AliasTargetConfig = z.output<typeof aliasTargetSchema>;
