/**
 * The route table: every HTTP route of the API, read by both hosts. CDK generates API Gateway
 * resources and methods from it; the local API Gateway emulator matches requests against it.
 * `openapi.yaml` documents the same routes and a test fails when the two drift.
 */

export type HandlerName = "invoke" | "llm" | "usage" | "admin" | "batch";
export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
/**
 * `apiKey`: tenant key through the REQUEST authorizer; `iam`: SigV4 (admins); `none`: public.
 * A key's scopes are checked where the operation is (`openModel` needs `invoke`, the usage
 * routes `usage:read`), not here: the authorizer's cached answer is per key, not per route.
 */
export type RouteAuth = "apiKey" | "iam" | "none";

export interface RouteDefinition {
  readonly method: HttpMethod;
  /** API Gateway resource path, `{param}` for path parameters. */
  readonly path: string;
  readonly handler: HandlerName;
  readonly auth: RouteAuth;
  readonly summary: string;
  /**
   * The response is streamed (API Gateway's STREAM transfer mode into a Lambda function written
   * with `awslambda.streamifyResponse`), not buffered. @default false
   */
  readonly streaming?: boolean;
  /**
   * Integration timeout in seconds: API Gateway answers 504 when the handler takes longer; at
   * most 29 buffered, 900 streamed. @default 29
   */
  readonly timeoutSeconds?: number;
}

