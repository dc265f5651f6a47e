import { z } from "zod";
import { ALIAS_NAME, ALIAS_NAME_RULE, MODEL_NAME, MODEL_NAME_RULE } from "../contract/name-rules";
import { RUNTIMES } from "../contract/runtimes";
import { MAX_GRACE_SECONDS } from "../core/api-keys";
import { LIMIT_MAXIMUMS, type TenantLimits, validateLimits } from "../core/limits/tenant-limits";
import { formatAmount, InvalidAmountError, parseBudgetAmount } from "../core/money/amount";
import { KEY_SCOPES } from "../core/scopes";
import { TENANT_ID } from "../core/tenants";
import { VERSION_NUMBER } from "../core/version-number";

/** Admin request bodies. Strict: unknown or privileged fields (keyHash, tenantId…) are a 400. */

const tenantName = z.string().min(1).max(200);
const modelGrants = z.array(z.union([z.literal("*"), z.string().regex(MODEL_NAME, MODEL_NAME_RULE)])).max(500);
const plan = z.string().regex(/^[a-z0-9-]{1,40}$/, "plans match [a-z0-9-]{1,40}");

/** The currency of the bodies below when none is named: the config's default. */
export const DEFAULT_CURRENCY = "USD";

/**
 * `limits.monthlyBudget` as the admin API takes it, a decimal string in the platform currency
 * ("25.00"), to the core's nano-units; anything else is a message naming the field.
 */
export function budgetFromBody(value: unknown, currency = DEFAULT_CURRENCY): { ok: true; nano: number } | { ok: false; message: string } {
  if (typeof value !== "string") {
    return { ok: false, message: `monthlyBudget must be a decimal string in ${currency} such as "25.00", got ${JSON.stringify(value)}` };
  }
  let nano: bigint;
  try {
    nano = parseBudgetAmount(value, currency, "monthlyBudget");
  } catch (err) {
    if (err instanceof InvalidAmountError) return { ok: false, message: err.message };
    throw err;
  }
  if (nano <= 0n) return { ok: false, message: `monthlyBudget must be more than 0, got ${JSON.stringify(value)}` };
  if (nano > BigInt(LIMIT_MAXIMUMS.monthlyBudget)) {
    const max = formatAmount(BigInt(LIMIT_MAXIMUMS.monthlyBudget));
    return { ok: false, message: `monthlyBudget must be at most ${max} ${currency} a month, got ${JSON.stringify(value)}` };
  }
  return { ok: true, nano: Number(nano) };
}

/**
 * Rate, quota, concurrency and budget limits, checked by the same validator the core uses;
 * `monthlyBudget` comes as a decimal string (see budgetFromBody) and answers show it so.
 */
const limitsIn = (currency: string) =>
  z.unknown().transform((value, ctx): TenantLimits => {
    let input = value;
    if (typeof value === "object" && value !== null && !Array.isArray(value) && "monthlyBudget" in value) {
      const budget = budgetFromBody((value as { monthlyBudget: unknown }).monthlyBudget, currency);
      if (!budget.ok) {
        ctx.addIssue({ code: "custom", message: budget.message });
        return z.NEVER;
      }
      input = { ...value, monthlyBudget: budget.nano };
    }
    const r = validateLimits(input);
    if (r.ok) return r.limits;
    ctx.addIssue({ code: "custom", message: r.message });
    return z.NEVER;
  });

/**
 * The tenant and key bodies, whose `limits.monthlyBudget` is read in the platform currency (to its
 * minor unit: "25.00" USD, "2500" JPY).
 */
export function limitBodies(currency: string) {
  const limits = limitsIn(currency);
  const createTenantBody = z.strictObject({
    tenantId: z.string().regex(TENANT_ID, "tenant ids match [a-z0-9-]{3,40}"),
    name: tenantName.optional(),
    models: modelGrants,
    plan: plan.optional(),
    limits: limits.optional(),
  });

  /** What an operator may change; status has its own routes (disable/enable/delete). */
  const updateTenantBody = z
    .strictObject({ name: tenantName.optional(), models: modelGrants.optional(), plan: plan.optional(), limits: limits.optional() })
    .refine(
      (b) => b.name !== undefined || b.models !== undefined || b.plan !== undefined || b.limits !== undefined,
      "give at least one of name, models, plan, limits",
    );

  const createKeyBody = z.strictObject({
    name: z.string().min(1).max(200).optional(),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
    scopes: z.array(z.enum(KEY_SCOPES)).min(1).optional(),
    limits: limits.optional(),
  });

  /** A key's own limits, replaced whole (`{}` removes them). */
  const keyLimitsBody = z.strictObject({ limits });

  return { createTenantBody, updateTenantBody, createKeyBody, keyLimitsBody };
}

