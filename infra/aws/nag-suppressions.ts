import { CfnResource } from "aws-cdk-lib";
import { ACCOUNT, ack, acknowledgeBucketDeployment, acknowledgeWildcards, PARTITION, REGION, type WildcardReason } from "./nag-acknowledge";
import { acknowledgeConsole } from "./nag-console";
import type { PlatformStack } from "./platform-stack";

/**
 * Every cdk-nag finding this stack acknowledges, each on the construct it concerns and with
 * its reason. cdk-nag v3 acknowledges one finding per call (`AwsSolutions-IAM5[Resource::…]`),
 * so a new wildcard or a new resource is never covered by an old acknowledgement.
 */

const XRAY: WildcardReason = {
  finding: /^Resource::\*$/,
  reason: "X-Ray tracing (Tracing.ACTIVE): xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions.",
};

const UNSCOPABLE_RUNTIME_ACTIONS: WildcardReason = {
  finding: /^Resource::\*$/,
  reason:
    "ecr:GetAuthorizationToken and cloudwatch:PutMetricData (the latter limited by a namespace condition) support no resource-level permissions.",
};

const EXTERNAL_PREFIX: WildcardReason = {
  finding: new RegExp(`^Resource::arn:${PARTITION}:s3:::[^*]+\\*$`),
  reason: "An s3:// artifact prefix named in the config: the objects under exactly that prefix.",
};

function modelObjects(model: string): WildcardReason {
  return {
    finding: new RegExp(`^Resource::<ModelStoreBucket[A-F0-9]+\\.Arn>/models/${model}/\\*$`),
    reason: `Objects of model '${model}' (all its versions) only; no other model's artifacts.`,
  };
}

/** The admin function's `*`: X-Ray's, reconciliation's reads of Logs Insights results, and showback's Cost Explorer reads. */
const ADMIN_UNSCOPED: WildcardReason = {
  finding: /^Resource::\*$/,
  reason: `${XRAY.reason} Reconciliation polls logs:GetQueryResults by query id, which supports no resource-level permissions either (logs:StartQuery is scoped to the API's access log group). Showback reads pool costs with ce:GetCostAndUsage, which has no resource-level permissions (the call filters by the pools' cost-allocation tag); only the admin function is granted it.`,
};

