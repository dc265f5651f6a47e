import { Duration } from "aws-cdk-lib";
import * as appscaling from "aws-cdk-lib/aws-applicationautoscaling";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as cwactions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as iam from "aws-cdk-lib/aws-iam";
import * as sagemaker from "aws-cdk-lib/aws-sagemaker";
import { Construct } from "constructs";
import { isLlmRuntime } from "../../../functions/contract/runtimes";
import { componentLogGroup, inferenceComponentName, POOL_VARIANT_NAME } from "../../../functions/contract/sagemaker-names";
import { type ComponentVersionConfig, isComponentVersion, type ModelConfig } from "../../shared/config-schema";
import { initialCopies } from "../../shared/pool-schema";
import type { InstancePool } from "./instance-pool";
import { LLM_DOWNLOAD_TIMEOUT_S, LLM_STARTUP_TIMEOUT_S } from "./llm-container";
import type { IInvocationTarget } from "./model-endpoint";
import type { ModelStore, StoredArtifact } from "./model-store";
import { grantImagePulls, grantRuntimeBasics, type ServingModelOptions, sageMakerScalingRole, servingModel } from "./serving-model";

export interface InferenceComponentProps {
  /** The component's SageMaker name (`inferenceComponentName`). */
  readonly componentName: string;
  /** The version placed on the pool; its `placement` sizes and scales the component. */
  readonly version: ComponentVersionConfig;
  readonly pool: InstancePool;
  /** How the component's SageMaker Model is built (the model's role, artifacts, image repositories). */
  readonly serving: ServingModelOptions;
  /** Add copies no faster than this. @default Duration.minutes(1) */
  readonly scaleOutCooldown?: Duration;
  /**
   * Remove copies no faster than this. @default Duration.minutes(5); for a scale-to-zero
   * component, `placement.idleSeconds`
   */
  readonly scaleInCooldown?: Duration;
}

/**
 * One version as an inference component on a pool's endpoint: its SageMaker Model, the
 * component reserving accelerators/CPUs/memory per copy with its initial copy count, and
 * Application Auto Scaling on `DesiredCopyCount` between copies.min and copies.max.
 *
 * Target tracking follows SageMaker's high-resolution ConcurrentRequestsPerCopy
 * (SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution) rather than
 * InvocationsPerCopy: it is emitted every 10 s while copies exist, zero included, so scaling sees
 * an idle component (and can take a scale-to-zero one to zero copies) and reacts within seconds
 * to long LLM generations that a per-minute invocation count understates. A component at zero
 * copies emits nothing to track, so for copies.min 0 a step policy (+1 copy) on the
 * `NoCapacityInvocationFailures` alarm of this component wakes it: the documented scale-from-zero
 * pattern.
 */
