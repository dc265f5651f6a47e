import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "@jest/globals";
import { Match } from "aws-cdk-lib/assertions";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import { ROUTES } from "../../functions/contract/routes";
import { ACCESS_LOG_FIELDS, GATEWAY_ERRORS } from "../../infra/aws/constructs/gateway-api";
import { artifactDir, logicalIdOf, synthPlatform } from "./fixtures";

// Two models, three versions: a local ONNX file, a local model.tar.gz and an s3:// prefix.
const onnx = "fake onnx bytes v1";
const tarball = "fake model.tar.gz bytes v2";
const sha = (s: string) => createHash("sha256").update(s).digest("hex");
const dir = artifactDir({ "iris/1/model.onnx": onnx, "iris/2/model.tar.gz": tarball });
const WEB_ACL = "arn:aws:wafv2:us-east-1:111122223333:regional/webacl/modelgate/abc";
const config = {
  name: "mgtest",
  models: {
    iris: {
      versions: [
        {
          version: 1,
          artifact: "iris/1/model.onnx",
          runtime: "onnx",
          instanceType: "ml.c5.xlarge",
          instances: { initial: 1, min: 1, max: 3 },
          targetInvocationsPerInstance: 500,
        },
        { version: 2, artifact: "iris/2/model.tar.gz", runtime: "onnx", instanceType: "ml.m5.xlarge", sha256: sha(tarball) },
      ],
      aliases: {
        prod: [
          { version: 1, weight: 90 },
          { version: 2, weight: 10 },
        ],
        staging: 2,
      },
    },
    llm: {
      versions: [
        {
          version: 1,
          artifact: "s3://external-models/llm/1/",
          runtime: "tgi",
          instanceType: "ml.g5.12xlarge",
          instances: { initial: 2, min: 2, max: 4 },
        },
      ],
      aliases: { prod: 1 },
    },
  },
  gateway: { authorizerCacheTtlSeconds: 30, rateLimitPerSecond: 250, burstLimit: 500, maxBodyBytes: 1024 * 1024 },
};

// One synthesis (cdk-nag on, handlers bundled by esbuild) shared by every assertion below.
const { stack, template, assemblyDir, violations } = synthPlatform({
  config,
  baseDir: dir,
  webAclArn: WEB_ACL,
  dataCapture: { samplingPercentage: 20 },
});
const keyId = logicalIdOf(template, "AWS::KMS::Key");
const bucketId = logicalIdOf(template, "AWS::S3::Bucket", { VersioningConfiguration: { Status: "Enabled" } });
const tableId = (name: string) => logicalIdOf(template, "AWS::DynamoDB::GlobalTable", { TableName: name });
const policyOf = (roleLogicalIdPrefix: string) => {
  const policies = template.findResources("AWS::IAM::Policy");
  const found = Object.entries(policies).filter(([, p]) =>
    JSON.stringify((p as { Properties: { Roles: unknown } }).Properties.Roles).includes(roleLogicalIdPrefix),
  );
  expect(found).toHaveLength(1);
  const policy = found[0]?.[1] as { Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } } | undefined;
  return policy?.Properties.PolicyDocument.Statement ?? [];
};
const roleIdOf = (fn: lambda.IFunction) => stack.getLogicalId(fn.role?.node.defaultChild as never);

