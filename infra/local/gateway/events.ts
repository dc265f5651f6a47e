import type { IncomingHttpHeaders } from "node:http";
import type { APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import type { RouteDefinition } from "../../../functions/contract/routes";

/** What the emulator knows about one incoming request, before it becomes an event. */
export interface IncomingRequest {
  readonly requestId: string;
  readonly receivedAt: number;
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly sourceIp: string;
  readonly route: RouteDefinition;
  readonly pathParameters: Record<string, string>;
}

export const LOCAL_ACCOUNT = "000000000000";
export const LOCAL_API_ID = "local";
export const LOCAL_STAGE = "v1";
const REGION = process.env.AWS_REGION ?? "us-east-1";

function singleHeaders(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(",") : v;
  return out;
}

function multiHeaders(h: IncomingHttpHeaders): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v : [v];
  return out;
}

function queryMaps(q: URLSearchParams) {
  if ([...q.keys()].length === 0) return { single: null, multi: null };
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [k, v] of q) {
    single[k] = v; // API Gateway keeps the last value.
    multi[k] = [...(multi[k] ?? []), v];
  }
  return { single, multi };
}

/** API Gateway's method ARN for a request, as a REQUEST authorizer sees it. */
export function methodArn(req: Pick<IncomingRequest, "method" | "route">): string {
  return `arn:aws:execute-api:${REGION}:${LOCAL_ACCOUNT}:${LOCAL_API_ID}/${LOCAL_STAGE}/${req.method}${req.route.path}`;
}

/** Text bodies travel as strings; anything else base64, as with binaryMediaTypes. */
function isTextual(contentType: string | undefined): boolean {
  return contentType === undefined || /^(application\/(.+\+)?(json|xml|x-www-form-urlencoded)|text\/)/i.test(contentType);
}

/** A REST API (v1) REQUEST authorizer event. */
export function authorizerEvent(req: IncomingRequest): APIGatewayRequestAuthorizerEvent {
  const { single, multi } = queryMaps(req.query);
  return {
    type: "REQUEST",
    methodArn: methodArn(req),
    resource: req.route.path,
    path: req.path,
    httpMethod: req.method,
    headers: singleHeaders(req.headers),
    multiValueHeaders: multiHeaders(req.headers),
    pathParameters: req.pathParameters,
    queryStringParameters: single,
    multiValueQueryStringParameters: multi,
    stageVariables: null,
    requestContext: requestContext(req, null) as unknown as APIGatewayRequestAuthorizerEvent["requestContext"],
  };
}

/** A REST API (v1) Lambda proxy integration event. */
export function proxyEvent(
  req: IncomingRequest,
  authorizer: Record<string, unknown> | null,
  identity: Partial<IdentityFields> = {},
): APIGatewayProxyEvent {
  const { single, multi } = queryMaps(req.query);
  const textual = isTextual(req.headers["content-type"]);
  return {
    resource: req.route.path,
    path: req.path,
    httpMethod: req.method,
    headers: singleHeaders(req.headers),
    multiValueHeaders: multiHeaders(req.headers),
    queryStringParameters: single,
    multiValueQueryStringParameters: multi,
    pathParameters: Object.keys(req.pathParameters).length ? req.pathParameters : null,
    stageVariables: null,
    requestContext: requestContext(req, authorizer, identity),
    body: req.body.length === 0 ? null : textual ? req.body.toString("utf8") : req.body.toString("base64"),
    isBase64Encoded: req.body.length > 0 && !textual,
  };
}

interface IdentityFields {
  userArn: string | null;
  caller: string | null;
  accessKey: string | null;
  user: string | null;
}

function requestContext(
  req: IncomingRequest,
  authorizer: Record<string, unknown> | null,
  identity: Partial<IdentityFields> = {},
): APIGatewayProxyEvent["requestContext"] {
  const ua = req.headers["user-agent"];
  return {
    accountId: LOCAL_ACCOUNT,
    apiId: LOCAL_API_ID,
    authorizer,
    httpMethod: req.method,
    protocol: "HTTP/1.1",
    path: `/${LOCAL_STAGE}${req.path}`,
    stage: LOCAL_STAGE,
    requestId: req.requestId,
    requestTimeEpoch: req.receivedAt,
    resourceId: "local",
    resourcePath: req.route.path,
    domainName: String(req.headers.host ?? "127.0.0.1"),
    identity: {
      accessKey: identity.accessKey ?? null,
      accountId: null,
      apiKey: null,
      apiKeyId: null,
      caller: identity.caller ?? null,
      clientCert: null,
      cognitoAuthenticationProvider: null,
      cognitoAuthenticationType: null,
      cognitoIdentityId: null,
      cognitoIdentityPoolId: null,
      principalOrgId: null,
      sourceIp: req.sourceIp,
      user: identity.user ?? null,
      userAgent: typeof ua === "string" ? ua : null,
      userArn: identity.userArn ?? null,
    },
  };
}
