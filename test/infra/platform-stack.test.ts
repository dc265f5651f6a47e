import { describe, expect, it } from "@jest/globals";
import { ROUTES } from "../../functions/contract/routes";
import { GATEWAY_ERRORS } from "../../infra/aws/constructs/gateway-api";
import { synthTwoModels } from "./two-models";

// One synthesis (cdk-nag on; bundling skipped: only the template is read) shared by every assertion below.
const { template, violations } = synthTwoModels({ bundling: false });

describe("PlatformStack (two models, three versions)", () => {
  it("passes cdk-nag AwsSolutions and Serverless with zero unacknowledged findings", () => {
    expect(violations).toEqual([]);
  });

  it("creates each kind of resource the config calls for", () => {
    // The model store, the access logs, the console's files.
    template.resourceCountIs("AWS::S3::Bucket", 3);
    template.resourceCountIs("AWS::KMS::Key", 1);
    template.resourceCountIs("AWS::DynamoDB::GlobalTable", 3);
    template.resourceCountIs("AWS::SageMaker::Model", 3);
    template.resourceCountIs("AWS::SageMaker::EndpointConfig", 2);
    template.resourceCountIs("AWS::SageMaker::Endpoint", 2);
    template.resourceCountIs("AWS::ApplicationAutoScaling::ScalableTarget", 3);
    template.resourceCountIs("AWS::ApplicationAutoScaling::ScalingPolicy", 3);
    template.resourceCountIs("AWS::ApiGateway::RestApi", 1);
    template.resourceCountIs("AWS::ApiGateway::Authorizer", 1);
    // One per route, and a CORS preflight per resource of the console's routes (admin, tenant usage).
    const consolePaths = new Set(ROUTES.filter((r) => r.handler === "admin" || r.handler === "usage").map((r) => r.path));
    template.resourceCountIs("AWS::ApiGateway::Method", ROUTES.length + consolePaths.size);
    template.resourceCountIs("AWS::ApiGateway::GatewayResponse", GATEWAY_ERRORS.length);
    template.resourceCountIs("AWS::WAFv2::WebACLAssociation", 1);
    // The two local artifacts, and the console's files.
    template.resourceCountIs("Custom::CDKBucketDeployment", 3);
    template.resourceCountIs("Custom::RegistrySeed", 1);
    template.resourceCountIs("AWS::CloudWatch::Dashboard", 1);
    // API 5xx rate, API p99 latency, one model-error alarm per endpoint, the aggregator's iterator age,
    // the batch queue's dead letters.
    template.resourceCountIs("AWS::CloudWatch::Alarm", 6);
    // The aggregator: its stream mapping and the queue of batches it could not apply. The batch
    // worker: its queue's mapping, the queue and its dead-letter queue.
    template.resourceCountIs("AWS::Lambda::EventSourceMapping", 2);
    template.resourceCountIs("AWS::SQS::Queue", 3);
    // The handlers and the seed function (plus aws-cdk-lib's own x86 helpers).
    const handlers = template.findResources("AWS::Lambda::Function", { Properties: { Runtime: "nodejs24.x", Architectures: ["arm64"] } });
    // invoke, llm, authorizer, usage, admin, shadow, aggregator, batch, batch-worker, and the registry seed.
    expect(Object.keys(handlers)).toHaveLength(10);
  });
});