export const ROUTES = [
  // KServe v2 inference protocol.
  { method: "GET", path: "/v2/health/ready", handler: "invoke", auth: "none", summary: "Server readiness" },
  { method: "GET", path: "/v2/models/{model}", handler: "invoke", auth: "apiKey", summary: "Model metadata" },
  { method: "GET", path: "/v2/models/{model}/ready", handler: "invoke", auth: "apiKey", summary: "Model readiness" },
  {
    method: "POST",
    path: "/v2/models/{model}/infer",
    handler: "invoke",
    auth: "apiKey",

    summary: "Inference through the default alias",
  },
  {
    method: "POST",
    path: "/v2/models/{model}/versions/{version}/infer",
    handler: "invoke",
    auth: "apiKey",

    summary: "Inference on a version number or alias",
  },
  // Raw passthrough for any container.
  {
    method: "POST",
    path: "/v1/models/{model}/invoke",
    handler: "invoke",
    auth: "apiKey",

    summary: "Raw invocation (?alias= or ?version=)",
  },
  // Large language models: the OpenAI API. Streamed when the body says `"stream": true`.
  {
    method: "POST",
    path: "/v1/chat/completions",
    handler: "llm",
    auth: "apiKey",
    summary: "OpenAI chat completions (Server-Sent Events with stream: true)",
    streaming: true,
    timeoutSeconds: 900,
  },
  {
    method: "POST",
    path: "/v1/completions",
    handler: "llm",
    auth: "apiKey",
    summary: "OpenAI text completions (Server-Sent Events with stream: true)",
    streaming: true,
    timeoutSeconds: 900,
  },
  // Embedding models: OpenAI's embeddings API. One JSON answer, on the LLM function's streaming integration.
  {
    method: "POST",
    path: "/v1/embeddings",
    handler: "llm",
    auth: "apiKey",
    summary: "OpenAI embeddings (float or base64 vectors; dimensions where the model supports it)",
    streaming: true,
  },
  // Tenant self-service.
  {
    method: "GET",
    path: "/v1/models",
    handler: "invoke",
    auth: "apiKey",
    summary: "Models granted to the calling tenant (OpenAI list shape)",
  },
  { method: "GET", path: "/v1/usage", handler: "usage", auth: "apiKey", summary: "Usage of the calling tenant" },
  {
    method: "GET",
    path: "/v1/usage/records",
    handler: "usage",
    auth: "apiKey",

    summary: "Usage records of the calling tenant (paginated export)",
  },
  { method: "GET", path: "/v1/invoices", handler: "usage", auth: "apiKey", summary: "Issued invoices of the calling tenant" },
  {
    method: "GET",
    path: "/v1/invoices/{invoiceId}",
    handler: "usage",
    auth: "apiKey",
    summary: "One issued invoice of the calling tenant (?format=json|csv|html)",
  },
  // Admin (SigV4).
  { method: "POST", path: "/v1/files", handler: "batch", auth: "apiKey", summary: "Upload a batch input file (multipart, purpose=batch)" },
  { method: "GET", path: "/v1/files/{fileId}", handler: "batch", auth: "apiKey", summary: "A file of the calling tenant" },
  { method: "DELETE", path: "/v1/files/{fileId}", handler: "batch", auth: "apiKey", summary: "Delete a file of the calling tenant" },
  { method: "GET", path: "/v1/files/{fileId}/content", handler: "batch", auth: "apiKey", summary: "A file's content (JSON lines)" },
  {
    method: "POST",
    path: "/v1/batch-uploads",
    handler: "batch",
    auth: "apiKey",
    summary: "A presigned URL to upload a large batch input file to (then complete it)",
  },
  {
    method: "POST",
    path: "/v1/batch-uploads/{fileId}/complete",
    handler: "batch",
    auth: "apiKey",
    summary: "Make an uploaded object a batch input file",
  },
  { method: "POST", path: "/v1/batches", handler: "batch", auth: "apiKey", summary: "Create a batch (OpenAI Batch API)" },
  {
    method: "GET",
    path: "/v1/batches",
    handler: "batch",
    auth: "apiKey",
    summary: "The calling tenant's batches, newest first (?after=&limit=)",
  },
  { method: "GET", path: "/v1/batches/{batchId}", handler: "batch", auth: "apiKey", summary: "A batch of the calling tenant" },
  { method: "POST", path: "/v1/batches/{batchId}/cancel", handler: "batch", auth: "apiKey", summary: "Cancel a batch" },
  { method: "POST", path: "/admin/tenants", handler: "admin", auth: "iam", summary: "Create a tenant" },
  { method: "GET", path: "/admin/tenants", handler: "admin", auth: "iam", summary: "List tenants (?limit=&cursor=)" },
  { method: "GET", path: "/admin/tenants/{tenantId}", handler: "admin", auth: "iam", summary: "Get a tenant" },
  { method: "PATCH", path: "/admin/tenants/{tenantId}", handler: "admin", auth: "iam", summary: "Update a tenant's name, grants or plan" },
  {
    method: "DELETE",
    path: "/admin/tenants/{tenantId}",
    handler: "admin",
    auth: "iam",
    summary: "Delete a tenant (keys revoked, usage kept)",
  },
  { method: "POST", path: "/admin/tenants/{tenantId}/disable", handler: "admin", auth: "iam", summary: "Disable a tenant" },
  { method: "POST", path: "/admin/tenants/{tenantId}/enable", handler: "admin", auth: "iam", summary: "Re-enable a tenant" },
  { method: "POST", path: "/admin/tenants/{tenantId}/keys", handler: "admin", auth: "iam", summary: "Create an API key" },
  { method: "GET", path: "/admin/tenants/{tenantId}/keys", handler: "admin", auth: "iam", summary: "List a tenant's API keys" },
  {
    method: "PATCH",
    path: "/admin/tenants/{tenantId}/keys/{keyId}",
    handler: "admin",
    auth: "iam",
    summary: "Set an API key's own limits",
  },
  { method: "DELETE", path: "/admin/tenants/{tenantId}/keys/{keyId}", handler: "admin", auth: "iam", summary: "Revoke an API key" },
  {
    method: "POST",
    path: "/admin/tenants/{tenantId}/keys/{keyId}/rotate",
    handler: "admin",
    auth: "iam",
    summary: "Rotate an API key (the old one stays valid for a grace period)",
  },
  { method: "GET", path: "/admin/tenants/{tenantId}/usage", handler: "admin", auth: "iam", summary: "Usage of any tenant" },
  {
    method: "GET",
    path: "/admin/usage",
    handler: "admin",
    auth: "iam",
    summary: "Every tenant's usage per period, by tenant, model or version, with cost and latency p50/p99",
  },
  {
    method: "GET",
    path: "/admin/tenants/{tenantId}/usage/records",
    handler: "admin",
    auth: "iam",
    summary: "Usage records of any tenant (paginated export)",
  },
  {
    method: "POST",
    path: "/admin/usage/reconcile",
    handler: "admin",
    auth: "iam",
    summary: "Compare the access log with the usage records in a range; repair the gaps",
  },
  {
    method: "GET",
    path: "/admin/tenants/{tenantId}/invoices/preview",
    handler: "admin",
    auth: "iam",
    summary: "A draft of a tenant's invoice of a month, open or closed (?month=&format=)",
  },
  {
    method: "POST",
    path: "/admin/invoices/issue",
    handler: "admin",
    auth: "iam",
    summary: "Issue a closed month's invoices (one tenant, or every tenant with charges); idempotent",
  },
  { method: "GET", path: "/admin/invoices", handler: "admin", auth: "iam", summary: "Issued invoices (?tenant=)" },
  {
    method: "GET",
    path: "/admin/invoices/{invoiceId}",
    handler: "admin",
    auth: "iam",
    summary: "One issued invoice (?format=json|csv|html)",
  },
  { method: "GET", path: "/admin/models", handler: "admin", auth: "iam", summary: "List models" },
  { method: "GET", path: "/admin/models/{model}", handler: "admin", auth: "iam", summary: "A model with its versions and aliases" },
  { method: "GET", path: "/admin/models/{model}/versions", handler: "admin", auth: "iam", summary: "A model's versions" },
  { method: "GET", path: "/admin/models/{model}/versions/{version}", handler: "admin", auth: "iam", summary: "One version" },
  {
    method: "POST",
    path: "/admin/models/{model}/uploads",
    handler: "admin",
    auth: "iam",
    summary: "Where to upload a new version's artifact (a staging key in the model store)",
  },
  {
    method: "POST",
    path: "/admin/models/{model}/versions",
    handler: "admin",
    auth: "iam",
    summary: "Register an uploaded artifact as the next version (sha256 checked)",
  },
  {
    method: "POST",
    path: "/admin/models/{model}/versions/{version}/retire",
    handler: "admin",
    auth: "iam",
    summary: "Retire a version no alias uses",
  },
  {
    method: "POST",
    path: "/admin/models/{model}/prices",
    handler: "admin",
    auth: "iam",
    summary: "Set a price of the model (list, one version's, or a tenant's contract) from a time on",
  },
  { method: "GET", path: "/admin/models/{model}/prices", handler: "admin", auth: "iam", summary: "A model's price history (?tenant=)" },
  { method: "GET", path: "/admin/prices", handler: "admin", auth: "iam", summary: "Prices in force and scheduled (?model=&tenant=)" },
  {
    method: "GET",
    path: "/admin/showback",
    handler: "admin",
    auth: "iam",
    summary: "Showback of the shared pools for a month (?month=YYYY-MM): cost split over tenants by model time, and idle",
  },
  {
    method: "GET",
    path: "/admin/pools",
    handler: "admin",
    auth: "iam",
    summary: "The shared pools: instance type and range, each component with what a copy reserves and its copy range",
  },
  { method: "GET", path: "/admin/models/{model}/aliases/{alias}", handler: "admin", auth: "iam", summary: "Get an alias" },
  {
    method: "PUT",
    path: "/admin/models/{model}/aliases/{alias}",
    handler: "admin",
    auth: "iam",
    summary: "Move an alias (conditional on its revision)",
  },
  { method: "GET", path: "/admin/models/{model}/aliases/{alias}/history", handler: "admin", auth: "iam", summary: "An alias's moves" },
  {
    method: "POST",
    path: "/admin/models/{model}/aliases/{alias}/rollback",
    handler: "admin",
    auth: "iam",
    summary: "Restore an alias's previous target",
  },
] as const satisfies readonly RouteDefinition[];

/**
 * The routes whose requests reach a model and owe a usage record (reconciliation looks for
 * them in the gateway's access log): the model functions' POST routes. Their GET routes
 * (metadata, readiness, the model list) answer from the registry.
 */
export const MODEL_ROUTES: readonly RouteDefinition[] = (ROUTES as readonly RouteDefinition[]).filter(
  (r) => r.method === "POST" && (r.handler === "invoke" || r.handler === "llm"),
);

/** `METHOD path` of a route: the key a handler's route map dispatches on (API Gateway's `resource`). */
export type RouteKey<R extends RouteDefinition = (typeof ROUTES)[number]> = R extends RouteDefinition
  ? `${R["method"]} ${R["path"]}`
  : never;

/** The route keys one function serves, from the table. */
export type RouteKeyOf<H extends HandlerName> = RouteKey<Extract<(typeof ROUTES)[number], { readonly handler: H }>>;

/**
 * A function's route map: exactly one entry per route the table gives it, so a route without a
 * handler, or a handler for no route, fails to compile.
 */
export type RouteMap<H extends HandlerName, Route> = { readonly [K in RouteKeyOf<H>]: Route };
