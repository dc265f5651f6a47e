import { z } from "zod";
import { TENANT_ID } from "../../functions/core/tenants";
import { VERSION_NUMBER } from "../../functions/core/version-number";

/*
 * What a model may declare beside its versions and aliases: the LLM engine's settings, its
 * initial prices, and, for an embedding model, the vectors it returns (config-schema.ts puts
 * them on the model and checks them against its versions).
 */

/** LMI (vLLM) settings; the container reads them as environment variables (see model-endpoint.ts). */
export const llmConfigSchema = z.strictObject({
  /** vLLM's max_model_len (prompt + completion tokens); default: the model's own context length. */
  maxModelLen: z.number().int().min(1).max(10_000_000).optional(),
  /** GPUs a replica is sharded over; `max` = every GPU of the instance. @default "max" */
  tensorParallelDegree: z.union([z.number().int().min(1).max(64), z.literal("max")]).default("max"),
  /**
   * Secrets Manager secret (full ARN) holding a Hugging Face token, for gated `hf://` models.
   * CloudFormation resolves it at deploy time into the container's `HF_TOKEN`; see the README.
   */
  huggingFaceTokenSecretArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$/, "must be a Secrets Manager secret ARN")
    .optional(),
});

const priceAmount = z.string().regex(/^(0|[1-9]\d{0,17})(\.\d{1,9})?$/, 'a decimal amount such as "0.15" (at most 9 decimals)');

/** One initial price of a model (see functions/core/money/prices.ts for how prices apply). */
export const priceConfigSchema = z
  .strictObject({
    version: VERSION_NUMBER.optional(),
    tenant: z.string().regex(TENANT_ID).optional(),
    perRequest: priceAmount.optional(),
    perMillionInput: priceAmount.optional(),
    perMillionOutput: priceAmount.optional(),
    perMillionCachedInput: priceAmount.optional(),
    perSecond: priceAmount.optional(),
  })
  .refine((p) => Object.keys(p).some((k) => k !== "version" && k !== "tenant"), "set at least one price component");

/** Runtimes that take OpenAI's embeddings body: LMI (vLLM serving an embedding model) or a custom container. */
export const EMBEDDING_RUNTIMES: readonly string[] = ["lmi", "custom"];

/** An embedding model's output (functions/core/registry.ts EmbeddingSpec). */
export const embeddingConfigSchema = z.strictObject({
  /** Length of the vectors every version returns. */
  dimensions: z.number().int().min(1).max(65_536),
  /**
   * A prefix of a vector is itself an embedding (Matryoshka training, or components ordered by
   * importance): requests may then ask for fewer `dimensions`, which the gateway truncates and
   * renormalises. Otherwise such a request is refused. @default false
   */
  truncatable: z.boolean().default(false),
});