export class InferenceComponent extends Construct implements IInvocationTarget {
  readonly componentName: string;
  readonly componentArn: string;
  /** The pool's endpoint, which a call names beside the component. */
  readonly endpointArn: string;
  /** The pool it is placed on. */
  readonly poolName: string;
  readonly version: number;
  readonly model: sagemaker.CfnModel;
  readonly component: sagemaker.CfnInferenceComponent;
  readonly scalableTarget: appscaling.ScalableTarget;
  /** Scale to zero only: the +1 copy step policy, and the alarm on NoCapacityInvocationFailures that triggers it. */
  readonly wakePolicy?: appscaling.StepScalingAction;
  readonly wakeAlarm?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: InferenceComponentProps) {
    super(scope, id);
    const { version: v, pool, componentName } = props;
    const { placement } = v;
    if (placement.pool !== pool.poolName) {
      throw new Error(
        `InferenceComponent ${this.node.path}: version ${v.version} is placed on pool '${placement.pool}', not '${pool.poolName}'`,
      );
    }
    this.componentName = componentName;
    this.componentArn = pool.inferenceComponentArn(componentName);
    this.endpointArn = pool.endpointArn;
    this.poolName = pool.poolName;
    this.version = v.version;

    this.model = servingModel(this, "Model", v, props.serving);
    this.component = new sagemaker.CfnInferenceComponent(this, "Resource", {
      inferenceComponentName: componentName,
      // The endpoint's attribute orders the component after the pool's endpoint.
      endpointName: pool.endpoint.attrEndpointName,
      variantName: POOL_VARIANT_NAME,
      specification: {
        modelName: this.model.attrModelName,
        computeResourceRequirements: {
          ...(placement.accelerators > 0 ? { numberOfAcceleratorDevicesRequired: placement.accelerators } : {}),
          numberOfCpuCoresRequired: placement.cpus,
          minMemoryRequiredInMb: placement.memoryMiB,
        },
        ...(isLlmRuntime(v.runtime)
          ? {
              startupParameters: {
                containerStartupHealthCheckTimeoutInSeconds: LLM_STARTUP_TIMEOUT_S,
                modelDataDownloadTimeoutInSeconds: LLM_DOWNLOAD_TIMEOUT_S,
              },
            }
          : {}),
      },
      runtimeConfig: { copyCount: initialCopies(placement) },
    });

    const scaleToZero = placement.copies.min === 0;
    this.scalableTarget = new appscaling.ScalableTarget(this, "Scaling", {
      serviceNamespace: appscaling.ServiceNamespace.SAGEMAKER,
      resourceId: `inference-component/${componentName}`,
      scalableDimension: "sagemaker:inference-component:DesiredCopyCount",
      minCapacity: placement.copies.min,
      maxCapacity: placement.copies.max,
      role: sageMakerScalingRole(this),
    });
    this.scalableTarget.node.addDependency(this.component);
    this.scalableTarget.scaleToTrackMetric("ConcurrentRequestsPerCopy", {
      predefinedMetric: appscaling.PredefinedMetric.SAGEMAKER_INFERENCE_COMPONENT_CONCURRENT_REQUESTS_PER_COPY_HIGH_RESOLUTION,
      targetValue: placement.targetConcurrentRequestsPerCopy,
      // For a scale-to-zero component the last copy goes no sooner than idleSeconds after the previous scale-in.
      scaleInCooldown: props.scaleInCooldown ?? (scaleToZero ? Duration.seconds(placement.idleSeconds) : Duration.minutes(5)),
      scaleOutCooldown: props.scaleOutCooldown ?? Duration.minutes(1),
    });

    if (scaleToZero) {
      this.wakePolicy = new appscaling.StepScalingAction(this, "WakeFromZero", {
        scalingTarget: this.scalableTarget,
        adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
        metricAggregationType: appscaling.MetricAggregationType.MAXIMUM,
        cooldown: Duration.minutes(1),
      });
      this.wakePolicy.addAdjustment({ adjustment: 1, lowerBound: 0 });
      this.wakeAlarm = new cloudwatch.Alarm(this, "NoCapacityAlarm", {
        alarmDescription: `${componentName}: a request found no copy (scaled to zero); add one`,
        metric: this.metricNoCapacityInvocationFailures(),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        treatMissingData: cloudwatch.TreatMissingData.MISSING,
      });
      this.wakeAlarm.addAlarmAction(new cwactions.ApplicationScalingAction(this.wakePolicy));
    }
  }

  /**
   * InvokeEndpoint of this component: a call with InferenceComponentName is authorized on the
   * pool's endpoint and on the component (its own ARN, not under the endpoint's).
   */
  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ["sagemaker:InvokeEndpoint"],
      resourceArns: [this.endpointArn, this.componentArn],
    });
  }

  /** InvokeEndpointWithResponseStream of this component, authorized as grantInvoke. */
  grantInvokeWithResponseStream(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ["sagemaker:InvokeEndpointWithResponseStream"],
      resourceArns: [this.endpointArn, this.componentArn],
    });
  }

  /** A metric of this component (namespace AWS/SageMaker, dimension InferenceComponentName). */
  metric(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: "AWS/SageMaker",
      metricName,
      dimensionsMap: { InferenceComponentName: this.componentName },
      period: Duration.minutes(1),
      ...props,
    });
  }

  /** Requests the component could not serve because it had no copy. */
  metricNoCapacityInvocationFailures(): cloudwatch.Metric {
    return this.metric("NoCapacityInvocationFailures", { statistic: "Sum" });
  }
}

export interface ModelComponentsProps {
  readonly platformName: string;
  readonly model: string;
  /** The model's config; only its versions with `placement` become components here. */
  readonly config: ModelConfig;
  /** The pools by name; every placement names one of them. */
  readonly pools: ReadonlyMap<string, InstancePool>;
  readonly store: ModelStore;
  /** Local artifacts the store uploads, by version; versions absent here use their `s3://` URI. */
  readonly artifacts: ReadonlyMap<number, StoredArtifact>;
  /** Containers get no network access (the model is loaded by SageMaker from S3). @default true */
  readonly networkIsolation?: boolean;
}

/**
 * A model's versions placed on pools: one SageMaker execution role for the model (its own
 * artifacts, image repositories and component log groups only) and an InferenceComponent per
 * placed version.
 */
export class ModelComponents extends Construct {
  readonly modelName: string;
  readonly role: iam.Role;
  readonly components: readonly InferenceComponent[];

  constructor(scope: Construct, id: string, props: ModelComponentsProps) {
    super(scope, id);
    const { model, store } = props;
    this.modelName = model;
    const placed = props.config.versions.filter(isComponentVersion);
    if (placed.length === 0) throw new Error(`ModelComponents ${this.node.path}: model '${model}' has no version with a placement`);
    const nameOf = (version: number) => inferenceComponentName(props.platformName, model, version);

    this.role = new iam.Role(this, "ExecutionRole", {
      assumedBy: new iam.ServicePrincipal("sagemaker.amazonaws.com"),
      description: `SageMaker execution role of the inference components of ${model}`,
    });
    store.grantReadModel(this.role, model);
    grantRuntimeBasics(
      this.role,
      placed.map((v) => componentLogGroup(nameOf(v.version))),
    );

    const repositories = new Set<string>();
    this.components = placed.map((v) => {
      const pool = props.pools.get(v.placement.pool);
      if (!pool) throw new Error(`ModelComponents ${this.node.path}: version ${v.version} names unknown pool '${v.placement.pool}'`);
      return new InferenceComponent(this, `v${v.version}`, {
        componentName: nameOf(v.version),
        version: v,
        pool,
        serving: {
          model,
          role: this.role,
          artifacts: props.artifacts,
          repositories,
          ...(props.networkIsolation !== undefined ? { networkIsolation: props.networkIsolation } : {}),
        },
      });
    });
    grantImagePulls(this.role, repositories);
  }
}
