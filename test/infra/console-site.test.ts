import { describe, expect, it } from "@jest/globals";
import { Match } from "aws-cdk-lib/assertions";
import { CONSOLE_CSP } from "../../infra/aws/constructs/console-site";
import { synthTwoModels } from "./two-models";

// One synthesis (cdk-nag on; bundling skipped: only the template is read) shared by every assertion below.
const { stack, template, violations, permissionsOf } = synthTwoModels({ bundling: false });

describe("ConsoleSite (S3 + CloudFront + Cognito)", () => {
  it("keeps the files in a private, encrypted, TLS-only bucket that only CloudFront reads, through origin access control", () => {
    const bucketId = stack.getLogicalId(stack.console.bucket.node.defaultChild as never);
    template.hasResourceProperties("AWS::S3::Bucket", {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: Match.objectLike({ ServerSideEncryptionConfiguration: [Match.objectLike({})] }),
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: "console/" }),
    });
    template.resourceCountIs("AWS::CloudFront::OriginAccessControl", 1);
    const policy = JSON.stringify(template.findResources("AWS::S3::BucketPolicy"));
    expect(policy).toContain(bucketId);
    expect(policy).toContain("cloudfront.amazonaws.com");
    expect(policy).toContain('"aws:SecureTransport":"false"');
  });

  it("serves HTTPS only with the security headers and the strict Content-Security-Policy", () => {
    template.hasResourceProperties("AWS::CloudFront::Distribution", {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: "index.html",
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: "https-only" }),
      }),
    });
    expect(CONSOLE_CSP).not.toMatch(/unsafe-inline|unsafe-eval/);
    template.hasResourceProperties("AWS::CloudFront::ResponseHeadersPolicy", {
      ResponseHeadersPolicyConfig: Match.objectLike({
        SecurityHeadersConfig: Match.objectLike({
          ContentSecurityPolicy: { ContentSecurityPolicy: CONSOLE_CSP, Override: true },
          FrameOptions: { FrameOption: "DENY", Override: true },
          ContentTypeOptions: { Override: true },
          StrictTransportSecurity: Match.objectLike({ AccessControlMaxAgeSec: 31_536_000 }),
        }),
      }),
    });
  });

  it("signs in through a user pool without self sign-up, MFA required, and an identity pool without guests", () => {
    template.hasResourceProperties("AWS::Cognito::UserPool", {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: "ON",
    });
    template.hasResourceProperties("AWS::Cognito::UserPoolClient", { GenerateSecret: false });
    template.hasResourceProperties("AWS::Cognito::IdentityPool", { AllowUnauthenticatedIdentities: false });
    template.hasResourceProperties("AWS::Cognito::UserPoolGroup", { GroupName: "admins" });
  });

  it("lets the admins' role call exactly the admin API, and nothing else", () => {
    const permissions = permissionsOf(stack.getLogicalId(stack.console.adminRole.node.defaultChild as never));
    expect(permissions.map((p) => p.action)).toEqual(["execute-api:Invoke"]);
    expect(JSON.stringify(permissions[0]?.resource)).toMatch(/\/\*\/admin\/\*"/);
    // Assumable only through the identity pool, by authenticated identities.
    const role = template.findResources("AWS::IAM::Role", { Properties: { Description: Match.stringLikeRegexp("console") } });
    const trust = JSON.stringify(Object.values(role)[0]);
    expect(trust).toContain("cognito-identity.amazonaws.com:aud");
    expect(trust).toContain('"cognito-identity.amazonaws.com:amr":"authenticated"');
  });

  it("passes cdk-nag with each console finding acknowledged on its resource", () => {
    expect(violations).toEqual([]);
  });
});
