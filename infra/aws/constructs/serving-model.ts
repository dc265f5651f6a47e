import { ArnFormat, Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as sagemaker from "aws-cdk-lib/aws-sagemaker";
import type { Construct } from "constructs";
import { huggingFaceModelId, type VersionConfig } from "../../shared/config-schema";
import { parseS3Uri } from "./artifacts";
import { ecrRepositoryArn, servingImage, servingImageFor } from "./container-images";
import { lmiEnvironment, tgiEnvironment } from "./llm-container";
import type { StoredArtifact } from "./model-store";

/**
 * The SageMaker Model of one version, shared by both layouts: a variant on the model's endpoint
 * (ModelEndpoint) and an inference component on a pool (ModelComponents). The image follows the
 * runtime (region-aware), the weights come from the model store, an `s3://` URI or the hub.
 */
export interface ServingModelOptions {
  readonly model: string;
  /** The model's SageMaker execution role; grants for an external `s3://` artifact are added to it. */
  readonly role: iam.Role;
  /** Local artifacts the store uploads, by version; versions absent here use their `s3://` URI. */
  readonly artifacts: ReadonlyMap<number, StoredArtifact>;
  /** ECR repositories the role must pull from: each model's image repository is added. */
  readonly repositories: Set<string>;
  /** Containers get no network access (SageMaker loads the model from S3). @default true */
  readonly networkIsolation?: boolean;
}

/** A CfnModel `id` under `scope` serving version `v`, created after its role and its uploaded artifact. */
export function servingModel(scope: Construct, id: string, v: VersionConfig, opts: ServingModelOptions): sagemaker.CfnModel {
  const m = new sagemaker.CfnModel(scope, id, {
    executionRoleArn: opts.role.roleArn,
    primaryContainer: container(scope, v, opts),
    // A hub model is downloaded by the container itself, which needs the network for it.
    enableNetworkIsolation: huggingFaceModelId(v.artifact) === undefined && (opts.networkIsolation ?? true),
  });
  // The role's policy must exist before SageMaker validates the model's S3 and ECR access.
  m.node.addDependency(opts.role);
  const local = opts.artifacts.get(v.version);
  if (local) m.node.addDependency(local.deployment);
  return m;
}

/** Image pulls from exactly the repositories the models use. */
export function grantImagePulls(role: iam.Role, repositories: ReadonlySet<string>): iam.Grant {
  if (repositories.size === 0) return iam.Grant.drop(role, "pull no image: the models use no ECR repository");
  return iam.Grant.addToPrincipal({
    grantee: role,
    actions: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
    resourceArns: [...repositories],
  });
}

/**
 * Logs to the given SageMaker log groups, metrics, and the ECR token SageMaker pulls with: what
 * every execution role needs at run time. SageMaker creates those log groups itself: no
 * construct here owns them.
 */
export function grantRuntimeBasics(role: iam.Role, logGroupNames: readonly string[]): iam.Grant {
  const stack = Stack.of(role);
  const groups = logGroupNames.map((name) =>
    stack.formatArn({ service: "logs", resource: "log-group", resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
  );
  return (
    iam.Grant.addToPrincipal({
      grantee: role,
      actions: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
      resourceArns: groups.flatMap((g) => [g, `${g}:*`]),
    })
      // GetAuthorizationToken and PutMetricData have no resource-level permissions.
      .combine(iam.Grant.addToPrincipal({ grantee: role, actions: ["ecr:GetAuthorizationToken"], resourceArns: ["*"] }))
      .combine(
        iam.Grant.addToPrincipal({
          grantee: role,
          actions: ["cloudwatch:PutMetricData"],
          resourceArns: ["*"],
          conditions: { StringLike: { "cloudwatch:namespace": ["/aws/sagemaker/*", "AWS/SageMaker"] } },
        }),
      )
  );
}

function container(scope: Construct, v: VersionConfig, opts: ServingModelOptions): sagemaker.CfnModel.ContainerDefinitionProperty {
  const stack = Stack.of(scope);
  const serving = servingImageFor(v.runtime);
  let image: string;
  if (v.image) {
    image = v.image;
    const repo = ecrRepositoryArn(v.image, stack.partition);
    if (repo) opts.repositories.add(repo);
  } else if (serving) {
    const found = servingImage(stack, serving);
    image = found.uri;
    opts.repositories.add(found.repositoryArn);
  } else {
    // The schema requires `image` for custom; this guards the constructs used directly.
    throw new Error(`${scope.node.path}: version ${v.version} of '${opts.model}' needs an image`);
  }

  const environment: Record<string, string> =
    v.runtime === "lmi" ? lmiEnvironment(opts.model, v) : v.runtime === "tgi" ? tgiEnvironment(v) : {};
  const local = opts.artifacts.get(v.version);
  let data: Pick<sagemaker.CfnModel.ContainerDefinitionProperty, "modelDataUrl" | "modelDataSource">;
  if (huggingFaceModelId(v.artifact) !== undefined) {
    // The container fetches the weights from the hub (HF_MODEL_ID); SageMaker mounts nothing.
    data = {};
  } else if (local) {
    data =
      local.layout.mode === "compressed"
        ? { modelDataUrl: local.uri }
        : { modelDataSource: { s3DataSource: { s3Uri: local.prefixUri, s3DataType: "S3Prefix", compressionType: "None" } } };
    if (local.layout.tritonModelName) environment.SAGEMAKER_TRITON_DEFAULT_MODEL_NAME = local.layout.tritonModelName;
  } else {
    data = externalArtifact(scope, v, opts.role);
  }
  return {
    image,
    mode: "SingleModel",
    ...data,
    ...(Object.keys(environment).length ? { environment } : {}),
  };
}

/** An `s3://` artifact named in the config: read access to exactly that object or prefix. */
function externalArtifact(
  scope: Construct,
  v: VersionConfig,
  role: iam.Role,
): Pick<sagemaker.CfnModel.ContainerDefinitionProperty, "modelDataUrl" | "modelDataSource"> {
  const loc = parseS3Uri(v.artifact);
  if (!loc) throw new Error(`${scope.node.path}: version ${v.version} has no uploaded artifact and '${v.artifact}' is not an s3:// URI`);
  const partition = Stack.of(scope).partition;
  const compressed = /\.(tar\.gz|tgz)$/i.test(loc.key);
  const isPrefix = loc.key.endsWith("/");
  const objects =
    compressed || !isPrefix ? `arn:${partition}:s3:::${loc.bucket}/${loc.key}` : `arn:${partition}:s3:::${loc.bucket}/${loc.key}*`;
  iam.Grant.addToPrincipal({ grantee: role, actions: ["s3:GetObject"], resourceArns: [objects] });
  if (isPrefix) {
    iam.Grant.addToPrincipal({
      grantee: role,
      actions: ["s3:ListBucket"],
      resourceArns: [`arn:${partition}:s3:::${loc.bucket}`],
      conditions: { StringLike: { "s3:prefix": [`${loc.key}*`] } },
    });
  }
  if (compressed) return { modelDataUrl: v.artifact };
  return {
    modelDataSource: {
      s3DataSource: { s3Uri: v.artifact, s3DataType: isPrefix ? "S3Prefix" : "S3Object", compressionType: "None" },
    },
  };
}

/** Application Auto Scaling's SageMaker service-linked role (created on first use); it scales variants and inference components. */
export function sageMakerScalingRole(scope: Construct): iam.IRole {
  return iam.Role.fromRoleArn(
    scope,
    "ScalingRole",
    Stack.of(scope).formatArn({
      service: "iam",
      region: "",
      resource: "role",
      resourceName:
        "aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint",
    }),
    { mutable: false },
  );
}