/** The bodies in the default currency. */
export const { createTenantBody, updateTenantBody, createKeyBody, keyLimitsBody } = limitBodies(DEFAULT_CURRENCY);

export const rotateKeyBody = z.strictObject({
  /** How long the old key keeps working. */
  graceSeconds: z.number().int().min(0).max(MAX_GRACE_SECONDS).optional(),
  /** Expiry of the new key. */
  expiresAt: z.iso.datetime({ offset: true }).optional(),
});

export const listLimit = z.coerce.number().int().min(1).max(100).default(50);

export const setAliasBody = z.strictObject({
  /** One version, or weighted versions summing to 100. */
  target: z.union([
    VERSION_NUMBER,
    z
      .array(z.strictObject({ version: VERSION_NUMBER, weight: z.number().int().min(0).max(100) }))
      .min(1)
      .max(10),
  ]),
  /** A version that receives a sampled copy of the traffic; its answers are discarded. */
  shadow: z.strictObject({ version: VERSION_NUMBER, percent: z.number().int().min(1).max(100) }).optional(),
  /** The version that answers when the chosen one fails with a 5xx or is not ready. */
  fallback: VERSION_NUMBER.optional(),
  /** The alias revision this update is based on; 0 creates a new alias. */
  expectedRevision: z.number().int().min(0),
});

const tensorSpec = z.strictObject({
  name: z.string().min(1).max(200),
  datatype: z.string().regex(/^[A-Z0-9_]{2,8}$/, "KServe v2 datatypes look like FP32"),
  shape: z.array(z.number().int().min(-1)).max(16),
});

export const uploadBody = z.strictObject({ fileName: z.string().min(1).max(100) });

export const registerVersionBody = z.strictObject({
  upload: z.string().min(1).max(400),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "sha256 is 64 lowercase hex digits"),
  size: z.number().int().min(1),
  runtime: z.enum(RUNTIMES).default("onnx"),
  version: VERSION_NUMBER.optional(),
  inputs: z.array(tensorSpec).max(100).optional(),
  outputs: z.array(tensorSpec).max(100).optional(),
});

export const versionParam = z.coerce.number().pipe(VERSION_NUMBER);

export const tenantIdParam = z.string().regex(TENANT_ID, "tenant ids match [a-z0-9-]{3,40}");
export const modelParam = z.string().regex(MODEL_NAME, "unknown model");
export const aliasParam = z.string().regex(ALIAS_NAME, ALIAS_NAME_RULE);
export const keyIdParam = z.string().regex(/^[0-9A-Za-z]{16}$/, "unknown key id");

/** Times are checked (and bounded) by the usage range parser, like the usage queries'. */
export const reconcileBody = z.strictObject({
  from: z.string().min(1).max(40),
  to: z.string().min(1).max(40),
  repair: z.boolean().optional(),
  minAgeSeconds: z.number().int().min(0).max(86_400).optional(),
});

export const optionalTenantIdParam = tenantIdParam.optional();

/** `POST /admin/invoices/issue`: a month (`YYYY-MM`, checked by the core), and one tenant or every tenant with charges. */
export const issueInvoicesBody = z.strictObject({
  month: z.string().min(1).max(20),
  tenant: tenantIdParam.optional(),
});
export const optionalModelParam = modelParam.optional();

/** A decimal amount as the price book takes it; the core checks its precision and names the field. */
const priceAmount = z.string().min(1).max(40);

/** `POST /admin/models/{model}/prices`: components in the platform currency, a scope, a start. */
export const setPriceBody = z
  .strictObject({
    version: VERSION_NUMBER.optional(),
    tenant: z.string().regex(TENANT_ID, "tenant ids match [a-z0-9-]{3,40}").optional(),
    from: z.string().min(1).max(40).optional(),
    perRequest: priceAmount.optional(),
    perMillionInput: priceAmount.optional(),
    perMillionOutput: priceAmount.optional(),
    perMillionCachedInput: priceAmount.optional(),
    perSecond: priceAmount.optional(),
  })
  .refine(
    (b) => ["perRequest", "perMillionInput", "perMillionOutput", "perMillionCachedInput", "perSecond"].some((k) => k in b),
    "give at least one of perRequest, perMillionInput, perMillionOutput, perMillionCachedInput, perSecond",
  );
