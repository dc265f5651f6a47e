import { describe, expect, it } from "@jest/globals";
import { Match } from "aws-cdk-lib/assertions";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import { artifactDir, logicalIdOf, permissionsOfRole, sortedByJson, synthPlatform } from "./fixtures";

// Two pools, three models: an LLM and a vision model sharing a GPU pool, the vision model's
// second version and iris's second on a CPU pool, and iris's first in the variant layout.
const dir = artifactDir({
  "vision/1/model.onnx": "vision v1",
  "vision/2/model.onnx": "vision v2",
  "iris/1/model.onnx": "iris v1",
  "iris/2/model.onnx": "iris v2",
});
const config = {
  name: "mgpools",
  pools: {
    gpu: { instanceType: "ml.g5.12xlarge", instances: { min: 0, max: 3, initial: 1 } },
    cpu: { instanceType: "ml.c5.2xlarge", instances: { min: 1, max: 2 }, routingStrategy: "RANDOM" },
  },
  models: {
    chat: {
      versions: [
        {
          version: 1,
          artifact: "s3://external-models/chat/1/",
          runtime: "lmi",
          placement: { pool: "gpu", accelerators: 2, cpus: 8, memoryMiB: 65536, copies: { min: 1, max: 2 } },
        },
      ],
      aliases: { prod: 1 },
    },
    vision: {
      versions: [
        {
          version: 1,
          artifact: "vision/1/model.onnx",
          placement: { pool: "gpu", accelerators: 1, cpus: 2, memoryMiB: 8192, copies: { min: 0, max: 2 }, idleSeconds: 900 },
        },
        {
          version: 2,
          artifact: "vision/2/model.onnx",
          placement: { pool: "cpu", cpus: 2, memoryMiB: 4096, copies: { min: 1, max: 3, initial: 2 }, targetConcurrentRequestsPerCopy: 8 },
        },
      ],
      aliases: { prod: 1, next: 2 },
    },
    iris: {
      versions: [
        { version: 1, artifact: "iris/1/model.onnx", instanceType: "ml.c5.xlarge", instances: { initial: 1, min: 1, max: 2 } },
        { version: 2, artifact: "iris/2/model.onnx", placement: { pool: "cpu", cpus: 1, memoryMiB: 1024, copies: { min: 0, max: 1 } } },
      ],
      aliases: { prod: 1, staging: 2 },
    },
  },
};

const { stack, template, violations } = synthPlatform({ config, baseDir: dir });
const arn = (resource: string) => ({
  "Fn::Join": [
    "",
    ["arn:", { Ref: "AWS::Partition" }, ":sagemaker:", { Ref: "AWS::Region" }, ":", { Ref: "AWS::AccountId" }, `:${resource}`],
  ],
});
const poolEndpointId = (name: string) => logicalIdOf(template, "AWS::SageMaker::Endpoint", { EndpointName: name });
const componentId = (name: string) => logicalIdOf(template, "AWS::SageMaker::InferenceComponent", { InferenceComponentName: name });
const roleStatements = (fn: lambda.IFunction) => {
  const roleId = stack.getLogicalId(fn.role?.node.defaultChild as never);
  const policies = Object.values(template.findResources("AWS::IAM::Policy")).filter((p) =>
    JSON.stringify((p as { Properties: { Roles: unknown } }).Properties.Roles).includes(roleId),
  ) as Array<{ Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } }>;
  expect(policies).toHaveLength(1);
  return policies[0]?.Properties.PolicyDocument.Statement ?? [];
};

