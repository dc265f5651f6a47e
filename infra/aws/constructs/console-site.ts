import { AssetHashType, Aws, DockerImage, Duration, Lazy, RemovalPolicy, Stack } from "aws-cdk-lib";
import type * as apigw from "aws-cdk-lib/aws-apigateway";
import * as cloudfront from "aws-cdk-lib/aws-cloudfront";
import * as origins from "aws-cdk-lib/aws-cloudfront-origins";
import * as cognito from "aws-cdk-lib/aws-cognito";
import * as identitypool from "aws-cdk-lib/aws-cognito-identitypool";
import * as iam from "aws-cdk-lib/aws-iam";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as s3deploy from "aws-cdk-lib/aws-s3-deployment";
import { Construct } from "constructs";
import { bundleConsole, CONSOLE_SRC } from "../../shared/console-bundle";
import { CONSOLE_CSP, consoleCsp } from "../../shared/console-csp";

export interface ConsoleSiteProps {
  /** Resource names start with it. */
  readonly platformName: string;
  /** Where the site bucket's server access logs go (the stack's access-log bucket). */
  readonly accessLogsBucket: s3.IBucket;
}

/**
 * The console in the cloud: its static files in a private bucket behind CloudFront (origin
 * access control, HTTPS only, security headers with a strict Content-Security-Policy), and
 * sign-in through a Cognito user pool whose `admins` group maps, through an identity pool, to a
 * role that may call exactly the admin API (`grantAdminApi`): the browser signs its admin calls
 * with SigV4, as the CLI does. Users outside the group get a role that may do nothing.
 */
