import { Duration, Stack } from "aws-cdk-lib";
import * as appscaling from "aws-cdk-lib/aws-applicationautoscaling";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as iam from "aws-cdk-lib/aws-iam";
import * as sagemaker from "aws-cdk-lib/aws-sagemaker";
import { Construct } from "constructs";
import { isLlmRuntime } from "../../../functions/contract/runtimes";
import { endpointLogGroup, variantName } from "../../../functions/contract/sagemaker-names";
import { isVariantVersion, type ModelConfig } from "../../shared/config-schema";
import { LLM_DOWNLOAD_TIMEOUT_S, LLM_STARTUP_TIMEOUT_S } from "./llm-container";
import { DATA_CAPTURE_PREFIX, type ModelStore, type StoredArtifact } from "./model-store";
import { grantImagePulls, grantRuntimeBasics, sageMakerScalingRole, servingModel } from "./serving-model";

export interface DataCaptureOptions {
  /** Share of requests captured, 0–100. @default 10 */
  readonly samplingPercentage?: number;
  /** Days captured data is kept (an S3 lifecycle rule on `data-capture/`). @default 30 */
  readonly retentionDays?: number;
}

export interface ModelEndpointProps {
  /** SageMaker endpoint name (`<platform>-<model>`, from `endpointName`). */
  readonly endpointName: string;
  readonly model: string;
  readonly config: ModelConfig;
  readonly store: ModelStore;
  /** Local artifacts the store uploads, by version; versions absent here use their `s3://` URI. */
  readonly artifacts: ReadonlyMap<number, StoredArtifact>;
  /** Capture requests and responses to `s3://<store>/data-capture/<model>/`. @default off */
  readonly dataCapture?: DataCaptureOptions;
  /** Containers get no network access (the model is loaded by SageMaker from S3). @default true */
  readonly networkIsolation?: boolean;
  /** Scale in no faster than this. @default Duration.minutes(5) */
  readonly scaleInCooldown?: Duration;
  /** Scale out no slower than this. @default Duration.minutes(1) */
  readonly scaleOutCooldown?: Duration;
}

/**
 * Something the model routes call through SageMaker Runtime: a model's endpoint (a variant per
 * version) or an inference component on a pool's endpoint.
 */
export interface IInvocationTarget {
  /** InvokeEndpoint (functions/aws/sagemaker-invoker.ts `invoke`). */
  grantInvoke(grantee: iam.IGrantable): iam.Grant;
  /** InvokeEndpointWithResponseStream (functions/aws/sagemaker-invoker.ts `invokeStream`). */
  grantInvokeWithResponseStream(grantee: iam.IGrantable): iam.Grant;
}

/** One version as served: its production variant on the model's endpoint. */
export interface EndpointVariant {
  readonly version: number;
  readonly variantName: string;
  readonly instanceType: string;
  readonly initialWeight: number;
  readonly model: sagemaker.CfnModel;
  readonly scalableTarget: appscaling.ScalableTarget;
}

/**
 * Instance families with local NVMe storage. SageMaker refuses an EndpointConfig `KmsKeyId`
 * when any variant runs on them (their instance store is hardware-encrypted instead).
 */
const INSTANCE_STORE_FAMILY = /^ml\.(g4dn|g5|g6|g6e|gr6|p3dn|p4d|p4de|p5|p5e|p5en|trn1|trn1n|[a-z]+\dd|[a-z]+\d[a-z]*d)\./;

export function hasInstanceStorage(instanceType: string): boolean {
  return INSTANCE_STORE_FAMILY.test(instanceType);
}

/**
 * Initial weight of each variant-layout version: its share in the default alias, 0 when the alias
 * skips it. When the default alias targets only versions placed on pools, every variant gets
 * weight 1 instead: an endpoint needs a variant with positive weight, and the invoke function
 * names its variant anyway.
 */
export function initialWeights(config: ModelConfig): Map<number, number> {
  const target = config.aliases[config.defaultAlias];
  const variants = config.versions.filter(isVariantVersion).map((v) => v.version);
  const weights = new Map<number, number>(variants.map((v) => [v, 0]));
  const share = (version: number, weight: number) => {
    if (weights.has(version)) weights.set(version, weight);
  };
  if (typeof target === "number") share(target, 100);
  else for (const t of target ?? []) share(t.version, t.weight);
  if ([...weights.values()].every((w) => w === 0)) for (const v of variants) weights.set(v, 1);
  return weights;
}

/**
 * One model served by SageMaker: a Model per version (image by runtime, region-aware), one
 * EndpointConfig with a production variant `v<N>` per version, the Endpoint, and
 * target-tracking autoscaling per variant on invocations per instance. The execution role
 * reads only this model's artifacts and decrypts with the store key.
 */
export class ModelEndpoint extends Construct implements IInvocationTarget {
  readonly endpointName: string;
  readonly modelName: string;
  readonly endpointArn: string;
  readonly role: iam.Role;
  readonly endpoint: sagemaker.CfnEndpoint;
  readonly endpointConfig: sagemaker.CfnEndpointConfig;
  readonly variants: readonly EndpointVariant[];
  /** True when the EndpointConfig could not take a KMS key because of instance storage. */
  readonly volumeKeyOmitted: boolean;

