import * as iam from "aws-cdk-lib/aws-iam";
import * as wafv2 from "aws-cdk-lib/aws-wafv2";
import type { Construct } from "constructs";

/** The methods the admin resource policy covers: all API Gateway takes but OPTIONS. */
export const ADMIN_POLICY_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] as const;

/**
 * The API's resource policy: `/admin/*` is denied to every principal but the named ones. Only
 * a Deny: with IAM authorization a same-account caller still needs its own IAM allow, and
 * the API-key routes (Lambda authorizer) are decided by the authorizer as before.
 * An account root ARN (`arn:aws:iam::<account>:root`) names every principal of that account;
 * without `principals`, that is `ownAccount` (the stack's, possibly a token).
 */
export function adminResourcePolicy(principals: readonly string[] | undefined, ownAccount: string): iam.PolicyDocument {
  const named = principals ?? [];
  const accounts = principals
    ? named.flatMap((arn) => {
        const root = /^arn:[^:]+:iam::(\d{12}):root$/.exec(arn);
        return root?.[1] ? [root[1]] : [];
      })
    : [ownAccount];
  const arns = named.filter((arn) => !/:root$/.test(arn));
  return new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({
        sid: "AdminOnlyForNamedPrincipals",
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ["execute-api:Invoke"],
        // Every method but OPTIONS: a CORS preflight carries no credentials, so a Deny on it would
        // refuse the console's preflight before API Gateway's mock answers it (GatewayApi corsOrigin).
        resources: ADMIN_POLICY_METHODS.flatMap((m) => [`execute-api:/*/${m}/admin`, `execute-api:/*/${m}/admin/*`]),
        // Denied unless the caller matches a named ARN or belongs to a named account (both ANDed as "not").
        conditions: {
          ...(arns.length > 0 ? { ArnNotLike: { "aws:PrincipalArn": arns } } : {}),
          ...(accounts.length > 0 ? { StringNotEquals: { "aws:PrincipalAccount": accounts } } : {}),
        },
      }),
    ],
  });
}

/** Body WAF answers with when it blocks: the platform's JSON error shape (WAF cannot fill in a request id). */
export const WAF_RATE_LIMITED_BODY = JSON.stringify({
  error: { type: "rate_limited", message: "too many requests from this address; retry later", request_id: "" },
});

/**
 * A REGIONAL web ACL for the stage: everything allowed but a client IP past `ratePerIpPer5Minutes`,
 * which gets a JSON 429 with Retry-After. It spares the authorizer (and DynamoDB) floods of
 * random keys the stage-wide throttle would only slow for everyone.
 */
export function rateLimitWebAcl(scope: Construct, id: string, name: string, ratePerIpPer5Minutes: number): wafv2.CfnWebACL {
  const visibility = (metricName: string) => ({ cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName });
  return new wafv2.CfnWebACL(scope, id, {
    name: `${name}-api`,
    scope: "REGIONAL",
    defaultAction: { allow: {} },
    visibilityConfig: visibility(`${name}-api`),
    customResponseBodies: { "rate-limited": { contentType: "APPLICATION_JSON", content: WAF_RATE_LIMITED_BODY } },
    rules: [
      {
        name: "rate-per-ip",
        priority: 0,
        statement: { rateBasedStatement: { limit: ratePerIpPer5Minutes, aggregateKeyType: "IP" } },
        action: {
          block: {
            customResponse: {
              responseCode: 429,
              customResponseBodyKey: "rate-limited",
              responseHeaders: [{ name: "retry-after", value: "60" }],
            },
          },
        },
        visibilityConfig: visibility(`${name}-rate-per-ip`),
      },
    ],
  });
}