export class ConsoleSite extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  readonly userPool: cognito.UserPool;
  readonly userPoolClient: cognito.UserPoolClient;
  readonly identityPool: identitypool.IdentityPool;
  /** The role of signed-in members of `admins`: the admin API, nothing else. */
  readonly adminRole: iam.Role;
  private filesDeployment?: s3deploy.BucketDeployment;
  /** What the page may call besides its own origin (the CSP's connect-src), set by `deploy`. */
  private readonly connectSources: string[] = [];

  constructor(scope: Construct, id: string, props: ConsoleSiteProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, "Bucket", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: "console/",
      // Rebuilt at every deploy, so unversioned; kept on destroy like the stack's other buckets.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const headers = new cloudfront.ResponseHeadersPolicy(this, "Headers", {
      comment: `${props.platformName} console: strict CSP, HSTS, no framing`,
      securityHeadersBehavior: {
        // Lazy: the API's origin is known only once `deploy` names the API.
        contentSecurityPolicy: { contentSecurityPolicy: Lazy.string({ produce: () => consoleCsp(this.connectSources) }), override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, preload: true, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
    });
    this.distribution = new cloudfront.Distribution(this, "Distribution", {
      comment: `${props.platformName} console`,
      defaultRootObject: "index.html",
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        responseHeadersPolicy: headers,
      },
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
    });

    this.userPool = new cognito.UserPool(this, "Users", {
      userPoolName: `${props.platformName}-console`,
      // Operators are invited by an administrator, never signed up by strangers.
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { sms: false, otp: true },
      passwordPolicy: { minLength: 14, requireDigits: true, requireLowercase: true, requireUppercase: true, requireSymbols: true },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.userPoolClient = this.userPool.addClient("Browser", {
      // A browser keeps no secret. USER_PASSWORD_AUTH: the page sends the password over TLS to
      // Cognito itself (never to our API); SRP would need a protocol library the console does not
      // ship. CDK adds ALLOW_REFRESH_TOKEN_AUTH, which keeps a signed-in tab's id token fresh.
      generateSecret: false,
      authFlows: { userPassword: true },
      preventUserExistenceErrors: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
    });
    this.identityPool = new identitypool.IdentityPool(this, "Identities", {
      identityPoolName: `${props.platformName}-console`,
      allowUnauthenticatedIdentities: false,
      authenticationProviders: {
        userPools: [new identitypool.UserPoolAuthenticationProvider({ userPool: this.userPool, userPoolClient: this.userPoolClient })],
      },
      // The role comes from the user's group in the token: `admins` → adminRole; anyone else
      // gets the pool's default authenticated role, which this construct grants nothing.
      roleMappings: [
        {
          providerUrl: identitypool.IdentityPoolProviderUrl.userPool(this.userPool, this.userPoolClient),
          useToken: true,
          mappingKey: "users",
        },
      ],
    });
    this.adminRole = new iam.Role(this, "AdminRole", {
      description: `${props.platformName} console: signed-in members of 'admins' may call the admin API`,
      assumedBy: new iam.WebIdentityPrincipal("cognito-identity.amazonaws.com", {
        StringEquals: { "cognito-identity.amazonaws.com:aud": this.identityPool.identityPoolId },
        "ForAnyValue:StringLike": { "cognito-identity.amazonaws.com:amr": "authenticated" },
      }),
      maxSessionDuration: Duration.hours(1),
    });
    new cognito.CfnUserPoolGroup(this, "Admins", {
      userPoolId: this.userPool.userPoolId,
      groupName: ADMINS_GROUP,
      description: "Operators: the console's admin pages (the admin API, SigV4 from the browser)",
      roleArn: this.adminRole.roleArn,
    });
  }

  /** The admin role may invoke exactly the admin routes (`/admin/*`, any method) of `api`. */
  grantAdminApi(api: apigw.RestApi): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee: this.adminRole,
      actions: ["execute-api:Invoke"],
      resourceArns: [api.arnForExecuteApi("*", "/admin/*", api.deploymentStage.stageName)],
    });
  }

  /**
   * Puts the console into the bucket: the bundle, built by the local esbuild at synth time as the
   * handlers are (skipped, like theirs, when the stack's bundling is), and `config.json` with
   * what the browser needs to sign in and call `api`; then invalidates CloudFront's copies. The
   * page may then call `api`'s origin and the region's Cognito endpoints, no other host (CSP).
   */
  deploy(api: apigw.RestApi): s3deploy.BucketDeployment {
    if (this.filesDeployment) throw new Error(`ConsoleSite ${this.node.path}: deploy() was already called`);
    const suffix = Aws.URL_SUFFIX;
    const region = Stack.of(this).region;
    this.connectSources.push(
      `https://${api.restApiId}.execute-api.${region}.${suffix}`,
      `https://cognito-idp.${region}.${suffix}`,
      `https://cognito-identity.${region}.${suffix}`,
    );
    const files = s3deploy.Source.asset(CONSOLE_SRC, {
      // The bundle's hash, not the sources': it also depends on cli/api-client.ts and node_modules.
      assetHashType: AssetHashType.OUTPUT,
      bundling: {
        // Never used: local bundling (esbuild, as for the handlers) either succeeds or throws.
        image: DockerImage.fromRegistry("public.ecr.aws/docker/library/node:24-slim"),
        local: {
          tryBundle(outputDir: string): boolean {
            bundleConsole(outputDir);
            return true;
          },
        },
      },
    });
    this.filesDeployment = new s3deploy.BucketDeployment(this, "Files", {
      destinationBucket: this.bucket,
      sources: [files, s3deploy.Source.jsonData("config.json", this.siteConfig(api.url))],
      // index.html and config.json must never be stale after a deploy; the hashed bundles are
      // small and revalidate by ETag.
      cacheControl: [s3deploy.CacheControl.noCache()],
      distribution: this.distribution,
      distributionPaths: ["/*"],
      // Not the model store's upload memory: a singleton function (and role) of its own, which
      // may write this bucket and invalidate this distribution, not the model store.
      memoryLimit: 256,
    });
    return this.filesDeployment;
  }

  /** The files and `config.json` in the bucket (`deploy`); undefined until then. */
  get deployment(): s3deploy.BucketDeployment | undefined {
    return this.filesDeployment;
  }

  /** The URL the console is served at. */
  get url(): string {
    return `https://${this.distribution.distributionDomainName}/`;
  }

  /** The console's origin: what the API's CORS admits, exactly. */
  get origin(): string {
    return `https://${this.distribution.distributionDomainName}`;
  }

  /**
   * What the browser needs to sign in, written beside the files as `config.json`: `signIn:
   * "cognito"` (the local host serves `signIn: "local"`, console/src/site-config.ts).
   */
  siteConfig(apiUrl: string): Record<string, string> {
    return {
      signIn: "cognito",
      region: Stack.of(this).region,
      apiUrl,
      userPoolId: this.userPool.userPoolId,
      userPoolClientId: this.userPoolClient.userPoolClientId,
      identityPoolId: this.identityPool.identityPoolId,
    };
  }
}

/** The Cognito group whose members the admin role is mapped to. */
export const ADMINS_GROUP = "admins";

/** The console's Content-Security-Policy (infra/shared/console-csp.ts): the local one, and the builder. */
export { CONSOLE_CSP, consoleCsp };