describe("PlatformStack (two models, three versions)", () => {
  it("passes cdk-nag AwsSolutions and Serverless with zero unacknowledged findings", () => {
    expect(violations).toEqual([]);
  });

  it("creates each kind of resource the config calls for", () => {
    template.resourceCountIs("AWS::S3::Bucket", 2);
    template.resourceCountIs("AWS::KMS::Key", 1);
    template.resourceCountIs("AWS::DynamoDB::GlobalTable", 3);
    template.resourceCountIs("AWS::SageMaker::Model", 3);
    template.resourceCountIs("AWS::SageMaker::EndpointConfig", 2);
    template.resourceCountIs("AWS::SageMaker::Endpoint", 2);
    template.resourceCountIs("AWS::ApplicationAutoScaling::ScalableTarget", 3);
    template.resourceCountIs("AWS::ApplicationAutoScaling::ScalingPolicy", 3);
    template.resourceCountIs("AWS::ApiGateway::RestApi", 1);
    template.resourceCountIs("AWS::ApiGateway::Authorizer", 1);
    template.resourceCountIs("AWS::ApiGateway::Method", ROUTES.length);
    template.resourceCountIs("AWS::ApiGateway::GatewayResponse", GATEWAY_ERRORS.length);
    template.resourceCountIs("AWS::WAFv2::WebACLAssociation", 1);
    template.resourceCountIs("Custom::CDKBucketDeployment", 2);
    template.resourceCountIs("Custom::RegistrySeed", 1);
    template.resourceCountIs("AWS::CloudWatch::Dashboard", 1);
    // API 5xx rate, API p99 latency, one model-error alarm per endpoint, the aggregator's iterator age.
    template.resourceCountIs("AWS::CloudWatch::Alarm", 5);
    // The aggregator: its stream mapping and the queue of batches it could not apply.
    template.resourceCountIs("AWS::Lambda::EventSourceMapping", 1);
    template.resourceCountIs("AWS::SQS::Queue", 1);
    // The four handlers and the seed function (plus aws-cdk-lib's own x86 helpers).
    const handlers = template.findResources("AWS::Lambda::Function", { Properties: { Runtime: "nodejs24.x", Architectures: ["arm64"] } });
    // invoke, llm, authorizer, usage, admin, shadow, aggregator, and the registry seed.
    expect(Object.keys(handlers)).toHaveLength(8);
  });

  describe("ModelStore", () => {
    it("keeps artifacts in a versioned, KMS-encrypted, private bucket with access logs and a lifecycle", () => {
      template.hasResourceProperties("AWS::KMS::Key", { EnableKeyRotation: true });
      template.hasResourceProperties("AWS::S3::Bucket", {
        VersioningConfiguration: { Status: "Enabled" },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              BucketKeyEnabled: true,
              ServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: { "Fn::GetAtt": [keyId, "Arn"] } },
            },
          ],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LoggingConfiguration: { DestinationBucketName: { Ref: Match.anyValue() }, LogFilePrefix: "artifacts/" },
        LifecycleConfiguration: {
          Rules: Match.arrayWith([Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 90 }, Status: "Enabled" })]),
        },
      });
    });

    it("denies every non-TLS request to the artifact bucket", () => {
      template.hasResourceProperties("AWS::S3::BucketPolicy", {
        Bucket: { Ref: bucketId },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: "Deny", Action: "s3:*", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
          ]),
        },
      });
    });

    it("uploads local artifacts under models/<model>/<version>/ with their sha256", () => {
      template.hasResourceProperties("Custom::CDKBucketDeployment", {
        DestinationBucketKeyPrefix: "models/iris/1/",
        Prune: false,
        UserMetadata: { sha256: sha(onnx) },
      });
      template.hasResourceProperties("Custom::CDKBucketDeployment", {
        DestinationBucketKeyPrefix: "models/iris/2/",
        UserMetadata: { sha256: sha(tarball) },
      });
      const iris = [...stack.endpoints.values()].find((e) => e.modelName === "iris");
      expect(iris).toBeDefined();
    });
  });

  describe("ControlTables", () => {
    it.each(["identity", "registry", "usage"])("%s: on-demand, PITR, encrypted", (id) => {
      template.hasResourceProperties("AWS::DynamoDB::GlobalTable", {
        TableName: `mgtest-${id}`,
        BillingMode: "PAY_PER_REQUEST",
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
        SSESpecification: { SSEEnabled: true },
        Replicas: [
          Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true }, DeletionProtectionEnabled: true }),
        ],
      });
    });

    it("expires usage records by TTL and indexes identity and usage by gsi1", () => {
      template.hasResourceProperties("AWS::DynamoDB::GlobalTable", {
        TableName: "mgtest-usage",
        TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
        GlobalSecondaryIndexes: [Match.objectLike({ IndexName: "gsi1" })],
      });
      template.hasResourceProperties("AWS::DynamoDB::GlobalTable", {
        TableName: "mgtest-identity",
        TimeToLiveSpecification: Match.absent(),
        GlobalSecondaryIndexes: [Match.objectLike({ IndexName: "gsi1" })],
      });
      template.hasResourceProperties("AWS::DynamoDB::GlobalTable", {
        TableName: "mgtest-registry",
        GlobalSecondaryIndexes: Match.absent(),
      });
    });
  });

  describe("ModelEndpoint", () => {
    it("serves a local ONNX file as a Triton repository loaded uncompressed from its version prefix", () => {
      template.hasResourceProperties("AWS::SageMaker::Model", {
        EnableNetworkIsolation: true,
        PrimaryContainer: {
          Mode: "SingleModel",
          Image: { "Fn::Join": ["", Match.arrayWith([{ "Fn::FindInMap": ["ServingImageRegistries", { Ref: "AWS::Region" }, "triton"] }])] },
          Environment: { SAGEMAKER_TRITON_DEFAULT_MODEL_NAME: "iris" },
          ModelDataSource: {
            S3DataSource: {
              S3DataType: "S3Prefix",
              CompressionType: "None",
              S3Uri: { "Fn::Join": ["", ["s3://", { Ref: bucketId }, "/models/iris/1/"]] },
            },
          },
        },
      });
    });

    it("serves a local model.tar.gz through ModelDataUrl, and an s3:// prefix as given, on the TGI image", () => {
      template.hasResourceProperties("AWS::SageMaker::Model", {
        PrimaryContainer: { ModelDataUrl: { "Fn::Join": ["", ["s3://", { Ref: bucketId }, "/models/iris/2/model.tar.gz"]] } },
      });
      template.hasResourceProperties("AWS::SageMaker::Model", {
        PrimaryContainer: {
          Image: { "Fn::Join": ["", Match.arrayWith([{ "Fn::FindInMap": ["ServingImageRegistries", { Ref: "AWS::Region" }, "tgi"] }])] },
          Environment: { HF_MODEL_ID: "/opt/ml/model" },
          ModelDataSource: { S3DataSource: { S3Uri: "s3://external-models/llm/1/", S3DataType: "S3Prefix", CompressionType: "None" } },
        },
      });
      expect(template.toJSON().Mappings.ServingImageRegistries["us-east-1"]).toEqual({
        lmi: "763104351884",
        tgi: "763104351884",
        triton: "763104351884",
      });
    });

    it("has one production variant per version with its instance type and default-alias weight", () => {
      template.hasResourceProperties("AWS::SageMaker::EndpointConfig", {
        ProductionVariants: [
          Match.objectLike({ VariantName: "v1", InstanceType: "ml.c5.xlarge", InitialInstanceCount: 1, InitialVariantWeight: 90 }),
          Match.objectLike({ VariantName: "v2", InstanceType: "ml.m5.xlarge", InitialInstanceCount: 1, InitialVariantWeight: 10 }),
        ],
        // No instance storage on c5/m5: the ML volume is encrypted with the store key.
        KmsKeyId: { "Fn::GetAtt": [keyId, "Arn"] },
        DataCaptureConfig: Match.objectLike({ EnableCapture: true, InitialSamplingPercentage: 20 }),
      });
      template.hasResourceProperties("AWS::SageMaker::EndpointConfig", {
        ProductionVariants: [
          Match.objectLike({
            VariantName: "v1",
            InstanceType: "ml.g5.12xlarge",
            InitialInstanceCount: 2,
            InitialVariantWeight: 100,
            ContainerStartupHealthCheckTimeoutInSeconds: 900,
          }),
        ],
        // g5 has NVMe instance storage, where SageMaker refuses a KmsKeyId.
        KmsKeyId: Match.absent(),
      });
      template.hasResourceProperties("AWS::SageMaker::Endpoint", { EndpointName: "mgtest-iris" });
      template.hasResourceProperties("AWS::SageMaker::Endpoint", { EndpointName: "mgtest-llm" });
    });

    it("scales each variant on invocations per instance between the configured min and max", () => {
      template.hasResourceProperties("AWS::ApplicationAutoScaling::ScalableTarget", {
        ServiceNamespace: "sagemaker",
        ResourceId: "endpoint/mgtest-iris/variant/v1",
        ScalableDimension: "sagemaker:variant:DesiredInstanceCount",
        MinCapacity: 1,
        MaxCapacity: 3,
      });
      template.hasResourceProperties("AWS::ApplicationAutoScaling::ScalableTarget", {
        ResourceId: "endpoint/mgtest-llm/variant/v1",
        MinCapacity: 2,
        MaxCapacity: 4,
      });
      template.hasResourceProperties("AWS::ApplicationAutoScaling::ScalingPolicy", {
        PolicyType: "TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration: {
          PredefinedMetricSpecification: { PredefinedMetricType: "SageMakerVariantInvocationsPerInstance" },
          TargetValue: 500,
        },
      });
    });

    it("lets each execution role read only its own model's artifacts", () => {
      const iris = [...stack.endpoints.values()].find((e) => e.modelName === "iris");
      const llm = [...stack.endpoints.values()].find((e) => e.modelName === "llm");
      const irisStatements = policyOf(stack.getLogicalId(iris?.role.node.defaultChild as never));
      expect(irisStatements).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Action: "s3:GetObject",
            Resource: { "Fn::Join": ["", [{ "Fn::GetAtt": [bucketId, "Arn"] }, "/models/iris/*"]] },
          }),
          expect.objectContaining({
            Action: "s3:ListBucket",
            Condition: { StringLike: { "s3:prefix": ["models/iris/*"] } },
            Resource: { "Fn::GetAtt": [bucketId, "Arn"] },
          }),
          expect.objectContaining({ Action: "kms:Decrypt", Resource: { "Fn::GetAtt": [keyId, "Arn"] } }),
        ]),
      );
      expect(JSON.stringify(irisStatements)).not.toContain("models/llm");
      const llmStatements = policyOf(stack.getLogicalId(llm?.role.node.defaultChild as never));
      expect(llmStatements).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Action: "s3:GetObject",
            Resource: { "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":s3:::external-models/llm/1/*"]] },
          }),
        ]),
      );
      expect(JSON.stringify(llmStatements)).not.toContain("models/iris");
    });
  });

  describe("registry seed", () => {
    it("writes versions with endpoint, variant, artifact URI and sha256, and the initial aliases", () => {
      const seeds = template.findResources("Custom::RegistrySeed");
      const props = JSON.stringify(Object.values(seeds)[0]);
      expect(props).toContain(sha(onnx));
      expect(props).toContain(sha(tarball));
      for (const s of [
        '\\"endpointName\\":\\"mgtest-iris\\"',
        '\\"variantName\\":\\"v2\\"',
        "s3://external-models/llm/1/",
        "/models/iris/1/iris/1/model.onnx",
      ]) {
        expect(props).toContain(s);
      }
      template.hasResourceProperties("Custom::RegistrySeed", { TableName: { Ref: tableId("mgtest-registry") } });
    });
  });

  describe("functions", () => {
    it("bundles each handler with esbuild into minified ESM with a source map, Node.js 24 on arm64, traced", () => {
      for (const [name, f] of Object.entries(stack.functions)) {
        const cfn = f.function.node.defaultChild as lambda.CfnFunction;
        const code0 = template.toJSON().Resources[stack.getLogicalId(cfn)].Properties.Code as { S3Key: string };
        const assetDir = join(assemblyDir, `asset.${code0.S3Key.replace(/\.zip$/, "")}`);
        expect({ name, sourceMap: existsSync(join(assetDir, "index.mjs.map")) }).toEqual({ name, sourceMap: true });
        const code = readFileSync(join(assetDir, "index.mjs"), "utf8");
        const charsPerLine = code.length / code.split("\n").length;
        expect({ name, charsPerLine, minified: charsPerLine > 1000 }).toMatchObject({ minified: true });
      }
      template.hasResourceProperties("AWS::Lambda::Function", {
        Runtime: "nodejs24.x",
        Architectures: ["arm64"],
        Handler: "index.handler",
        TracingConfig: { Mode: "Active" },
        Environment: {
          Variables: Match.objectLike({
            IDENTITY_TABLE: "mgtest-identity",
            REGISTRY_TABLE: "mgtest-registry",
            USAGE_TABLE: "mgtest-usage",
            POWERTOOLS_SERVICE_NAME: "mgtest",
            POWERTOOLS_LOG_LEVEL: "INFO",
            MAX_BODY_BYTES: String(1024 * 1024),
            NODE_OPTIONS: "--enable-source-maps",
          }),
        },
        LoggingConfig: { LogGroup: Match.anyValue() },
      });
      template.allResourcesProperties("AWS::Logs::LogGroup", { RetentionInDays: Match.anyValue() });
    });

    it("gives the authorizer GetItem and UpdateItem on the identity table only", () => {
      const statements = policyOf(roleIdOf(stack.functions.authorizer.function));
      const data = statements.filter((s) => JSON.stringify(s.Action).includes("dynamodb:"));
      expect(data).toEqual([
        expect.objectContaining({
          Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
          Resource: { "Fn::GetAtt": [tableId("mgtest-identity"), "Arn"] },
        }),
      ]);
      expect(JSON.stringify(statements)).not.toContain("sagemaker:");
    });

    it("lets invoke call only this platform's endpoints and write only the usage table", () => {
      const statements = policyOf(roleIdOf(stack.functions.invoke.function));
      const endpointArn = (name: string) => ({
        "Fn::Join": [
          "",
          ["arn:", { Ref: "AWS::Partition" }, ":sagemaker:", { Ref: "AWS::Region" }, ":", { Ref: "AWS::AccountId" }, `:endpoint/${name}`],
        ],
      });
      expect(statements).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Action: ["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"],
            Resource: [endpointArn("mgtest-iris"), endpointArn("mgtest-llm")],
          }),
          expect.objectContaining({
            Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"],
            Resource: { "Fn::GetAtt": [tableId("mgtest-usage"), "Arn"] },
          }),
          // Shadow copies: only the shadow function, unqualified.
          expect.objectContaining({
            Action: "lambda:InvokeFunction",
            Resource: { "Fn::GetAtt": [expect.stringMatching(/^Fnshadow/), "Arn"] },
          }),
        ]),
      );
      // No access records on the request path (issue 15): reconciliation reads the gateway's access log.
      expect(JSON.stringify(statements)).not.toMatch(/ACCESS#|BatchWriteItem/);
      // Lease reclaim reads records: a query of the table only in REC# partitions, and of gsi1
      // (records written before those); no other query of the usage table.
      const queries = statements.filter((s) => JSON.stringify(s.Action) === JSON.stringify("dynamodb:Query"));
      expect(queries).toEqual([
        expect.objectContaining({
          Resource: { "Fn::GetAtt": [tableId("mgtest-usage"), "Arn"] },
          Condition: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["REC#*"] } },
        }),
        expect.objectContaining({
          Resource: { "Fn::Join": ["", [{ "Fn::GetAtt": [tableId("mgtest-usage"), "Arn"] }, "/index/gsi1"]] },
        }),
      ]);
      expect(queries[1]).not.toHaveProperty("Condition");
      // The principal comes from the authorizer context: no read of the identity table.
      expect(JSON.stringify(statements)).not.toContain(tableId("mgtest-identity"));
    });

    it("expires captured model data with a lifecycle rule on data-capture/", () => {
      template.hasResourceProperties("AWS::S3::Bucket", {
        VersioningConfiguration: { Status: "Enabled" },
        LifecycleConfiguration: {
          Rules: Match.arrayWith([
            Match.objectLike({
              Id: "expire-data-capture",
              Prefix: "data-capture/",
              ExpirationInDays: 30,
              NoncurrentVersionExpiration: { NoncurrentDays: 1 },
              Status: "Enabled",
            }),
          ]),
        },
      });
    });

    it("lets the usage function update only LIMIT# items of the usage table (its per-tenant read rate)", () => {
      const statements = policyOf(roleIdOf(stack.functions.usage.function));
      const writes = statements.filter((s) => /PutItem|UpdateItem|DeleteItem|BatchWriteItem/.test(JSON.stringify(s.Action)));
      expect(writes).toEqual([
        expect.objectContaining({
          Action: "dynamodb:UpdateItem",
          Resource: { "Fn::GetAtt": [tableId("mgtest-usage"), "Arn"] },
          Condition: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["LIMIT#*"] } },
        }),
      ]);
    });

    it("lets admin read and delete only staged uploads and write only under models/", () => {
      const statements = policyOf(roleIdOf(stack.functions.admin.function));
      const s3 = statements.filter((s) => JSON.stringify(s.Action).includes("s3:"));
      expect(s3).toEqual([
        expect.objectContaining({
          Action: ["s3:GetObject", "s3:DeleteObject"],
          Resource: expect.objectContaining({ "Fn::Join": expect.anything() }),
        }),
        expect.objectContaining({ Action: "s3:PutObject" }),
      ]);
      expect(JSON.stringify(s3[0]?.Resource)).toContain("/uploads/*");
      expect(JSON.stringify(s3[1]?.Resource)).toContain("/models/*");
      // Reconciliation repairs: records and aggregates only, never a delete of usage.
      expect(statements).toContainEqual(
        expect.objectContaining({
          Action: ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"],
          Resource: { "Fn::GetAtt": [tableId("mgtest-usage"), "Arn"] },
        }),
      );
      const env = template.findResources("AWS::Lambda::Function", { Properties: { Description: Match.stringLikeRegexp("^Admin API") } });
      const vars = Object.values(env)[0]?.Properties?.Environment?.Variables ?? {};
      expect(vars).toMatchObject({ MODEL_BUCKET: expect.anything(), REGISTRY_CACHE_TTL_MS: "5000", MAX_KEYS_PER_TENANT: "10" });
      // Versions become ready by a deploy in the cloud: its composition root says so, not a variable.
      expect(vars).not.toHaveProperty("VERSION_ACTIVATION");
    });

    it("lets admin query only the API stage's access log (reconciliation), named in its environment", () => {
      const statements = policyOf(roleIdOf(stack.functions.admin.function));
      const logGroupId = stack.getLogicalId(stack.gateway.accessLogs.node.defaultChild as never);
      const logs = statements.filter((s) => /logs:(StartQuery|GetQueryResults)/.test(JSON.stringify(s.Action)));
      expect(logs).toEqual([
        expect.objectContaining({ Action: "logs:StartQuery", Resource: expect.arrayContaining([{ "Fn::GetAtt": [logGroupId, "Arn"] }]) }),
        expect.objectContaining({ Action: "logs:GetQueryResults", Resource: "*" }),
      ]);
      expect(JSON.stringify(logs[0]?.Resource)).toContain(`:log-group:`);
      const env = template.findResources("AWS::Lambda::Function", { Properties: { Description: Match.stringLikeRegexp("^Admin API") } });
      expect(Object.values(env)[0]?.Properties?.Environment?.Variables).toMatchObject({ ACCESS_LOG_GROUP: { Ref: logGroupId } });
      // No other function reads logs.
      for (const [name, f] of Object.entries(stack.functions))
        if (name !== "admin") expect(JSON.stringify(policyOf(roleIdOf(f.function)))).not.toContain("logs:StartQuery");
    });

    it("uses no wildcard resource except where AWS requires one", () => {
      for (const f of Object.values(stack.functions)) {
        for (const s of policyOf(roleIdOf(f.function))) {
          // X-Ray's actions and Logs Insights' results (by query id) have no resource-level permissions.
          if (s.Resource === "*")
            expect([["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "logs:GetQueryResults"]).toContainEqual(s.Action);
          expect(JSON.stringify(s.Resource)).not.toContain("/index/*");
        }
      }
    });
  });

  describe("GatewayApi", () => {
    it("is a regional REST API with a cached REQUEST authorizer on the Authorization header", () => {
      template.hasResourceProperties("AWS::ApiGateway::RestApi", { EndpointConfiguration: { Types: ["REGIONAL"] } });
      template.hasResourceProperties("AWS::ApiGateway::Authorizer", {
        Type: "REQUEST",
        IdentitySource: "method.request.header.Authorization",
        AuthorizerResultTtlInSeconds: 30,
      });
    });

    it("generates one method per route with the route's authorization", () => {
      const methods = Object.values(template.findResources("AWS::ApiGateway::Method")).map(
        (m) => (m as { Properties: { AuthorizationType: string; HttpMethod: string } }).Properties,
      );
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

    it("streams the OpenAI routes from the LLM function, with a 15-minute integration timeout", () => {
      const llmFn = logicalIdOf(template, "AWS::Lambda::Function", { Description: Match.stringLikeRegexp("^OpenAI routes") });
      template.hasResourceProperties("AWS::Lambda::Function", { Description: Match.stringLikeRegexp("^OpenAI routes"), Timeout: 900 });
      // POST /v1/chat/completions and POST /v1/completions, both on the LLM function.
      const methods = Object.values(template.findResources("AWS::ApiGateway::Method", { Properties: { HttpMethod: "POST" } })).filter((m) =>
        JSON.stringify(m).includes(llmFn),
      );
      expect(methods).toHaveLength(2);
      for (const m of methods) {
        expect((m as { Properties: { Integration: Record<string, unknown> } }).Properties.Integration).toMatchObject({
          Type: "AWS_PROXY",
          ResponseTransferMode: "STREAM",
          TimeoutInMillis: 900_000,
        });
      }
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

  describe("observability and outputs", () => {
    it("has a dashboard with GPU utilization per variant and alarms on 5xx rate and latency", () => {
      const dashboard = JSON.stringify(template.findResources("AWS::CloudWatch::Dashboard"));
      for (const s of ["GPUUtilization", "ModelLatency", "mgtest-iris", "mgtest-llm", "5XXError"]) expect(dashboard).toContain(s);
      template.hasResourceProperties("AWS::CloudWatch::Alarm", {
        Threshold: 0.01,
        Metrics: Match.arrayWith([Match.objectLike({ Expression: "IF(requests > 0, errors / requests, 0)" })]),
      });
      template.hasResourceProperties("AWS::CloudWatch::Alarm", { MetricName: "Latency", ExtendedStatistic: "p99", Threshold: 25_000 });
    });

    it("graphs the invoke handler's EMF metrics per tenant and model with SEARCH, in the namespace it writes", () => {
      const dashboards = Object.values(template.findResources("AWS::CloudWatch::Dashboard"));
      expect(dashboards).toHaveLength(1);
      // The body is a Fn::Join of JSON text and tokens (region): stand-ins for the tokens, then parse.
      type JoinedBody = { "Fn::Join": [string, unknown[]] };
      const parts = (dashboards[0] as { Properties: { DashboardBody: JoinedBody } }).Properties.DashboardBody["Fn::Join"][1];
      const body = JSON.parse(parts.map((p) => (typeof p === "string" ? p : "TOKEN")).join("")) as {
        widgets: Array<{ properties: { title?: string; metrics?: unknown[][] } }>;
      };
      const expressionsOf = (title: string) =>
        body.widgets
          .filter((w) => w.properties.title === title)
          .flatMap((w) => w.properties.metrics ?? [])
          .map((m) => (m[0] as { expression?: string }).expression);
      // The schema names every dimension the documents carry (Powertools adds `service`), or SEARCH finds nothing.
      expect(expressionsOf("Requests by tenant")).toEqual([`SEARCH('{mgtest,service,tenant,model} MetricName="Requests"', 'Sum', 60)`]);
      expect(expressionsOf("Errors by tenant")).toEqual([
        `SEARCH('{mgtest,service,tenant,model} MetricName="Errors"', 'Sum', 60)`,
        `SEARCH('{mgtest,service,tenant,model} MetricName="ClientErrors"', 'Sum', 60)`,
      ]);
      expect(expressionsOf("Latency p50/p99 by model")).toEqual([
        `SEARCH('{mgtest,service,tenant,model} MetricName="Latency"', 'p50', 60)`,
        `SEARCH('{mgtest,service,tenant,model} MetricName="Latency"', 'p99', 60)`,
      ]);
      expect(expressionsOf("Tokens by tenant")).toHaveLength(2);
      const invokeId = stack.getLogicalId(stack.functions.invoke.function.node.defaultChild as lambda.CfnFunction);
      expect(template.toJSON().Resources[invokeId].Properties.Environment.Variables).toMatchObject({
        POWERTOOLS_METRICS_NAMESPACE: "mgtest",
        POWERTOOLS_SERVICE_NAME: "mgtest",
      });
    });

    it("outputs the API URL, bucket name and table names", () => {
      const outputs = template.toJSON().Outputs as Record<string, unknown>;
      for (const o of ["ApiUrl", "ModelBucketName", "IdentityTableName", "RegistryTableName", "UsageTableName"])
        expect(outputs).toHaveProperty(o);
    });
  });
});
