import { ack, acknowledgeBucketDeployment, acknowledgeWildcards } from "./nag-acknowledge";
import type { PlatformStack } from "./platform-stack";

/** The console site: what cdk-nag flags there, and why each stands. */
export function acknowledgeConsole(stack: PlatformStack): void {
  const { distribution, userPool, adminRole, deployment } = stack.console;
  // The console's files: aws-cdk-lib's BucketDeployment singleton function, its own (memoryLimit 256).
  const upload = deployment?.handlerRole.node.scope;
  if (upload) {
    acknowledgeBucketDeployment(upload, "the console's files", [
      {
        finding: /^Action::s3:(GetObject|GetBucket|List|DeleteObject|Abort)\*$/,
        reason:
          "aws-cdk-lib BucketDeployment grants (grantRead on the asset, grantReadWrite on the site bucket): the action groups an S3 sync with pruning needs; scoped to those two buckets.",
      },
      {
        finding: /^Resource::<ConsoleBucket[A-F0-9]+\.Arn>\/\*$/,
        reason:
          "Writes (and prunes) the console's files in the console's own site bucket; the bundle's file names are content-hashed per build.",
      },
      {
        finding: /^Resource::\*$/,
        reason:
          "cloudfront:CreateInvalidation and cloudfront:GetInvalidation as aws-cdk-lib's BucketDeployment grants them: the invalidation of the console's distribution after its files change (a distribution ARN would do, but CDK does not scope it).",
      },
    ]);
  }
  ack(
    distribution,
    "AwsSolutions-CFR1",
    "The console is the operators' own; who may use it is decided by Cognito sign-in and the admins group, not by the viewer's country.",
  );
  ack(
    distribution,
    "AwsSolutions-CFR2",
    "The distribution serves static files only; every call that does something goes to the API, which has its own web ACL.",
  );
  ack(
    distribution,
    "AwsSolutions-CFR3",
    "The console is static files; the actions taken from it are admin API calls, logged by the API stage's access log. CloudFront standard logging would need an ACL-enabled bucket.",
  );
  ack(
    distribution,
    "AwsSolutions-CFR4",
    "Without a custom domain CloudFront serves its default certificate, whose policy cannot be raised; viewers are HTTPS-only. With a domain and certificate, set minimumProtocolVersion TLSv1.2_2021 (docs/console.md).",
  );
  ack(
    userPool,
    "AwsSolutions-COG8",
    "The pool has no self sign-up, MFA (TOTP) required and a strong password policy; the Plus feature plan is billed per active user and left to the operator.",
  );
  acknowledgeWildcards(adminRole, [
    {
      finding: /\/\*\/admin\/\*>?\]?$/,
      reason:
        "The console's admin role may call every admin route with any method (`/admin/*` of the platform's own API and stage), and nothing else: the admin pages are the admin API.",
    },
  ]);
}
