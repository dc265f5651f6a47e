import { describe, expect, it } from "@jest/globals";
import { Match } from "aws-cdk-lib/assertions";
import { ROUTES } from "../../functions/contract/routes";
import { ACCESS_LOG_FIELDS } from "../../infra/aws/constructs/gateway-api";
import { logicalIdOf } from "./fixtures";
import { synthTwoModels, WEB_ACL } from "./two-models";

// One synthesis (cdk-nag on; bundling skipped: only the template is read) shared by every assertion below.
const { template } = synthTwoModels({ bundling: false });

describe("GatewayApi (two models, three versions)", () => {
  it("is a regional REST API with a cached REQUEST authorizer on the Authorization header", () => {
    template.hasResourceProperties("AWS::ApiGateway::RestApi", { EndpointConfiguration: { Types: ["REGIONAL"] } });
    template.hasResourceProperties("AWS::ApiGateway::Authorizer", {
      Type: "REQUEST",
      IdentitySource: "method.request.header.Authorization",
      AuthorizerResultTtlInSeconds: 30,
    });
  });

  it("generates one method per route with the route's authorization", () => {
    const methods = Object.values(template.findResources("AWS::ApiGateway::Method"))
      .map((m) => (m as { Properties: { AuthorizationType: string; HttpMethod: string } }).Properties)
      // The console's CORS preflights are not routes (their own test below).
      .filter((m) => m.HttpMethod !== "OPTIONS");
    const expected = { apiKey: "CUSTOM", iam: "AWS_IAM", none: "NONE" } as const;
    for (const auth of ["apiKey", "iam", "none"] as const) {
      const want = ROUTES.filter((r) => r.auth === auth).length;
      expect(methods.filter((m) => m.AuthorizationType === expected[auth])).toHaveLength(want);
    }
    template.hasResourceProperties("AWS::ApiGateway::Method", {
      HttpMethod: "POST",
      AuthorizationType: "CUSTOM",
      RequestParameters: { "method.request.path.model": true, "method.request.path.version": true },
      RequestValidatorId: Match.anyValue(),
      RequestModels: { "application/json": Match.anyValue() },
    });
  });

  it("streams the OpenAI routes from the LLM function, with a 15-minute integration timeout for generation", () => {
    const llmFn = logicalIdOf(template, "AWS::Lambda::Function", { Description: Match.stringLikeRegexp("^OpenAI routes") });
    template.hasResourceProperties("AWS::Lambda::Function", { Description: Match.stringLikeRegexp("^OpenAI routes"), Timeout: 900 });
    // POST /v1/chat/completions, /v1/completions and /v1/embeddings, all on the LLM function.
    const methods = Object.values(template.findResources("AWS::ApiGateway::Method", { Properties: { HttpMethod: "POST" } })).filter((m) =>
      JSON.stringify(m).includes(llmFn),
    );
    expect(methods).toHaveLength(3);
    const integrations = methods.map((m) => (m as { Properties: { Integration: Record<string, unknown> } }).Properties.Integration);
    for (const integration of integrations) expect(integration).toMatchObject({ Type: "AWS_PROXY", ResponseTransferMode: "STREAM" });
    // Generation may take minutes; an embeddings answer keeps API Gateway's default 29 s.
    expect(integrations.map((i) => i.TimeoutInMillis ?? "default").sort()).toEqual([900_000, 900_000, "default"]);
    // Streaming integrations call the function's response-streaming invocation.
    const uri = JSON.stringify(
      Object.values(template.findResources("AWS::ApiGateway::Method")).find((m) => JSON.stringify(m).includes(llmFn)),
    );
    expect(uri).toContain("response-streaming-invocations");
    // Buffered routes keep API Gateway's default transfer mode and timeout.
    template.hasResourceProperties("AWS::ApiGateway::Method", {
      HttpMethod: "POST",
      Integration: Match.objectLike({ Type: "AWS_PROXY", ResponseTransferMode: Match.absent(), TimeoutInMillis: Match.absent() }),
    });
  });

  it("throttles, traces and writes JSON access logs on the stage, with the WAF web ACL attached", () => {
    template.hasResourceProperties("AWS::ApiGateway::Stage", {
      TracingEnabled: true,
      MethodSettings: [
        Match.objectLike({
          ResourcePath: "/*",
          HttpMethod: "*",
          ThrottlingRateLimit: 250,
          ThrottlingBurstLimit: 500,
          DataTraceEnabled: false,
        }),
      ],
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: JSON.stringify(ACCESS_LOG_FIELDS) },
    });
    // What reconciliation reads from each line, under the names the local gateway writes too.
    const stage = Object.values(template.findResources("AWS::ApiGateway::Stage"))[0] as {
      Properties: { AccessLogSetting: { Format: string } };
    };
    expect(JSON.parse(stage.Properties.AccessLogSetting.Format)).toMatchObject({
      requestId: "$context.requestId",
      requestTimeEpoch: "$context.requestTimeEpoch",
      httpMethod: "$context.httpMethod",
      resourcePath: "$context.resourcePath",
      path: "$context.path",
      status: "$context.status",
      responseLength: "$context.responseLength",
      tenantId: "$context.authorizer.tenantId",
      keyId: "$context.authorizer.keyId",
    });
    template.hasResourceProperties("AWS::WAFv2::WebACLAssociation", { WebACLArn: WEB_ACL });
  });

  it("answers gateway errors with the handlers' JSON error shape", () => {
    const responses = Object.values(template.findResources("AWS::ApiGateway::GatewayResponse")).map(
      (r) =>
        (
          r as {
            Properties: {
              ResponseType: string;
              StatusCode: string;
              ResponseTemplates: Record<string, string>;
              ResponseParameters?: Record<string, string>;
            };
          }
        ).Properties,
    );
    for (const r of responses) {
      const body = (r.ResponseTemplates["application/json"] ?? "")
        .replace("$context.error.messageString", JSON.stringify("Unauthorized"))
        .replace("$context.requestId", "req-1");
      expect({ responseType: r.ResponseType, body: JSON.parse(body) }).toEqual({
        responseType: r.ResponseType,
        body: { error: { type: expect.any(String), message: "Unauthorized", request_id: "req-1" } },
      });
    }
    const byType = Object.fromEntries(responses.map((r) => [r.ResponseType, r]));
    expect(byType.UNAUTHORIZED?.StatusCode).toBe("401");
    expect(byType.REQUEST_TOO_LARGE?.StatusCode).toBe("413");
    expect(byType.THROTTLED?.StatusCode).toBe("429");
    expect(byType.THROTTLED?.ResponseParameters?.["gatewayresponse.header.Retry-After"]).toBe("'1'");
    expect(byType.ACCESS_DENIED?.StatusCode).toBe("403");
    expect(byType.DEFAULT_5XX?.StatusCode).toBe("500");
  });
});
