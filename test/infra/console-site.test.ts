import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as apigw from "aws-cdk-lib/aws-apigateway";
import * as s3 from "aws-cdk-lib/aws-s3";
import { CORS_ALLOW_HEADERS } from "../../functions/contract/cors";
import { ROUTES } from "../../functions/contract/routes";
import { FUNCTION_ENV } from "../../functions/contract/settings";
import { ConsoleSite, consoleCsp } from "../../infra/aws/constructs/console-site";
import { artifactDir, synthPlatform } from "./fixtures";
import { ONNX, synthTwoModels, TARBALL, TWO_MODELS } from "./two-models";

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

// One synthesis (cdk-nag on; bundling skipped: only the template is read) shared by every assertion below.
const { stack, template, violations, permissionsOf, assemblyDir } = synthTwoModels({ bundling: false });
const assemblyDirOf = () => assemblyDir;

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
    const apiId = stack.getLogicalId(stack.gateway.api.node.defaultChild as never);
    // The page may call its own origin, this API and the region's Cognito endpoints: no other host.
    const csp = {
      "Fn::Join": [
        "",
        [
          `${consoleCsp().split("connect-src")[0]}connect-src 'self' https://`,
          { Ref: apiId },
          ".execute-api.",
          { Ref: "AWS::Region" },
          ".",
          { Ref: "AWS::URLSuffix" },
          " https://cognito-idp.",
          { Ref: "AWS::Region" },
          ".",
          { Ref: "AWS::URLSuffix" },
          " https://cognito-identity.",
          { Ref: "AWS::Region" },
          ".",
          { Ref: "AWS::URLSuffix" },
          "; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ],
      ],
    };
    expect(consoleCsp(["https://x"])).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    template.hasResourceProperties("AWS::CloudFront::ResponseHeadersPolicy", {
      ResponseHeadersPolicyConfig: Match.objectLike({
        SecurityHeadersConfig: Match.objectLike({
          ContentSecurityPolicy: { ContentSecurityPolicy: csp, Override: true },
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
    // The browser's flow (console/src/cognito.ts) and the refresh that keeps a tab signed in; no SRP, no admin flows.
    template.hasResourceProperties("AWS::Cognito::UserPoolClient", {
      GenerateSecret: false,
      ExplicitAuthFlows: ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    });
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

  it("puts the bundle and a config.json naming this API and these pools into the site bucket, then invalidates CloudFront", () => {
    const resources = template.toJSON().Resources as Resources;
    const bucketId = stack.getLogicalId(stack.console.bucket.node.defaultChild as never);
    const found = Object.values(resources).filter(
      (r) =>
        r.Type === "Custom::CDKBucketDeployment" &&
        JSON.stringify(r.Properties.DestinationBucketName) === JSON.stringify({ Ref: bucketId }),
    );
    expect(found).toHaveLength(1);
    const props = found[0]?.Properties as {
      SourceObjectKeys: string[];
      SourceMarkers: Array<Record<string, unknown>>;
      DistributionId: unknown;
      DistributionPaths: string[];
      Prune: boolean;
      SystemMetadata: Record<string, string>;
    };
    expect(props.DistributionId).toEqual({ Ref: stack.getLogicalId(stack.console.distribution.node.defaultChild as never) });
    expect(props.DistributionPaths).toEqual(["/*"]);
    expect(props.Prune).toBe(true);
    expect(props.SystemMetadata["cache-control"]).toBe("no-cache");
    expect(props.SourceObjectKeys).toHaveLength(2);
    // config.json: its staged file with the deploy-time markers put back as the references they stand for.
    const staged = join(assemblyDirOf(), `asset.${props.SourceObjectKeys[1]?.replace(/\.zip$/, "")}`, "config.json");
    let text = readFileSync(staged, "utf8");
    for (const [marker, r] of Object.entries(props.SourceMarkers[1] ?? {}))
      text = text.split(marker).join(`<${(r as { Ref: string }).Ref}>`);
    const config = JSON.parse(text) as Record<string, string>;
    const ref = (c: unknown) => `<${stack.getLogicalId(c as never)}>`;
    expect(config).toEqual({
      signIn: "cognito",
      region: "<AWS::Region>",
      apiUrl: expect.stringContaining(ref(stack.gateway.api.node.defaultChild)),
      userPoolId: ref(stack.console.userPool.node.defaultChild),
      userPoolClientId: ref(stack.console.userPoolClient.node.defaultChild),
      identityPoolId: ref(stack.console.identityPool.node.findChild("Resource")),
    });
  });

  it("gives the console's files a deployment function of their own: this bucket and CloudFront invalidations, not the model store", () => {
    const role = stack.console.deployment?.handlerRole;
    expect(role).toBeDefined();
    const permissions = permissionsOf(stack.getLogicalId(role?.node.defaultChild as never));
    const text = JSON.stringify(permissions);
    expect(text).toContain(stack.getLogicalId(stack.console.bucket.node.defaultChild as never));
    expect(text).not.toContain("ModelStore");
    expect(permissions.filter((p) => p.action.startsWith("cloudfront:")).map((p) => p.action)).toEqual([
      "cloudfront:CreateInvalidation",
      "cloudfront:GetInvalidation",
    ]);
  });

  it("passes cdk-nag with each console finding acknowledged on its resource", () => {
    expect(violations).toEqual([]);
  });
});

describe("the API admits the console: CORS for its origin exactly, and its admin role", () => {
  const resources = () => template.toJSON().Resources as Resources;
  const distributionId = () => stack.getLogicalId(stack.console.distribution.node.defaultChild as never);
  const quotedOrigin = () => ({ "Fn::Join": ["", ["'https://", { "Fn::GetAtt": [distributionId(), "DomainName"] }, "'"]] });

  it("answers a preflight without auth on each resource of the admin and tenant usage routes, admitting only the console's origin", () => {
    const consolePaths = new Set(ROUTES.filter((r) => r.handler === "admin" || r.handler === "usage").map((r) => r.path));
    const preflights = Object.values(resources()).filter(
      (r) => r.Type === "AWS::ApiGateway::Method" && r.Properties.HttpMethod === "OPTIONS",
    );
    expect(preflights).toHaveLength(consolePaths.size);
    expect(stack.gateway.preflights).toHaveLength(consolePaths.size);
    for (const p of preflights) {
      const props = p.Properties as {
        AuthorizationType: string;
        Integration: { Type: string; IntegrationResponses: Array<{ ResponseParameters: Record<string, unknown> }> };
      };
      expect(props.AuthorizationType).toBe("NONE");
      expect(props.Integration.Type).toBe("MOCK");
      const headers = props.Integration.IntegrationResponses[0]?.ResponseParameters ?? {};
      expect(headers["method.response.header.Access-Control-Allow-Origin"]).toEqual(quotedOrigin());
      const allowed = String(headers["method.response.header.Access-Control-Allow-Headers"]).replace(/'/g, "").split(",");
      expect(allowed.sort()).toEqual([...CORS_ALLOW_HEADERS].sort());
    }
    // The model routes get none: no browser page calls them.
    const resourceIds = new Set(preflights.map((p) => JSON.stringify(p.Properties.ResourceId)));
    const chat = stack.getLogicalId(stack.gateway.api.root.resourceForPath("/v1/chat/completions").node.defaultChild as never);
    expect(resourceIds.has(JSON.stringify({ Ref: chat }))).toBe(false);
    const admin = stack.getLogicalId(stack.gateway.api.root.resourceForPath("/admin/tenants").node.defaultChild as never);
    const adminPreflight = preflights.find((p) => JSON.stringify(p.Properties.ResourceId) === JSON.stringify({ Ref: admin }));
    expect(JSON.stringify(adminPreflight)).toContain(`"method.response.header.Access-Control-Allow-Methods":"'POST,GET'"`);
  });

  it("names the origin on the gateway's own errors, and tells the admin and usage functions (and only those) to admit it", () => {
    const responses = Object.values(resources()).filter((r) => r.Type === "AWS::ApiGateway::GatewayResponse");
    expect(responses.length).toBeGreaterThan(0);
    for (const r of responses) {
      expect((r.Properties.ResponseParameters as Record<string, unknown>)["gatewayresponse.header.Access-Control-Allow-Origin"]).toEqual(
        quotedOrigin(),
      );
    }
    const origin = { "Fn::Join": ["", ["https://", { "Fn::GetAtt": [distributionId(), "DomainName"] }]] };
    const envOf = (fn: { node: { defaultChild?: unknown } }) => {
      const env = resources()[stack.getLogicalId(fn.node.defaultChild as never)]?.Properties.Environment as
        | { Variables: Record<string, unknown> }
        | undefined;
      return env?.Variables ?? {};
    };
    expect(envOf(stack.functions.admin.function)[FUNCTION_ENV.consoleOrigin]).toEqual(origin);
    expect(envOf(stack.functions.usage.function)[FUNCTION_ENV.consoleOrigin]).toEqual(origin);
    expect(envOf(stack.functions.invoke.function)[FUNCTION_ENV.consoleOrigin]).toBeUndefined();
  });

  it("admits the console's admin role through the API's resource policy: by account by default, by ARN when admins are named", () => {
    // By default only the stack's own account passes the Deny, and the role is the stack's.
    const policy = (t: Template) =>
      JSON.stringify(Object.values(t.findResources("AWS::ApiGateway::RestApi"))[0]?.Properties.Policy.Statement[0].Condition);
    expect(policy(template)).toBe(JSON.stringify({ StringNotEquals: { "aws:PrincipalAccount": [{ Ref: "AWS::AccountId" }] } }));
    const named = synthPlatform({
      config: { ...TWO_MODELS, admin: { principals: ["arn:aws:iam::111122223333:role/platform-admin"] } },
      baseDir: artifactDir({ "iris/1/model.onnx": ONNX, "iris/2/model.tar.gz": TARBALL }),
      bundling: false,
    });
    const role = named.stack.getLogicalId(named.stack.console.adminRole.node.defaultChild as never);
    expect(JSON.parse(policy(named.template))).toEqual({
      ArnNotLike: { "aws:PrincipalArn": ["arn:aws:iam::111122223333:role/platform-admin", { "Fn::GetAtt": [role, "Arn"] }] },
    });
    expect(named.violations).toEqual([]);
  });
});

describe("ConsoleSite.deploy with bundling on (as `cdk synth`)", () => {
  it("bundles the console with esbuild at synth time: index.html naming the hashed script and stylesheet", () => {
    const app = new App();
    const stack = new Stack(app, "Site", { env: { account: "111122223333", region: "eu-west-1" } });
    const site = new ConsoleSite(stack, "Console", { platformName: "t", accessLogsBucket: new s3.Bucket(stack, "Logs") });
    const api = new apigw.RestApi(stack, "Api");
    api.root.addMethod("GET");
    site.deploy(api);
    expect(() => site.deploy(api)).toThrow(/already/);
    const assembly = app.synth();
    const keys = Object.values(Template.fromStack(stack).findResources("Custom::CDKBucketDeployment")).flatMap(
      (r) => (r as { Properties: { SourceObjectKeys: string[] } }).Properties.SourceObjectKeys,
    );
    const bundles = keys
      .map((k) => join(assembly.directory, `asset.${k.replace(/\.zip$/, "")}`))
      .filter((dir) => readdirSync(dir).includes("index.html"));
    expect(bundles).toHaveLength(1);
    const files = readdirSync(bundles[0] as string);
    const script = files.find((f) => /^main-[A-Z0-9]+\.js$/.test(f));
    const style = files.find((f) => /^main-[A-Z0-9]+\.css$/.test(f));
    expect(script && style).toBeTruthy();
    const html = readFileSync(join(bundles[0] as string, "index.html"), "utf8");
    expect(html).toContain(`src="${script}"`);
    expect(html).toContain(`href="${style}"`);
  });
});
