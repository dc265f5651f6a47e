/**
 * The gateway's access log: one JSON line per request, written by the gateway whether or not
 * the handler survived (API Gateway's stage access log in the cloud, the local emulator's
 * `logs/access.jsonl`), with the same field names in both. It is reconciliation's independent
 * record of requests (functions/core/access.ts).
 */

/**
 * The fields every access log line carries for reconciliation, with the API Gateway `$context`
 * variable each one is. The cloud's format (infra/aws/constructs/gateway-api.ts) includes these
 * and more; the local gateway writes the same names.
 */
export const ACCESS_LOG_CONTEXT = {
  requestId: "$context.requestId",
  /** Epoch milliseconds: the usage record's `time` is the same instant (the proxy event's requestTimeEpoch). */
  requestTimeEpoch: "$context.requestTimeEpoch",
  httpMethod: "$context.httpMethod",
  /** The route template, `/v2/models/{model}/infer`. */
  resourcePath: "$context.resourcePath",
  /** The path as requested (in the cloud with the stage in front, on the default endpoint). */
  path: "$context.path",
  status: "$context.status",
  responseLength: "$context.responseLength",
  tenantId: "$context.authorizer.tenantId",
  keyId: "$context.authorizer.keyId",
} as const;

export type AccessLogField = keyof typeof ACCESS_LOG_CONTEXT;
export const ACCESS_LOG_FIELD_NAMES = Object.keys(ACCESS_LOG_CONTEXT) as AccessLogField[];

/** One request as the access log has it. */
export interface AccessEntry {
  readonly requestId: string;
  /** When the gateway received the request (ISO-8601, from `requestTimeEpoch`). */
  readonly time: string;
  readonly httpMethod: string;
  readonly resourcePath: string;
  readonly path: string;
  /** The status the gateway answered with: the handler's, or its own 502/504 when the handler died or timed out. */
  readonly status: number;
  readonly responseLength?: number;
  /** From the authorizer context; absent where no authorizer ran (or it refused). */
  readonly tenantId?: string;
  readonly keyId?: string;
}

/**
 * An access log line's fields as an entry; undefined for a line that is not one (another
 * writer's line, a truncated write). API Gateway writes `-` for a variable without a value, and
 * Logs Insights returns every value as a string: both are read here.
 */
export function accessEntryOf(fields: Readonly<Record<string, unknown>>): AccessEntry | undefined {
  const text = (k: AccessLogField): string | undefined => {
    const v = fields[k];
    if (typeof v === "number" && Number.isFinite(v)) return String(v);
    return typeof v === "string" && v !== "" && v !== "-" ? v : undefined;
  };
  const int = (k: AccessLogField): number | undefined => {
    const v = text(k);
    return v !== undefined && /^\d{1,15}$/.test(v) ? Number(v) : undefined;
  };
  const requestId = text("requestId");
  const epoch = int("requestTimeEpoch");
  const status = int("status");
  const httpMethod = text("httpMethod");
  const resourcePath = text("resourcePath");
  if (!requestId || epoch === undefined || status === undefined || !httpMethod || !resourcePath) return undefined;
  const responseLength = int("responseLength");
  const tenantId = text("tenantId");
  const keyId = text("keyId");
  return {
    requestId,
    time: new Date(epoch).toISOString(),
    httpMethod,
    resourcePath,
    path: text("path") ?? resourcePath,
    status,
    ...(responseLength !== undefined ? { responseLength } : {}),
    ...(tenantId ? { tenantId } : {}),
    ...(keyId ? { keyId } : {}),
  };
}

/**
 * The path parameters of `path` under the route template `resourcePath`, matched from the end
 * (API Gateway's `$context.path` has the stage in front on the default endpoint, none behind a
 * custom domain). Undefined when the path does not fit the template.
 */
export function pathParamsOf(resourcePath: string, path: string): Record<string, string> | undefined {
  const template = resourcePath.split("/").filter(Boolean);
  const actual = path.split("?")[0]?.split("/").filter(Boolean) ?? [];
  if (actual.length < template.length) return undefined;
  const tail = actual.slice(actual.length - template.length);
  const params: Record<string, string> = {};
  for (const [i, part] of template.entries()) {
    const got = tail[i] ?? "";
    const name = /^\{(\w+)\}$/.exec(part)?.[1];
    if (name) {
      try {
        params[name] = decodeURIComponent(got);
      } catch {
        return undefined;
      }
    } else if (part !== got) return undefined;
  }
  return params;
}
