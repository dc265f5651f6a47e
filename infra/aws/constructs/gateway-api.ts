import { ArnFormat, Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigateway";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import * as wafv2 from "aws-cdk-lib/aws-wafv2";
import { Construct } from "constructs";
import { authorizerIdentityHeaders } from "../../../functions/contract/authorizer";
import { CORS_ALLOW_HEADERS, CORS_EXPOSE_HEADERS } from "../../../functions/contract/cors";
import { type HandlerName, ROUTES, type RouteDefinition } from "../../../functions/contract/routes";
import { ACCESS_LOG_CONTEXT } from "../../../functions/core/access-log";
import type { PlatformConfig } from "../../shared/config-schema";
import { adminResourcePolicy, rateLimitWebAcl } from "./api-protection";

export interface GatewayApiProps {
  readonly platformName: string;
  /** The route handlers, by the name the route table uses. */
  readonly handlers: Readonly<Record<HandlerName, lambda.IFunction>>;
  /** REQUEST authorizer for `apiKey` routes. */
  readonly authorizer: lambda.IFunction;
  readonly gateway: PlatformConfig["gateway"];
  /** @default ROUTES (infra/shared/routes.ts) */
  readonly routes?: readonly RouteDefinition[];
  /** @default "prod" */
  readonly stageName?: string;
  /** A WAFv2 web ACL (REGIONAL scope) to associate with the stage, instead of `rateLimit`'s. @default none */
  readonly webAclArn?: string;
  /**
   * Without `webAclArn`: a web ACL of our own with a per-IP rate rule; `false` for none.
   * @default { ratePerIpPer5Minutes: 20000 }
   */
  readonly rateLimit?: { readonly ratePerIpPer5Minutes: number } | false;
  /**
   * IAM principal ARNs allowed on `/admin/*` by the resource policy; an account root stands for
   * the whole account. @default this stack's account
   */
  readonly adminPrincipals?: readonly string[];
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly accessLogRetention?: logs.RetentionDays;
  /**
   * The one other origin browsers may call the console's routes from (the cloud console's
   * CloudFront origin, `https://…`): the admin routes and the tenant routes of the usage
   * function get an unauthenticated preflight (OPTIONS) admitting exactly it, and the gateway's
   * own errors name it; the handlers add it to their answers (functions/http/cors.ts). @default none
   */
  readonly corsOrigin?: string;
  /** Media types API Gateway passes to the handlers base64-encoded. @default ["application/octet-stream"] */
  readonly binaryMediaTypes?: string[];
}

/**
 * Fields of the JSON access log line; `$context` variables API Gateway fills in. Reconciliation
 * reads the stage's log (functions/core/access-log.ts): its fields come first, with the names
 * the local gateway writes too; `requestTime` is API Gateway's CLF time, `requestTimeEpoch`
 * the same instant in milliseconds.
 */
export const ACCESS_LOG_FIELDS: Readonly<Record<string, string>> = {
  ...ACCESS_LOG_CONTEXT,
  extendedRequestId: "$context.extendedRequestId",
  requestTime: "$context.requestTime",
  ip: "$context.identity.sourceIp",
  userAgent: "$context.identity.userAgent",
  protocol: "$context.protocol",
  responseLatency: "$context.responseLatency",
  integrationLatency: "$context.integrationLatency",
  integrationStatus: "$context.integration.status",
  iamUser: "$context.identity.userArn",
  errorMessage: "$context.error.message",
  errorType: "$context.error.responseType",
  authorizerError: "$context.authorizer.error",
  authorizerLatency: "$context.authorizer.integrationLatency",
  wafStatus: "$context.waf.status",
  xrayTraceId: "$context.xrayTraceId",
};

interface GatewayError {
  readonly type: apigw.ResponseType;
  readonly statusCode: string;
  readonly errorType: string;
  readonly retryAfterSeconds?: number;
}

/**
 * Responses API Gateway raises itself (before or instead of a handler), given the handlers'
 * JSON error shape so clients parse one format. Statuses follow the handlers' vocabulary.
 */
export const GATEWAY_ERRORS: readonly GatewayError[] = [
  { type: apigw.ResponseType.BAD_REQUEST_PARAMETERS, statusCode: "400", errorType: "invalid_request" },
  { type: apigw.ResponseType.BAD_REQUEST_BODY, statusCode: "400", errorType: "invalid_request" },
  { type: apigw.ResponseType.UNAUTHORIZED, statusCode: "401", errorType: "unauthorized" },
  { type: apigw.ResponseType.ACCESS_DENIED, statusCode: "403", errorType: "forbidden" },
  // Raised both for an unsigned admin call and for a path/method with no route.
  { type: apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, statusCode: "403", errorType: "forbidden" },
  { type: apigw.ResponseType.INVALID_SIGNATURE, statusCode: "403", errorType: "forbidden" },
  { type: apigw.ResponseType.EXPIRED_TOKEN, statusCode: "403", errorType: "forbidden" },
  { type: apigw.ResponseType.WAF_FILTERED, statusCode: "403", errorType: "forbidden" },
  { type: apigw.ResponseType.RESOURCE_NOT_FOUND, statusCode: "404", errorType: "not_found" },
  { type: apigw.ResponseType.REQUEST_TOO_LARGE, statusCode: "413", errorType: "payload_too_large" },
  { type: apigw.ResponseType.UNSUPPORTED_MEDIA_TYPE, statusCode: "415", errorType: "unsupported_media_type" },
  { type: apigw.ResponseType.THROTTLED, statusCode: "429", errorType: "rate_limited", retryAfterSeconds: 1 },
  { type: apigw.ResponseType.QUOTA_EXCEEDED, statusCode: "429", errorType: "rate_limited", retryAfterSeconds: 60 },
  { type: apigw.ResponseType.AUTHORIZER_FAILURE, statusCode: "503", errorType: "service_unavailable", retryAfterSeconds: 1 },
  { type: apigw.ResponseType.AUTHORIZER_CONFIGURATION_ERROR, statusCode: "500", errorType: "internal_error" },
  { type: apigw.ResponseType.INTEGRATION_FAILURE, statusCode: "502", errorType: "internal_error" },
  { type: apigw.ResponseType.INTEGRATION_TIMEOUT, statusCode: "504", errorType: "timeout" },
  { type: apigw.ResponseType.DEFAULT_4XX, statusCode: "400", errorType: "invalid_request" },
  { type: apigw.ResponseType.DEFAULT_5XX, statusCode: "500", errorType: "internal_error" },
];

/** The mapping template of a gateway error: the same body `toErrorResponse` produces. */
export function gatewayErrorTemplate(errorType: string): string {
  return `{"error":{"type":"${errorType}","message":$context.error.messageString,"request_id":"$context.requestId"}}`;
}

/**
 * The public API: a regional REST API whose resources and methods are generated from the
 * shared route table. Tenant routes go through a cached REQUEST authorizer on the
 * `Authorization` header, admin routes through IAM (SigV4). The stage has throttling from the
 * config, JSON access logs, X-Ray, execution logs for errors; gateway-raised errors use the
 * platform's JSON error shape; a WAF web ACL can be attached.
 */
export class GatewayApi extends Construct {
  readonly api: apigw.RestApi;
  readonly authorizer: apigw.RequestAuthorizer;
  readonly accessLogs: logs.LogGroup;
  readonly stage: apigw.Stage;
  readonly webAcl?: wafv2.CfnWebACLAssociation;
  /** The web ACL created for the stage (absent with `webAclArn` or `rateLimit: false`). */
  readonly rateLimitAcl?: wafv2.CfnWebACL;
  readonly methods: ReadonlyArray<{ readonly route: RouteDefinition; readonly method: apigw.Method }>;
  /** The CORS preflights (OPTIONS, no auth) on the console's routes; none without `corsOrigin`. */
  readonly preflights: readonly apigw.Method[];

  constructor(scope: Construct, id: string, props: GatewayApiProps) {
    super(scope, id);
    const { gateway } = props;

    this.accessLogs = new logs.LogGroup(this, "AccessLogs", {
      retention: props.accessLogRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.api = new apigw.RestApi(this, "Api", {
      restApiName: `${props.platformName}-api`,
      description: `${props.platformName}: multi-tenant model API`,
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      binaryMediaTypes: props.binaryMediaTypes ?? ["application/octet-stream"],
      // Execution logging needs the account-level CloudWatch role.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      policy: adminResourcePolicy(props.adminPrincipals, Stack.of(this).account),
      deployOptions: {
        stageName: props.stageName ?? "prod",
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        // Request and response bodies are tenants' data: never in execution logs.
        dataTraceEnabled: false,
        throttlingRateLimit: gateway.rateLimitPerSecond,
        throttlingBurstLimit: gateway.burstLimit,
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: apigw.AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
    this.stage = this.api.deploymentStage;

    const ttl = gateway.authorizerCacheTtlSeconds;
    this.authorizer = new apigw.RequestAuthorizer(this, "Authorizer", {
      authorizerName: `${props.platformName}-api-key`,
      handler: props.authorizer,
      // The identity source is the cache key, and every listed source is required when caching
      // is on: listing both Authorization and x-api-key would refuse clients sending only one.
      // Authorization (`Bearer mg_live_…`) is the documented form; with caching off (TTL 0) no
      // source is required and the authorizer also accepts x-api-key.
      identitySources: authorizerIdentityHeaders(ttl).map((h) => apigw.IdentitySource.header(h)),
      resultsCacheTtl: Duration.seconds(ttl),
    });

    const validator = this.api.addRequestValidator("ParameterValidator", {
      requestValidatorName: "parameters-and-body",
      validateRequestParameters: true,
      // Only methods with a request model (the KServe infer routes) have a body to check.
      validateRequestBody: true,
    });

    const integrations = new Map<string, apigw.LambdaIntegration>();
    const integration = (route: RouteDefinition): apigw.LambdaIntegration => {
      // One integration (and one invoke permission) per function and transfer mode, not per method.
      const key = `${route.handler}:${route.streaming ? "stream" : "buffered"}:${route.timeoutSeconds ?? 29}`;
      let found = integrations.get(key);
      if (!found) {
        found = new apigw.LambdaIntegration(props.handlers[route.handler], {
          proxy: true,
          scopePermissionToMethod: false,
          ...(route.streaming ? { responseTransferMode: apigw.ResponseTransferMode.STREAM } : {}),
          ...(route.timeoutSeconds ? { timeout: Duration.seconds(route.timeoutSeconds) } : {}),
        });
        integrations.set(key, found);
      }
      return found;
    };

    this.methods = (props.routes ?? ROUTES).map((route) => {
      const resource = this.api.root.resourceForPath(route.path);
      const params = [...route.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string);
      const method = resource.addMethod(route.method, integration(route), {
        ...this.authorization(route),
        requestValidator: validator,
        requestParameters: Object.fromEntries(params.map((p) => [`method.request.path.${p}`, true])),
        ...(route.method === "POST" && route.path.endsWith("/infer")
          ? { requestModels: { "application/json": this.inferRequestModel() } }
          : {}),
      });
      return { route, method };
    });
    this.preflights = props.corsOrigin ? this.addPreflights(props.corsOrigin, props.routes ?? ROUTES) : [];

    for (const e of GATEWAY_ERRORS) {
      this.api.addGatewayResponse(`Error${e.type.responseType}`, {
        type: e.type,
        statusCode: e.statusCode,
        templates: { "application/json": gatewayErrorTemplate(e.errorType) },
        responseHeaders: {
          "Content-Type": "'application/json'",
          ...(e.retryAfterSeconds ? { "Retry-After": `'${e.retryAfterSeconds}'` } : {}),
          // The console can read why the gateway refused it (an expired signature, throttling).
          ...(props.corsOrigin ? { "Access-Control-Allow-Origin": `'${props.corsOrigin}'`, Vary: "'Origin'" } : {}),
        },
      });
    }

    const rateLimit = props.rateLimit ?? { ratePerIpPer5Minutes: 20_000 };
    if (!props.webAclArn && rateLimit) {
      this.rateLimitAcl = rateLimitWebAcl(this, "RateLimitAcl", props.platformName, rateLimit.ratePerIpPer5Minutes);
    }
    const webAclArn = props.webAclArn ?? this.rateLimitAcl?.attrArn;
    if (webAclArn) this.webAcl = new wafv2.CfnWebACLAssociation(this, "WebAcl", { resourceArn: this.stage.stageArn, webAclArn });
  }

  /**
   * Reconciliation's Logs Insights queries of the stage's access log (CloudWatchAccessLog):
   * StartQuery on the log group, named in both ARN forms (with and without `:*`, as the IAM docs
   * for Logs Insights do), and GetQueryResults, which takes a query id and supports no
   * resource-level permissions.
   */
  grantAccessLogQuery(grantee: iam.IGrantable): iam.Grant {
    const unsuffixed = Stack.of(this).formatArn({
      service: "logs",
      resource: "log-group",
      resourceName: this.accessLogs.logGroupName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ["logs:StartQuery"],
      resourceArns: [this.accessLogs.logGroupArn, unsuffixed],
    }).combine(iam.Grant.addToPrincipal({ grantee, actions: ["logs:GetQueryResults"], resourceArns: ["*"] }));
  }

  /**
   * One preflight per resource the console calls (the admin routes; the usage function's tenant
   * routes, for the tenant page): API Gateway's mock answers OPTIONS without auth, admitting
   * `origin` only, with the resource's own methods and the headers a signed or keyed call sends.
   */
  private addPreflights(origin: string, routes: readonly RouteDefinition[]): apigw.Method[] {
    const byPath = new Map<string, string[]>();
    for (const r of routes) {
      if (r.handler !== "admin" && r.handler !== "usage") continue;
      byPath.set(r.path, [...(byPath.get(r.path) ?? []), r.method]);
    }
    return [...byPath].map(([path, methods]) =>
      this.api.root.resourceForPath(path).addCorsPreflight({
        allowOrigins: [origin],
        allowMethods: methods,
        allowHeaders: [...CORS_ALLOW_HEADERS],
        exposeHeaders: [...CORS_EXPOSE_HEADERS],
        maxAge: Duration.hours(1),
      }),
    );
  }

  private inferModel?: apigw.Model;

  /** KServe v2 JSON inference request: an object with a non-empty `inputs` array. */
  private inferRequestModel(): apigw.Model {
    this.inferModel ??= this.api.addModel("InferRequest", {
      contentType: "application/json",
      modelName: "KServeV2InferRequest",
      schema: {
        schema: apigw.JsonSchemaVersion.DRAFT4,
        type: apigw.JsonSchemaType.OBJECT,
        required: ["inputs"],
        properties: {
          id: { type: apigw.JsonSchemaType.STRING },
          inputs: { type: apigw.JsonSchemaType.ARRAY, minItems: 1 },
          outputs: { type: apigw.JsonSchemaType.ARRAY },
          parameters: { type: apigw.JsonSchemaType.OBJECT },
        },
      },
    });
    return this.inferModel;
  }

  private authorization(route: RouteDefinition): Pick<apigw.MethodOptions, "authorizationType" | "authorizer"> {
    switch (route.auth) {
      case "apiKey":
        return { authorizationType: apigw.AuthorizationType.CUSTOM, authorizer: this.authorizer };
      case "iam":
        return { authorizationType: apigw.AuthorizationType.IAM };
      case "none":
        return { authorizationType: apigw.AuthorizationType.NONE };
    }
  }
}
