import { describe, expect, it } from "@jest/globals";
import { Match } from "aws-cdk-lib/assertions";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import { FUNCTION_ENV } from "../../functions/contract/settings";
import { BATCH_PREFIX } from "../../functions/core/batch/ports";
import { BATCH_RETENTION_DAYS } from "../../functions/core/batch/state";
import { artifactDir, synthPlatform } from "./fixtures";

/** One model; the batch queue, its worker and the store's batch prefix, read from the template alone (no bundling). */
const dir = artifactDir({ "iris/1/model.onnx": "iris v1" });
const config = {
  name: "mgbatch",
  models: { iris: { versions: [{ version: 1, artifact: "iris/1/model.onnx", instanceType: "ml.c5.xlarge" }], aliases: { prod: 1 } } },
};
const { stack, template, violations } = synthPlatform({ config, baseDir: dir, bundling: false });
const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as never);
const workerFn = stack.functions.batchWorker.function;
const workerId = id(stack.functions.batchWorker.function);
const queueId = id(stack.batchQueue.queue);
const dlqId = id(stack.batchQueue.deadLetters);

describe("the Batch API's cloud resources", () => {
  it("synthesizes cdk-nag clean", () => expect(violations).toEqual([]));

  it("queues batch work encrypted and TLS-only, with a dead-letter queue after 5 deliveries", () => {
    template.hasResourceProperties("AWS::SQS::Queue", {
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: { "Fn::GetAtt": [dlqId, "Arn"] }, maxReceiveCount: 5 },
      // Longer than the worker may run (15 minutes), so a running delivery is never handed out again.
      VisibilityTimeout: 15 * 60 + 60,
    });
    template.hasResourceProperties("AWS::SQS::Queue", { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86_400 });
    template.hasResourceProperties("AWS::SQS::QueuePolicy", {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } })]),
      },
    });
  });

  it("alarms as soon as a message lands in the dead-letter queue", () => {
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Namespace: "AWS/SQS",
      MetricName: "ApproximateNumberOfMessagesVisible",
      Dimensions: [{ Name: "QueueName", Value: { "Fn::GetAtt": [dlqId, "QueueName"] } }],
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
    });
  });

  it("drains the queue one message per invocation into a worker with reserved concurrency, reporting item failures", () => {
    template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      EventSourceArn: { "Fn::GetAtt": [queueId, "Arn"] },
      FunctionName: { Ref: workerId },
      BatchSize: 1,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
    });
    const cfn = workerFn.node.defaultChild as lambda.CfnFunction;
    expect(cfn.reservedConcurrentExecutions).toBe(2);
    expect(cfn.timeout).toBe(900);
  });

  it("tells both batch functions the bucket and the queue", () => {
    for (const f of [stack.functions.batch, stack.functions.batchWorker]) {
      template.hasResourceProperties("AWS::Lambda::Function", {
        FunctionName: Match.absent(),
        Description: (f.function.node.defaultChild as lambda.CfnFunction).description,
        Environment: {
          Variables: Match.objectLike({
            [FUNCTION_ENV.modelBucket]: { Ref: id(stack.store.bucket) },
            [FUNCTION_ENV.batchQueueUrl]: { Ref: queueId },
          }),
        },
      });
    }
  });

  it("expires the store's batch prefix by a lifecycle rule, as long as the files' records are kept", () => {
    template.hasResourceProperties("AWS::S3::Bucket", {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Id: "expire-batch-files",
            Prefix: BATCH_PREFIX,
            ExpirationInDays: BATCH_RETENTION_DAYS,
            Status: "Enabled",
          }),
        ]),
      },
    });
  });

  it("routes /v1/files and /v1/batches to the batch function", () => {
    const batchId = id(stack.functions.batch.function);
    const methods = template.findResources("AWS::ApiGateway::Method", {
      Properties: { Integration: { Uri: { "Fn::Join": Match.arrayWith([Match.arrayWith([{ "Fn::GetAtt": [batchId, "Arn"] }])]) } } },
    });
    expect(Object.keys(methods).length).toBe(10);
  });
});
