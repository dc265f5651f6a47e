import { createHash } from "node:crypto";
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { authorizerIdentityHeaders } from "../../../functions/contract/authorizer";
import { authorizerEvent, type IncomingRequest, methodArn } from "./events";

export type AuthorizerHandler = (event: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;

export type AuthorizerOutcome =
  | { readonly kind: "allow"; readonly context: Record<string, unknown> }
  | { readonly kind: "unauthorized" }
  | { readonly kind: "denied" }
  | { readonly kind: "error" };

/**
 * Runs the REQUEST authorizer as API Gateway does: with caching on, every identity source
 * (infra/shared/authorizer.ts) must be present or the answer is 401 without a call, and
 * policies are cached per identity value for the TTL (an LRU of `capacity` entries); with
 * caching off the authorizer runs on every request. Policies are evaluated against each request's method ARN; a thrown
 * "Unauthorized" is a 401, an explicit or missing Allow a 403, anything else an error.
 */
export class AuthorizerRunner {
  /** Map order is recency: a hit moves its entry to the end, eviction takes the first. */
  private readonly cache = new Map<string, { result: APIGatewayAuthorizerResult; expires: number }>();
  private readonly identityHeaders: readonly string[];

  constructor(
    private readonly handler: AuthorizerHandler,
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
    private readonly capacity = 10_000,
  ) {
    this.identityHeaders = authorizerIdentityHeaders(ttlSeconds);
  }

  async authorize(req: IncomingRequest): Promise<AuthorizerOutcome> {
    const values = this.identityHeaders.map((h) => req.headers[h.toLowerCase()]);
    if (values.some((v) => typeof v !== "string" || !v.trim())) return { kind: "unauthorized" };
    const identity = cacheKey(values as string[]);
    let result = this.ttlSeconds > 0 ? this.cached(identity) : undefined;
    if (!result) {
      try {
        result = await this.handler(authorizerEvent(req));
      } catch (err) {
        return (err as Error)?.message === "Unauthorized" ? { kind: "unauthorized" } : { kind: "error" };
      }
      if (this.ttlSeconds > 0) {
        this.cache.delete(identity);
        if (this.cache.size >= this.capacity) {
          const leastRecent = this.cache.keys().next().value;
          if (leastRecent !== undefined) this.cache.delete(leastRecent);
        }
        this.cache.set(identity, { result, expires: this.now() + this.ttlSeconds * 1000 });
      }
    }
    if (!allows(result, methodArn(req))) return { kind: "denied" };
    return { kind: "allow", context: { ...(result.context ?? {}), principalId: result.principalId } };
  }

  private cached(identity: string): APIGatewayAuthorizerResult | undefined {
    const hit = this.cache.get(identity);
    if (!hit) return undefined;
    this.cache.delete(identity);
    if (hit.expires <= this.now()) return undefined;
    this.cache.set(identity, hit);
    return hit.result;
  }
}

/**
 * The cache key of an identity: the whole credential, normalised only where the authorizer
 * itself does not look (the scheme's case, the whitespace around the token: `Bearer\s+(\S+)`),
 * then hashed so no secret is kept as a key. Never the key id alone: a wrong secret with a valid
 * key id would then hit a cached Allow. Keyed by the full token, a wrong secret is another entry
 * and goes to the authorizer, which refuses it.
 */
function cacheKey(values: readonly string[]): string {
  const normalized = values.map((v) => {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(v.trim());
    return bearer ? `bearer ${bearer[1]}` : v.trim();
  });
  return createHash("sha256").update(normalized.join("\n")).digest("hex");
}

/** IAM-style evaluation: an explicit Deny wins, else some Allow must match. */
export function allows(result: APIGatewayAuthorizerResult, arn: string): boolean {
  let allowed = false;
  for (const s of result.policyDocument?.Statement ?? []) {
    const st = s as { Effect?: string; Action?: string | string[]; Resource?: string | string[] };
    const actions = ([] as string[]).concat(st.Action ?? []);
    if (!actions.some((a) => a === "execute-api:Invoke" || a === "execute-api:*" || a === "*")) continue;
    const resources = ([] as string[]).concat(st.Resource ?? []);
    if (!resources.some((r) => globMatch(r, arn))) continue;
    if (st.Effect === "Deny") return false;
    if (st.Effect === "Allow") allowed = true;
  }
  return allowed;
}

/** Compiled resource patterns: a cached policy is evaluated on every request, so each is compiled once. */
const globs = new Map<string, RegExp>();

function globMatch(pattern: string, value: string): boolean {
  let re = globs.get(pattern);
  if (!re) {
    if (globs.size > 10_000) globs.clear();
    re = new RegExp(
      `^${pattern
        .split("*")
        .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join(".*")}$`,
    );
    globs.set(pattern, re);
  }
  return re.test(value);
}