describe("pools and inference components (two pools, three models)", () => {
  it("passes cdk-nag AwsSolutions and Serverless with zero unacknowledged findings", () => {
    expect(violations).toEqual([]);
  });

  it("gives each pool an endpoint whose one variant has managed instance scaling, routing and an execution role", () => {
    template.resourceCountIs("AWS::SageMaker::Endpoint", 3);
    template.hasResourceProperties("AWS::SageMaker::EndpointConfig", {
      ExecutionRoleArn: { "Fn::GetAtt": [Match.stringLikeRegexp("^Poolgpu"), "Arn"] },
      ProductionVariants: [
        {
          VariantName: "AllTraffic",
          InstanceType: "ml.g5.12xlarge",
          InitialInstanceCount: 1,
          ManagedInstanceScaling: { Status: "ENABLED", MinInstanceCount: 0, MaxInstanceCount: 3 },
          RoutingConfig: { RoutingStrategy: "LEAST_OUTSTANDING_REQUESTS" },
        },
      ],
      // g5 has NVMe instance storage, where SageMaker refuses a KmsKeyId.
      KmsKeyId: Match.absent(),
    });
    template.hasResourceProperties("AWS::SageMaker::EndpointConfig", {
      ProductionVariants: [
        Match.objectLike({
          InstanceType: "ml.c5.2xlarge",
          InitialInstanceCount: 1,
          ManagedInstanceScaling: { Status: "ENABLED", MinInstanceCount: 1, MaxInstanceCount: 2 },
          RoutingConfig: { RoutingStrategy: "RANDOM" },
        }),
      ],
      KmsKeyId: Match.anyValue(),
    });
    poolEndpointId("mgpools-pool-gpu");
    poolEndpointId("mgpools-pool-cpu");
    // The version without a placement keeps its model's endpoint with a variant.
    template.hasResourceProperties("AWS::SageMaker::EndpointConfig", {
      ProductionVariants: [Match.objectLike({ VariantName: "v1", InstanceType: "ml.c5.xlarge", ModelName: Match.anyValue() })],
    });
    poolEndpointId("mgpools-iris");
  });

  it("places each version as a component with its compute requirements and initial copies", () => {
    template.resourceCountIs("AWS::SageMaker::InferenceComponent", 4);
    template.hasResourceProperties("AWS::SageMaker::InferenceComponent", {
      InferenceComponentName: "mgpools-chat-v1",
      EndpointName: { "Fn::GetAtt": [poolEndpointId("mgpools-pool-gpu"), "EndpointName"] },
      VariantName: "AllTraffic",
      Specification: {
        ModelName: { "Fn::GetAtt": [Match.stringLikeRegexp("^Componentschatv1Model"), "ModelName"] },
        ComputeResourceRequirements: { NumberOfAcceleratorDevicesRequired: 2, NumberOfCpuCoresRequired: 8, MinMemoryRequiredInMb: 65536 },
        StartupParameters: {
          ContainerStartupHealthCheckTimeoutInSeconds: Match.anyValue(),
          ModelDataDownloadTimeoutInSeconds: Match.anyValue(),
        },
      },
      RuntimeConfig: { CopyCount: 1 },
    });
    // vLLM shards over the two GPUs the component reserves, not every GPU of the instance.
    template.hasResourceProperties("AWS::SageMaker::Model", {
      PrimaryContainer: Match.objectLike({
        Environment: Match.objectLike({ OPTION_SERVED_MODEL_NAME: "chat", TENSOR_PARALLEL_DEGREE: "2" }),
      }),
    });
    template.hasResourceProperties("AWS::SageMaker::InferenceComponent", {
      InferenceComponentName: "mgpools-vision-v1",
      Specification: Match.objectLike({
        ComputeResourceRequirements: { NumberOfAcceleratorDevicesRequired: 1, NumberOfCpuCoresRequired: 2, MinMemoryRequiredInMb: 8192 },
      }),
      // A scale-to-zero component starts awake, with one copy.
      RuntimeConfig: { CopyCount: 1 },
    });
    template.hasResourceProperties("AWS::SageMaker::InferenceComponent", {
      InferenceComponentName: "mgpools-vision-v2",
      EndpointName: { "Fn::GetAtt": [poolEndpointId("mgpools-pool-cpu"), "EndpointName"] },
      Specification: Match.objectLike({
        // No accelerator on a CPU pool: the field is left out, not sent as 0.
        ComputeResourceRequirements: { NumberOfCpuCoresRequired: 2, MinMemoryRequiredInMb: 4096 },
      }),
      RuntimeConfig: { CopyCount: 2 },
    });
    template.hasResourceProperties("AWS::SageMaker::InferenceComponent", {
      InferenceComponentName: "mgpools-iris-v2",
      RuntimeConfig: { CopyCount: 1 },
    });
    // Each component's model is its own SageMaker Model, with the model's own role.
    template.hasResourceProperties("AWS::SageMaker::Model", {
      ExecutionRoleArn: { "Fn::GetAtt": [Match.stringLikeRegexp("^ComponentsvisionExecutionRole"), "Arn"] },
      PrimaryContainer: Match.objectLike({ Mode: "SingleModel" }),
    });
  });

  it("scales each component's copy count between copies.min and copies.max on concurrent requests per copy", () => {
    const targets = [
      ["mgpools-chat-v1", 1, 2],
      ["mgpools-vision-v1", 0, 2],
      ["mgpools-vision-v2", 1, 3],
      ["mgpools-iris-v2", 0, 1],
    ] as const;
    for (const [name, min, max] of targets) {
      template.hasResourceProperties("AWS::ApplicationAutoScaling::ScalableTarget", {
        ServiceNamespace: "sagemaker",
        ResourceId: `inference-component/${name}`,
        ScalableDimension: "sagemaker:inference-component:DesiredCopyCount",
        MinCapacity: min,
        MaxCapacity: max,
        RoleARN: Match.anyValue(),
      });
    }
    // Registered only once the component exists (Application Auto Scaling checks it).
    for (const [name] of targets) {
      const found = Object.values(
        template.findResources("AWS::ApplicationAutoScaling::ScalableTarget", {
          Properties: { ResourceId: `inference-component/${name}` },
        }),
      ) as Array<{ DependsOn?: string[] }>;
      expect(found[0]?.DependsOn).toContain(componentId(name));
    }
    // One variant target (iris v1) and four component targets.
    template.resourceCountIs("AWS::ApplicationAutoScaling::ScalableTarget", 5);
    const tracking = (target: number, scaleIn: number) => ({
      PolicyType: "TargetTrackingScaling",
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: "SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution" },
        TargetValue: target,
        ScaleInCooldown: scaleIn,
        ScaleOutCooldown: 60,
      },
    });
    // vision v1 scales to zero: its last copy goes no sooner than idleSeconds (900) after the previous scale-in.
    template.hasResourceProperties("AWS::ApplicationAutoScaling::ScalingPolicy", tracking(4, 900));
    template.hasResourceProperties("AWS::ApplicationAutoScaling::ScalingPolicy", tracking(8, 300));
    // iris v2: the default idle time, 600 s.
    template.hasResourceProperties("AWS::ApplicationAutoScaling::ScalingPolicy", tracking(4, 600));
  });

  it("wakes each scale-to-zero component with +1 copy when its NoCapacityInvocationFailures alarm fires", () => {
    const steps = template.findResources("AWS::ApplicationAutoScaling::ScalingPolicy", { Properties: { PolicyType: "StepScaling" } });
    // Only the two components with copies.min 0.
    expect(Object.keys(steps)).toHaveLength(2);
    for (const name of ["mgpools-vision-v1", "mgpools-iris-v2"]) {
      const alarms = template.findResources("AWS::CloudWatch::Alarm", {
        Properties: { MetricName: "NoCapacityInvocationFailures", Dimensions: [{ Name: "InferenceComponentName", Value: name }] },
      });
      expect(Object.keys(alarms)).toHaveLength(1);
      const alarm = Object.values(alarms)[0] as { Properties: Record<string, unknown> };
      expect(alarm.Properties).toMatchObject({
        Namespace: "AWS/SageMaker",
        Statistic: "Sum",
        Period: 60,
        Threshold: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
        EvaluationPeriods: 1,
      });
      const [policyId] = (alarm.Properties.AlarmActions as Array<{ Ref: string }>).map((a) => a.Ref);
      const policy = steps[policyId ?? ""] as { Properties: Record<string, unknown> } | undefined;
      expect(policy?.Properties).toMatchObject({
        ScalingTargetId: {
          Ref: logicalIdOf(template, "AWS::ApplicationAutoScaling::ScalableTarget", { ResourceId: `inference-component/${name}` }),
        },
        StepScalingPolicyConfiguration: {
          AdjustmentType: "ChangeInCapacity",
          StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 1 }],
        },
      });
    }
    expect(
      Object.keys(template.findResources("AWS::CloudWatch::Alarm", { Properties: { MetricName: "NoCapacityInvocationFailures" } })),
    ).toHaveLength(2);
  });

  it("alarms on each pool's model errors (its components' 5xx) and charts its components", () => {
    const alarm = Object.values(
      template.findResources("AWS::CloudWatch::Alarm", {
        Properties: { AlarmDescription: "mgpools-pool-gpu: model containers returned 5xx" },
      }),
    )[0] as { Properties: { Metrics: Array<{ MetricStat?: { Metric: { MetricName: string; Dimensions: unknown } } }> } } | undefined;
    const summed = (alarm?.Properties.Metrics ?? []).flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric] : []));
    expect(summed).toEqual([
      {
        Namespace: "AWS/SageMaker",
        MetricName: "Invocation5XXErrors",
        Dimensions: [{ Name: "InferenceComponentName", Value: "mgpools-chat-v1" }],
      },
      {
        Namespace: "AWS/SageMaker",
        MetricName: "Invocation5XXErrors",
        Dimensions: [{ Name: "InferenceComponentName", Value: "mgpools-vision-v1" }],
      },
    ]);
    const body = JSON.stringify(template.findResources("AWS::CloudWatch::Dashboard"));
    expect(body).toContain("mgpools-pool-cpu: requests that found no copy (waking from zero)");
    expect(body).toContain("NoCapacityInvocationFailures");
  });

  it("lets the model routes invoke exactly the pool endpoints, their components and the variant endpoint", () => {
    const targets = [
      arn("endpoint/mgpools-iris"),
      arn("endpoint/mgpools-pool-gpu"),
      arn("endpoint/mgpools-pool-cpu"),
      arn("inference-component/mgpools-chat-v1"),
      arn("inference-component/mgpools-vision-v1"),
      arn("inference-component/mgpools-vision-v2"),
      arn("inference-component/mgpools-iris-v2"),
    ];
    const resourcesOf = (fn: lambda.IFunction, action: string) =>
      sortedByJson(
        permissionsOfRole(template, stack.getLogicalId(fn.role?.node.defaultChild as never))
          .permissions.filter((p) => p.action === action)
          .map((p) => p.resource),
      );
    for (const fn of [stack.functions.invoke.function, stack.functions.llm.function]) {
      expect(resourcesOf(fn, "sagemaker:InvokeEndpoint")).toEqual(sortedByJson(targets));
    }
    // Only the OpenAI routes stream.
    expect(resourcesOf(stack.functions.llm.function, "sagemaker:InvokeEndpointWithResponseStream")).toEqual(sortedByJson(targets));
    expect(resourcesOf(stack.functions.invoke.function, "sagemaker:InvokeEndpointWithResponseStream")).toEqual([]);
    expect(resourcesOf(stack.functions.shadow.function, "sagemaker:InvokeEndpoint")).toEqual(sortedByJson(targets));
    expect(resourcesOf(stack.functions.shadow.function, "sagemaker:InvokeEndpointWithResponseStream")).toEqual([]);
    const sagemakerResources = [stack.functions.invoke, stack.functions.llm, stack.functions.shadow].flatMap((f) =>
      roleStatements(f.function)
        .filter((s) => JSON.stringify(s.Action).includes("sagemaker:"))
        .flatMap((s) => s.Resource as unknown[]),
    );
    expect(JSON.stringify(sagemakerResources)).not.toContain("*");
  });

  it("lets each component role read only its own model's artifacts and write only its components' logs", () => {
    const vision = stack.components.get("vision");
    const roleId = stack.getLogicalId(vision?.role.node.defaultChild as never);
    const policies = Object.values(template.findResources("AWS::IAM::Policy")).filter((p) =>
      JSON.stringify((p as { Properties: { Roles: unknown } }).Properties.Roles).includes(roleId),
    );
    const text = JSON.stringify(policies);
    expect(text).toContain("/models/vision/*");
    expect(text).not.toMatch(/models\/(iris|chat)/);
    expect(text).toContain("/aws/sagemaker/InferenceComponents/mgpools-vision-v1");
    expect(text).toContain("/aws/sagemaker/InferenceComponents/mgpools-vision-v2");
    expect(text).not.toContain("InferenceComponents/mgpools-iris");
  });

  it("seeds placed versions with their pool endpoint and component, variant versions unchanged", () => {
    const seed = JSON.stringify(Object.values(template.findResources("Custom::RegistrySeed"))[0]);
    expect(seed).toContain(
      '\\"endpointName\\":\\"mgpools-pool-gpu\\",\\"variantName\\":\\"AllTraffic\\",\\"inferenceComponentName\\":\\"mgpools-vision-v1\\"',
    );
    expect(seed).toContain('\\"endpointName\\":\\"mgpools-iris\\",\\"variantName\\":\\"v1\\"');
  });
});
