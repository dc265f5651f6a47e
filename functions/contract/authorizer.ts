/**
 * Identity sources of the REQUEST authorizer, read by both hosts. API Gateway uses them as the
 * result-cache key and, while caching is on, answers 401 without calling the authorizer when
 * any of them is missing; listing both Authorization and x-api-key would then refuse clients
 * that send only one. So: with caching on, the key travels in `Authorization: Bearer …`;
 * with caching off (TTL 0) no source is required and `x-api-key` works too.
 */
export function authorizerIdentityHeaders(cacheTtlSeconds: number): readonly string[] {
  return cacheTtlSeconds > 0 ? ["Authorization"] : [];
}
