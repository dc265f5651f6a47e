import { describe, expect, it } from "@jest/globals";
import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { AGGREGATOR_STREAM } from "../../functions/contract/tables";
import { ControlTables } from "../../infra/aws/constructs/control-tables";
import { UsageAggregator } from "../../infra/aws/constructs/usage-aggregator";

/** The usage table and the aggregator alone, with a stand-in function: no bundling. */
function aggregator(): Template {
  const stack = new Stack(new App(), "T", { env: { account: "111122223333", region: "eu-west-1" } });
  const tables = new ControlTables(stack, "Tables", { platformName: "t" });
  const fn = new lambda.Function(stack, "Aggregator", {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: "i.h",
    code: lambda.Code.fromInline("0"),
  });
  new UsageAggregator(stack, "UsageAggregator", { tables, function: fn });
  return Template.fromStack(stack);
}

describe("UsageAggregator", () => {
  const t = aggregator();

  it("streams the usage table's new images", () => {
    t.hasResourceProperties("AWS::DynamoDB::GlobalTable", {
      TableName: "t-usage",
      StreamSpecification: { StreamViewType: "NEW_IMAGE" },
    });
  });

  it("maps only INSERTs of packs, in batches with a window, bisected, retried, failures reported and sent to a queue", () => {
    t.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      StartingPosition: "TRIM_HORIZON",
      BatchSize: AGGREGATOR_STREAM.batchSize,
      MaximumBatchingWindowInSeconds: AGGREGATOR_STREAM.maxBatchingWindowSeconds,
      TumblingWindowInSeconds: AGGREGATOR_STREAM.tumblingWindowSeconds,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: AGGREGATOR_STREAM.retryAttempts,
      ParallelizationFactor: 1,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify(AGGREGATOR_STREAM.filter) }] },
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });

  it("keeps failed batches in an encrypted queue that refuses plain HTTP", () => {
    t.hasResourceProperties("AWS::SQS::Queue", { SqsManagedSseEnabled: true });
    t.hasResourceProperties("AWS::SQS::QueuePolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } })]),
      },
    });
  });

  it("lets the function write only aggregates, applied counts and checkpoints, and read the stream", () => {
    const policies = JSON.stringify(t.findResources("AWS::IAM::Policy"));
    expect(policies).toContain("dynamodb:GetRecords");
    t.hasResourceProperties("AWS::IAM::Policy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
            Condition: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["AGG#*", "FRESH#*", "AGGCP"] } },
          }),
        ]),
      },
    });
    expect(policies).not.toMatch(/dynamodb:PutItem|dynamodb:DeleteItem/);
  });

  it("alarms when the stream's iterator age passes five minutes", () => {
    t.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "IteratorAge",
      Namespace: "AWS/Lambda",
      Statistic: "Maximum",
      Threshold: 300_000,
    });
  });
});
