/**
 * What every handler is configured with. CDK computes it from the platform config
 * (`infra/shared/function-env.ts`) and writes it into each Lambda function's environment under
 * the names below; the cloud's composition roots read it back (`functions/aws/settings.ts`);
 * the local host passes the object itself to the handler factories.
 */
export interface FunctionSettings {
  readonly platformName: string;
  readonly tables: { readonly identity: string; readonly registry: string; readonly usage: string };
  readonly maxBodyBytes: number;
  readonly invokeTimeoutMs: number;
  /** How long one streamed LLM generation may run (API Gateway's streaming limit is 15 minutes). */
  readonly streamTimeoutMs: number;
  readonly usageRetentionDays: number;
  /** How long the invoke path trusts its in-memory copy of a model's registry entry. */
  readonly registryCacheTtlMs: number;
  readonly maxKeysPerTenant: number;
  /** The platform's one currency (ISO 4217): every price, cost and budget is in it. */
  readonly currency: string;
  /** How long after a month ends its invoices may be issued (functions/core/billing/month.ts). */
  readonly invoiceCloseDelaySeconds: number;
}

/** A minute under API Gateway's 15-minute cap for streamed responses, so the stream ends on our terms. */
export const STREAM_TIMEOUT_MS = 14 * 60_000;
/** Registry entries are re-read after this long: an alias move reaches every instance within it. */
export const REGISTRY_CACHE_TTL_MS = 5000;

/** The environment variable of each setting every function gets. */
export const SETTINGS_ENV = {
  platformName: "PLATFORM_NAME",
  identityTable: "IDENTITY_TABLE",
  registryTable: "REGISTRY_TABLE",
  usageTable: "USAGE_TABLE",
  maxBodyBytes: "MAX_BODY_BYTES",
  invokeTimeoutMs: "INVOKE_TIMEOUT_MS",
  streamTimeoutMs: "STREAM_TIMEOUT_MS",
  usageRetentionDays: "USAGE_RETENTION_DAYS",
  registryCacheTtlMs: "REGISTRY_CACHE_TTL_MS",
  maxKeysPerTenant: "MAX_KEYS_PER_TENANT",
  currency: "CURRENCY",
  invoiceCloseDelaySeconds: "INVOICE_CLOSE_DELAY_SECONDS",
} as const;

/**
 * Settings only some functions get, each set by CDK from the resource it names; the local host
 * hands the factories the objects themselves instead.
 */
export const FUNCTION_ENV = {
  /** The shadow function the model functions send copies to (invoke, llm), when a model has a shadow alias. */
  shadowFunctionName: "SHADOW_FUNCTION_NAME",
  /** The model store bucket (admin: upload staging, new versions, invoices; usage: reading invoices). */
  modelBucket: "MODEL_BUCKET",
  /** The log group of the API stage's access log, which reconciliation queries (admin). */
  accessLogGroup: "ACCESS_LOG_GROUP",
  /** The cloud console's origin (CloudFront), the one other origin CORS admits (admin, usage: functions/http/cors.ts). */
  consoleOrigin: "CONSOLE_ORIGIN",
  /** The queue of batch work (batch: creates and cancels; batch worker: chunks and finalization). */
  batchQueueUrl: "BATCH_QUEUE_URL",
} as const;

/** Powertools for AWS Lambda's own variables, which CDK sets from the config. */
export const POWERTOOLS_ENV = {
  serviceName: "POWERTOOLS_SERVICE_NAME",
  /** EMF metrics namespace; the dashboard's SEARCH expressions read the same one. */
  metricsNamespace: "POWERTOOLS_METRICS_NAMESPACE",
  logLevel: "POWERTOOLS_LOG_LEVEL",
} as const;

/** The service name and metrics namespace when the environment names none (the local host). */
export const DEFAULT_SERVICE_NAME = "modelgate";
