import { describe, expect, it } from "@jest/globals";
import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { ADMIN_POLICY_METHODS, WAF_RATE_LIMITED_BODY } from "../../infra/aws/constructs/api-protection";
import { GatewayApi, type GatewayApiProps } from "../../infra/aws/constructs/gateway-api";
import { parsePlatformConfig } from "../../infra/shared/config";

/** The GatewayApi alone, with stand-in functions: no bundling, so each case synthesizes fast. */
function gateway(over: Partial<GatewayApiProps> = {}): Template {
  const stack = new Stack(new App(), "T", { env: { account: "111122223333", region: "eu-west-1" } });
  const fn = (id: string) =>
    new lambda.Function(stack, id, { runtime: lambda.Runtime.NODEJS_22_X, handler: "i.h", code: lambda.Code.fromInline("0") });
  const handler = fn("Handler");
  new GatewayApi(stack, "Gateway", {
    platformName: "t",
    handlers: { invoke: handler, llm: handler, usage: handler, admin: handler, batch: handler },
    authorizer: fn("Authorizer"),
    gateway: parsePlatformConfig({ models: { m: { versions: [{ version: 1, artifact: "s3://b/m/" }], aliases: { prod: 1 } } } }).gateway,
    ...over,
  });
  return Template.fromStack(stack);
}

describe("GatewayApi protection", () => {
  it("limits /admin/* to the named principals: role ARNs by ArnNotLike, account roots by account", () => {
    const t = gateway({ adminPrincipals: ["arn:aws:iam::111122223333:role/platform-admin", "arn:aws:iam::444455556666:root"] });
    t.hasResourceProperties("AWS::ApiGateway::RestApi", {
      Policy: {
        Statement: [
          Match.objectLike({
            Effect: "Deny",
            Resource: ADMIN_POLICY_METHODS.flatMap((m) => [`execute-api:/*/${m}/admin`, `execute-api:/*/${m}/admin/*`]),
            Condition: {
              ArnNotLike: { "aws:PrincipalArn": ["arn:aws:iam::111122223333:role/platform-admin"] },
              StringNotEquals: { "aws:PrincipalAccount": ["444455556666"] },
            },
          }),
        ],
      },
    });
    // Every method but OPTIONS: a CORS preflight carries no credentials and must reach API Gateway's mock.
    expect(ADMIN_POLICY_METHODS).not.toContain("OPTIONS");
    expect([...ADMIN_POLICY_METHODS].sort()).toEqual(["DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"]);
    // Only a Deny: the API-key routes stay the authorizer's to decide.
    const policy = Object.values(t.findResources("AWS::ApiGateway::RestApi"))[0]?.Properties.Policy;
    expect(policy.Statement.map((s: { Effect: string }) => s.Effect)).toEqual(["Deny"]);
  });

  it("creates a rate-limiting web ACL by default, none when opted out, and prefers the operator's", () => {
    const own = gateway({ rateLimit: { ratePerIpPer5Minutes: 500 } });
    own.hasResourceProperties("AWS::WAFv2::WebACL", {
      Rules: [Match.objectLike({ Statement: { RateBasedStatement: { Limit: 500, AggregateKeyType: "IP" } } })],
      CustomResponseBodies: { "rate-limited": { ContentType: "APPLICATION_JSON", Content: WAF_RATE_LIMITED_BODY } },
    });
    own.resourceCountIs("AWS::WAFv2::WebACLAssociation", 1);
    const none = gateway({ rateLimit: false });
    none.resourceCountIs("AWS::WAFv2::WebACL", 0);
    none.resourceCountIs("AWS::WAFv2::WebACLAssociation", 0);
    const theirs = gateway({ webAclArn: "arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/x/y" });
    theirs.resourceCountIs("AWS::WAFv2::WebACL", 0);
    theirs.hasResourceProperties("AWS::WAFv2::WebACLAssociation", {
      WebACLArn: "arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/x/y",
    });
  });

  it("validates admin.principals and the WAF rate in the config, naming the field", () => {
    const base = { models: { m: { versions: [{ version: 1, artifact: "s3://b/m/" }], aliases: { prod: 1 } } } };
    expect(() => parsePlatformConfig({ ...base, admin: { principals: ["admin"] } })).toThrow(/admin\.principals\.0/);
    expect(() => parsePlatformConfig({ ...base, waf: { ratePerIpPer5Minutes: 1 } })).toThrow(/waf\.ratePerIpPer5Minutes/);
    expect(parsePlatformConfig(base).waf).toEqual({ enabled: true, ratePerIpPer5Minutes: 20_000 });
  });
});