export function addPlatformNagSuppressions(stack: PlatformStack): void {
  const { functions, seeder, gateway, endpoints, pools, components } = stack;

  // Handlers: own roles, logs to their own log group, table and endpoint ARNs only.
  for (const [name, fn] of Object.entries(functions)) {
    acknowledgeWildcards(fn, [
      ...(name === "admin" ? [ADMIN_UNSCOPED] : []),
      XRAY,
      {
        finding: /^Resource::<ModelStore[A-Za-z0-9]*\.Arn>\/batch\/\*$/,
        reason:
          "The Batch API and its worker read, write and delete batch files under batch/<tenant>/ (inputs, chunks, outputs), whose ids are made at run time, so only the prefix can be named; the bucket's lifecycle rule expires that prefix.",
      },
      {
        finding: /^Resource::<ModelStore[A-Za-z0-9]*\.Arn>\/(uploads|models|invoices)\/\*$/,
        reason:
          "The admin function verifies uploads under uploads/ (read, delete) and copies them to models/<model>/<version>/ (put); it writes and reads invoices under invoices/<tenant>/<month>/, which the usage function reads for the calling tenant: object keys are chosen at run time, so only the prefix can be named.",
      },
    ]);
    ack(
      fn.function,
      "Serverless-LambdaDLQ",
      name === "aggregator"
        ? "The aggregator is invoked by its event source mapping, whose on-failure destination (an SQS queue) keeps the batches it could not apply."
        : name === "batchWorker"
          ? "The batch worker is invoked by its SQS event source mapping: a message that keeps failing moves to the batch queue's own dead-letter queue (redrive policy, alarmed), which is where failed work is kept."
          : name === "shadow"
            ? "The shadow function runs sampled copies whose answers are discarded: after Lambda's two asynchronous retries a failed copy is logged and dropped, there is nothing to replay."
            : `The ${name} function is only invoked synchronously by API Gateway; the caller gets the error, there is no asynchronous event to keep.`,
    );
  }

  // The aggregator's failed batches: the end of the line, read by an operator, not redriven.
  const failedBatches = stack.aggregator.deadLetters.node.defaultChild as CfnResource;
  ack(
    failedBatches,
    "AwsSolutions-SQS3",
    "This queue is itself the on-failure destination of the aggregator's event source mapping: it holds the stream positions of batches not applied, for an operator to replay.",
  );
  ack(
    failedBatches,
    "Serverless-SQSRedrivePolicy",
    "Nothing consumes this queue automatically: it is the dead-letter destination of the aggregator's stream mapping.",
  );

  // The batch queue's dead-letter queue: where batch work that failed every delivery waits for an operator.
  const batchDeadLetters = stack.batchQueue.deadLetters.node.defaultChild as CfnResource;
  ack(
    batchDeadLetters,
    "AwsSolutions-SQS3",
    "This queue is itself the dead-letter queue of the batch work queue; its alarm tells an operator, who redrives after a fix.",
  );
  ack(
    batchDeadLetters,
    "Serverless-SQSRedrivePolicy",
    "Nothing consumes this queue automatically: it is the batch work queue's dead-letter queue.",
  );

  const batchMapping = functions.batchWorker.function.node.children.find((c) => c.node.id.startsWith("SqsEventSource"));
  if (batchMapping) {
    ack(
      batchMapping,
      "Serverless-LambdaEventSourceMappingDestination",
      "An SQS event source mapping takes no on-failure destination (Lambda supports one for stream and Kafka sources); a message that keeps failing goes to the batch queue's own dead-letter queue by its redrive policy.",
    );
  }

  // Registry seed: the handler and the custom-resource provider framework.
  acknowledgeWildcards(seeder.handler, [XRAY]);
  ack(
    seeder.handler.function,
    "Serverless-LambdaDLQ",
    "Invoked synchronously by the custom-resource provider; a failure fails the deployment, which is the signal.",
  );
  const framework = seeder.provider.node.findChild("framework-onEvent");
  ack(
    framework,
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
    "CDK custom-resource provider framework function (aws-cdk-lib owned); the managed policy only allows writing its own logs.",
  );
  acknowledgeWildcards(framework, [
    {
      finding: /^Resource::<.+\.Arn>:\*$/,
      reason: "The provider framework may invoke any version of the seed handler function; the function itself is named exactly.",
    },
  ]);
  ack(
    framework,
    "Serverless-LambdaDLQ",
    "CloudFormation invokes the provider framework synchronously per resource event; failures fail the deployment.",
  );
  ack(
    framework,
    "Serverless-LambdaDefaultMemorySize",
    "aws-cdk-lib's provider framework function; its default memory suffices for relaying one event.",
  );
  ack(
    framework,
    "Serverless-LambdaTracing",
    "aws-cdk-lib's provider framework function exposes no tracing setting; the seed handler it calls is traced.",
  );

  // Artifact upload: aws-cdk-lib's BucketDeployment singleton function (the console's has its own, below).
  const consoleUpload = stack.console.deployment?.handlerRole.node.scope;
  const upload = stack.node.children.find((c) => c.node.id.startsWith("Custom::CDKBucketDeployment") && c !== consoleUpload);
  if (upload) {
    acknowledgeBucketDeployment(upload, "model artifacts", [
      {
        finding: /^Action::(s3:(GetObject|GetBucket|List|DeleteObject|Abort)\*|kms:(ReEncrypt|GenerateDataKey)\*)$/,
        reason:
          "aws-cdk-lib BucketDeployment grants (grantRead on the asset, grantReadWrite on the store): action groups the S3 sync needs; scoped to the two buckets.",
      },
      {
        finding: /^Resource::<ModelStoreBucket[A-F0-9]+\.Arn>\/\*$/,
        reason:
          "BucketDeployment writes versions under models/<model>/<version>/ of the model store; CDK grants the destination bucket's objects.",
      },
    ]);
  }

  // SageMaker execution roles: only the model's own prefix, log group and the two unscopable actions.
  for (const ep of endpoints.values()) {
    acknowledgeWildcards(ep.role, [
      UNSCOPABLE_RUNTIME_ACTIONS,
      modelObjects(ep.modelName),
      {
        finding: new RegExp(`^Resource::<ModelStoreBucket[A-F0-9]+\\.Arn>/data-capture/${ep.modelName}/\\*$`),
        reason: `Data capture writes under data-capture/${ep.modelName}/ only.`,
      },
      {
        finding: new RegExp(
          `^Resource::arn:${PARTITION}:logs:${REGION}:${ACCOUNT}:log-group:/aws/sagemaker/Endpoints/${ep.endpointName}:\\*$`,
        ),
        reason: "Log streams of this endpoint's own log group.",
      },
      EXTERNAL_PREFIX,
    ]);
  }

  // Pool execution roles: their endpoint's and components' log groups, and the two unscopable actions.
  for (const pool of pools.values()) {
    acknowledgeWildcards(pool.role, [
      UNSCOPABLE_RUNTIME_ACTIONS,
      {
        finding: new RegExp(
          `^Resource::arn:${PARTITION}:logs:${REGION}:${ACCOUNT}:log-group:/aws/sagemaker/(Endpoints/${pool.endpointName}|InferenceComponents/(${pool.componentNames.join("|")})):\\*$`,
        ),
        reason: "Log streams of this pool endpoint's own log group and of the log groups of the components placed on it.",
      },
    ]);
  }
  // Component execution roles (one per model): that model's artifacts and its components' log groups only.
  for (const c of components.values()) {
    acknowledgeWildcards(c.role, [
      UNSCOPABLE_RUNTIME_ACTIONS,
      modelObjects(c.modelName),
      {
        finding: new RegExp(
          `^Resource::arn:${PARTITION}:logs:${REGION}:${ACCOUNT}:log-group:/aws/sagemaker/InferenceComponents/(${c.components.map((ic) => ic.componentName).join("|")}):\\*$`,
        ),
        reason: `Log streams of the log groups of '${c.modelName}''s own inference components.`,
      },
      EXTERNAL_PREFIX,
    ]);
  }

  // API: tenant keys through a Lambda authorizer, admins through SigV4, one public probe.
  for (const { route, method } of gateway.methods) {
    const cfn = method.node.defaultChild;
    if (!(cfn instanceof CfnResource)) continue;
    const why =
      route.auth === "apiKey"
        ? "Tenants authenticate with platform API keys verified by the REQUEST Lambda authorizer (hashed keys in DynamoDB); Cognito is not part of the design."
        : route.auth === "iam"
          ? "Admin route authorized with IAM (SigV4); admins are IAM principals, not Cognito users."
          : "Public readiness probe of the KServe v2 protocol; returns no data.";
    ack(method, "AwsSolutions-COG4", why);
    if (route.auth === "none")
      ack(
        method,
        "AwsSolutions-APIG4",
        "KServe v2 `GET /v2/health/ready` must answer unauthenticated load balancers and clients; it returns no data.",
      );
  }
  for (const preflight of gateway.preflights) {
    const why =
      "CORS preflight (OPTIONS) for the console's CloudFront origin: browsers send it without credentials, so it cannot be authorized; API Gateway's mock answers it without calling a function or returning data, and the call it precedes is authorized as its route says.";
    ack(preflight, "AwsSolutions-APIG4", why);
    ack(preflight, "AwsSolutions-COG4", why);
  }
  const cwRole = gateway.api.node.tryFindChild("CloudWatchRole");
  if (cwRole) {
    ack(
      cwRole,
      "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
      "The AWS-documented account-level role API Gateway needs to write execution and access logs.",
    );
  }
  if (!gateway.webAcl) {
    ack(
      gateway.stage,
      "AwsSolutions-APIG3",
      "The operator opted out of the built-in web ACL (waf.enabled: false) and attached none (-c webAclArn=…); stage throttling and the authorizer protect the API meanwhile.",
    );
  }

  acknowledgeConsole(stack);
}
