import { Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import type * as apigw from "aws-cdk-lib/aws-apigateway";
import * as cloudfront from "aws-cdk-lib/aws-cloudfront";
import * as origins from "aws-cdk-lib/aws-cloudfront-origins";
import * as cognito from "aws-cdk-lib/aws-cognito";
import * as identitypool from "aws-cdk-lib/aws-cognito-identitypool";
import * as iam from "aws-cdk-lib/aws-iam";
import * as s3 from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import { CONSOLE_CSP } from "../../shared/console-csp";

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
        contentSecurityPolicy: { contentSecurityPolicy: CONSOLE_CSP, override: true },
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
      // A browser keeps no secret; SRP never sends the password.
      generateSecret: false,
      authFlows: { userSrp: true },
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

  /** The URL the console is served at. */
  get url(): string {
    return `https://${this.distribution.distributionDomainName}/`;
  }

  /** What the browser needs to sign in, written beside the files as `config.json`. */
  siteConfig(apiUrl: string): Record<string, string> {
    return {
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

/** The console's Content-Security-Policy (one for both hosts: infra/shared/console-csp.ts). */
export { CONSOLE_CSP };