  constructor(scope: Construct, id: string, props: ModelEndpointProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { model, config, store } = props;
    this.endpointName = props.endpointName;
    this.modelName = model;
    this.endpointArn = stack.formatArn({ service: "sagemaker", resource: "endpoint", resourceName: props.endpointName });

    this.role = new iam.Role(this, "ExecutionRole", {
      assumedBy: new iam.ServicePrincipal("sagemaker.amazonaws.com"),
      description: `SageMaker execution role of ${props.endpointName}`,
    });
    store.grantReadModel(this.role, model);
    grantRuntimeBasics(this.role, [endpointLogGroup(this.endpointName)]);

    const weights = initialWeights(config);
    const repositories = new Set<string>();
    // Versions placed on a pool are inference components there (InferenceComponentVersion).
    const variantVersions = config.versions.filter(isVariantVersion);
    const models = variantVersions.map((v) => ({
      v,
      m: servingModel(this, `Model-v${v.version}`, v, {
        model,
        role: this.role,
        artifacts: props.artifacts,
        repositories,
        ...(props.networkIsolation !== undefined ? { networkIsolation: props.networkIsolation } : {}),
      }),
    }));
    grantImagePulls(this.role, repositories);

    this.volumeKeyOmitted = variantVersions.some((v) => hasInstanceStorage(v.instanceType));
    const capture = props.dataCapture;
    if (capture) {
      store.expireDataCapture(capture.retentionDays ?? 30);
      store.grantDataCaptureWrite(this.role, model);
    }

    this.endpointConfig = new sagemaker.CfnEndpointConfig(this, "Config", {
      productionVariants: models.map(({ v, m }) => ({
        variantName: variantName(v.version),
        modelName: m.attrModelName,
        instanceType: v.instanceType,
        initialInstanceCount: v.instances.initial,
        initialVariantWeight: weights.get(v.version) ?? 0,
        ...(isLlmRuntime(v.runtime)
          ? {
              containerStartupHealthCheckTimeoutInSeconds: LLM_STARTUP_TIMEOUT_S,
              modelDataDownloadTimeoutInSeconds: LLM_DOWNLOAD_TIMEOUT_S,
            }
          : {}),
      })),
      ...(this.volumeKeyOmitted ? {} : { kmsKeyId: store.key.keyArn }),
      ...(capture
        ? {
            dataCaptureConfig: {
              enableCapture: true,
              initialSamplingPercentage: capture.samplingPercentage ?? 10,
              destinationS3Uri: store.s3Uri(`${DATA_CAPTURE_PREFIX}${model}/`),
              kmsKeyId: store.key.keyArn,
              captureOptions: [{ captureMode: "Input" }, { captureMode: "Output" }],
              captureContentTypeHeader: { jsonContentTypes: ["application/json"] },
            },
          }
        : {}),
    });
    this.endpointConfig.node.addDependency(this.role);

    this.endpoint = new sagemaker.CfnEndpoint(this, "Endpoint", {
      endpointName: props.endpointName,
      endpointConfigName: this.endpointConfig.attrEndpointConfigName,
    });

    const scalingRole = sageMakerScalingRole(this);
    this.variants = models.map(({ v, m }) => {
      const name = variantName(v.version);
      const target = new appscaling.ScalableTarget(this, `Scaling-${name}`, {
        serviceNamespace: appscaling.ServiceNamespace.SAGEMAKER,
        resourceId: `endpoint/${props.endpointName}/variant/${name}`,
        scalableDimension: "sagemaker:variant:DesiredInstanceCount",
        minCapacity: v.instances.min,
        maxCapacity: v.instances.max,
        role: scalingRole,
      });
      target.node.addDependency(this.endpoint);
      target.scaleToTrackMetric("InvocationsPerInstance", {
        predefinedMetric: appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
        targetValue: v.targetInvocationsPerInstance,
        scaleInCooldown: props.scaleInCooldown ?? Duration.minutes(5),
        scaleOutCooldown: props.scaleOutCooldown ?? Duration.minutes(1),
      });
      return {
        version: v.version,
        variantName: name,
        instanceType: v.instanceType,
        initialWeight: weights.get(v.version) ?? 0,
        model: m,
        scalableTarget: target,
      };
    });
  }

  /** InvokeEndpoint on this endpoint (any variant: the caller names one with TargetVariant). */
  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ["sagemaker:InvokeEndpoint"], resourceArns: [this.endpointArn] });
  }

  /** InvokeEndpointWithResponseStream on this endpoint. */
  grantInvokeWithResponseStream(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ["sagemaker:InvokeEndpointWithResponseStream"], resourceArns: [this.endpointArn] });
  }

  /**
   * A metric of one variant: invocation metrics live in `AWS/SageMaker`, instance metrics
   * (GPU, memory, disk) in `/aws/sagemaker/Endpoints`.
   */
  metric(metricName: string, variant: string, props: cloudwatch.MetricOptions = {}, namespace = "AWS/SageMaker"): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace,
      metricName,
      dimensionsMap: { EndpointName: this.endpointName, VariantName: variant },
      period: Duration.minutes(1),
      ...props,
    });
  }

  /** GPU utilization of one variant's instances (namespace /aws/sagemaker/Endpoints). */
  metricGpuUtilization(variant: string): cloudwatch.Metric {
    return this.metric("GPUUtilization", variant, { statistic: "Average" }, "/aws/sagemaker/Endpoints");
  }
}
