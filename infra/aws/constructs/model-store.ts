import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { AssetHashType, DockerImage, Duration, RemovalPolicy, Size } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as logs from "aws-cdk-lib/aws-logs";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as s3deploy from "aws-cdk-lib/aws-s3-deployment";
import { Construct } from "constructs";
import { INVOICE_PREFIX } from "../../../functions/contract/invoice-keys";
import type { Runtime } from "../../../functions/contract/runtimes";
import { artifactKey } from "../../../functions/contract/seed";
import { BATCH_PREFIX } from "../../../functions/core/batch/ports";
import { BATCH_RETENTION_DAYS } from "../../../functions/core/batch/state";
import { UPLOAD_PREFIX } from "../../../functions/core/versions";
import { type ArtifactLayout, artifactLayout, sha256File } from "./artifacts";

/**
 * Where versions' artifacts live, `models/<model>/<version>/` (artifactKey, and
 * versionArtifactKey where the admin API copies an upload to). test/infra checks they agree.
 */
export const MODEL_ARTIFACT_PREFIX = "models/";
/** Where data capture writes, `data-capture/<model>/`. */
export const DATA_CAPTURE_PREFIX = "data-capture/";

export interface ModelStoreProps {
  /**
   * What happens to the buckets and the key when the stack is deleted. Artifacts and access
   * logs outlive the stack unless told otherwise.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /** Days a replaced or deleted artifact object version is kept. @default 90 */
  readonly noncurrentVersionExpirationDays?: number;
  /** Days server access logs are kept. @default 365 */
  readonly accessLogRetentionDays?: number;
  /** Memory of the function that copies local artifacts into the bucket at deploy. @default 2048 */
  readonly uploadMemoryMiB?: number;
  /**
   * Ephemeral storage of that function; bounds the largest local artifact (put larger ones in
   * S3 yourself and reference them as `s3://`).
   * @default Size.gibibytes(10)
   */
  readonly uploadEphemeralStorage?: Size;
  /** Retention of the upload function's logs. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/** A local artifact the store uploads at deploy. */
export interface StoredArtifact {
  readonly model: string;
  readonly version: number;
  /** Object key of the artifact file. */
  readonly key: string;
  /** `s3://<bucket>/<key>` (the bucket name is a deploy-time token). */
  readonly uri: string;
  /** `s3://<bucket>/models/<model>/<version>/` */
  readonly prefixUri: string;
  /** SHA-256 (hex) of the file, computed at synth. */
  readonly sha256: string;
  readonly layout: ArtifactLayout;
  /** The deployment that puts the file in place; SageMaker models depend on it. */
  readonly deployment: s3deploy.BucketDeployment;
}

export interface AddArtifactOptions {
  readonly model: string;
  readonly version: number;
  readonly runtime: Runtime;
  /** Absolute path of the local file. */
  readonly file: string;
}

/**
 * The model artifact store: a versioned, KMS-encrypted (rotating key), TLS-only, private
 * bucket with server access logs in a second bucket and a lifecycle for old object versions.
 * Local artifacts from the config are uploaded at deploy as CDK assets, each under
 * `models/<model>/<version>/`, with the SHA-256 computed at synth.
 */
export class ModelStore extends Construct {
  readonly key: kms.Key;
  readonly bucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;
  private readonly uploadLogGroup: logs.LogGroup;
  private readonly props: ModelStoreProps;

  constructor(scope: Construct, id: string, props: ModelStoreProps = {}) {
    super(scope, id);
    this.props = props;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.key = new kms.Key(this, "Key", {
      description: "modelgate model artifacts and data capture",
      enableKeyRotation: true,
      removalPolicy,
    });

    // Server access logs can only be delivered to an SSE-S3 bucket.
    this.accessLogsBucket = new s3.Bucket(this, "AccessLogs", {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      lifecycleRules: [{ id: "expire-logs", expiration: Duration.days(props.accessLogRetentionDays ?? 365) }],
      removalPolicy,
    });

    this.bucket = new s3.Bucket(this, "Bucket", {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: "artifacts/",
      lifecycleRules: [
        {
          id: "noncurrent-versions",
          noncurrentVersionExpiration: Duration.days(props.noncurrentVersionExpirationDays ?? 90),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
        {
          // Batch files are tenants' data, kept as long as their records (functions/core/batch/state.ts).
          id: "expire-batch-files",
          prefix: BATCH_PREFIX,
          expiration: Duration.days(BATCH_RETENTION_DAYS),
          noncurrentVersionExpiration: Duration.days(1),
        },
      ],
      removalPolicy,
    });

    this.uploadLogGroup = new logs.LogGroup(this, "UploadLogs", {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }

  private dataCaptureDays?: number;

  /**
   * Captured requests and responses are tenants' data: they expire after `days` (their old
   * versions a day later). One rule for every model's `data-capture/<model>/`; the first
   * endpoint to ask sets it, and a second asking for other days is a construct error.
   */
  expireDataCapture(days: number): void {
    if (this.dataCaptureDays !== undefined) {
      if (this.dataCaptureDays !== days)
        throw new Error(`ModelStore: data capture already expires after ${this.dataCaptureDays} days, not ${days}`);
      return;
    }
    this.dataCaptureDays = days;
    this.bucket.addLifecycleRule({
      id: "expire-data-capture",
      prefix: DATA_CAPTURE_PREFIX,
      expiration: Duration.days(days),
      noncurrentVersionExpiration: Duration.days(1),
    });
  }

  /** ARN pattern of every object of a model (all its versions). */
  modelObjectsArn(model: string): string {
    return this.bucket.arnForObjects(`${MODEL_ARTIFACT_PREFIX}${model}/*`);
  }

  /** `s3://` URI of an object in the store. */
  s3Uri(key: string): string {
    return `s3://${this.bucket.bucketName}/${key}`;
  }

  /**
   * Uploads a local artifact at deploy to `models/<model>/<version>/…`. The asset hash is the
   * file's SHA-256 plus its key, so an unchanged file is never uploaded twice.
   */
  addLocalArtifact(options: AddArtifactOptions): StoredArtifact {
    const { model, version, runtime, file } = options;
    const layout = artifactLayout(model, runtime, file);
    const sha256 = sha256File(file);
    const prefix = artifactKey(model, version, "");
    const key = artifactKey(model, version, layout.relativeKey);

    const source = s3deploy.Source.asset(dirname(file), {
      assetHash: `${sha256}:${layout.relativeKey}`,
      assetHashType: AssetHashType.CUSTOM,
      // Local "bundling" only copies the one file into its place; Docker is never started.
      bundling: {
        image: DockerImage.fromRegistry("public.ecr.aws/docker/library/busybox"),
        local: {
          tryBundle(outputDir: string): boolean {
            const target = join(outputDir, layout.relativeKey);
            mkdirSync(dirname(target), { recursive: true });
            copyFileSync(file, target);
            return true;
          },
        },
      },
    });

    const deployment = new s3deploy.BucketDeployment(this, `Upload-${model}-v${version}`, {
      sources: [source],
      destinationBucket: this.bucket,
      destinationKeyPrefix: prefix,
      // Versions are immutable: never delete what an earlier deploy or an operator put there.
      prune: false,
      retainOnDelete: true,
      extract: true,
      outputObjectKeys: false,
      memoryLimit: this.props.uploadMemoryMiB ?? 2048,
      ephemeralStorageSize: this.props.uploadEphemeralStorage ?? Size.gibibytes(10),
      logGroup: this.uploadLogGroup,
      metadata: { sha256 },
    });

    return {
      model,
      version,
      key,
      uri: this.s3Uri(key),
      prefixUri: this.s3Uri(prefix),
      sha256,
      layout,
      deployment,
    };
  }

  /**
   * Read access to one model's artifacts (all its versions) and decrypt with the store key:
   * GetObject on the model prefix, ListBucket only under it — nothing of any other model. For
   * the SageMaker execution roles that load a version.
   */
  grantReadModel(grantee: iam.IGrantable, model: string): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ["s3:GetObject"], resourceArns: [this.modelObjectsArn(model)] })
      .combine(
        iam.Grant.addToPrincipal({
          grantee,
          actions: ["s3:ListBucket"],
          resourceArns: [this.bucket.bucketArn],
          conditions: { StringLike: { "s3:prefix": [`${MODEL_ARTIFACT_PREFIX}${model}/*`] } },
        }),
      )
      .combine(this.grantKey(grantee, ["kms:Decrypt"]));
  }

  /**
   * What the admin API does with an operator's upload under `uploads/` (S3ArtifactStore): reads
   * it to hash it (GetObject), copies that very version (CopyObject with the version id, which
   * S3 authorizes as GetObjectVersion on the source), and deletes it (DeleteObject); decrypt
   * with the store key. The copy's other half is grantArtifactWrite.
   */
  grantUploadIntake(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ["s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObject"],
      resourceArns: [this.bucket.arnForObjects(`${UPLOAD_PREFIX}*`)],
    }).combine(this.grantKey(grantee, ["kms:Decrypt"]));
  }

  /**
   * Writing versions' artifacts under `models/` (the destination of the admin API's CopyObject,
   * authorized as PutObject), encrypted with the store key. Serving stays deploy-driven.
   */
  grantArtifactWrite(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ["s3:PutObject"],
      resourceArns: [this.bucket.arnForObjects(`${MODEL_ARTIFACT_PREFIX}*`)],
    }).combine(this.grantKey(grantee, ["kms:GenerateDataKey"]));
  }

  /**
   * Reading issued invoices (S3InvoiceStore: GetObject of `invoices/…`, ListObjectsV2 under
   * `invoices/` only), decrypted with the store key.
   */
  grantInvoiceRead(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ["s3:GetObject"], resourceArns: [this.bucket.arnForObjects(`${INVOICE_PREFIX}*`)] })
      .combine(
        iam.Grant.addToPrincipal({
          grantee,
          actions: ["s3:ListBucket"],
          resourceArns: [this.bucket.bucketArn],
          conditions: { StringLike: { "s3:prefix": [`${INVOICE_PREFIX}*`] } },
        }),
      )
      .combine(this.grantKey(grantee, ["kms:Decrypt"]));
  }

  /**
   * Issuing invoices: PutObject under `invoices/` (conditional, `If-None-Match: *`, for the
   * document; the renditions beside it), encrypted with the store key. No delete: an issued
   * invoice is never removed by the platform (the bucket's versioning keeps any overwrite).
   */
  grantInvoiceWrite(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ["s3:PutObject"],
      resourceArns: [this.bucket.arnForObjects(`${INVOICE_PREFIX}*`)],
    }).combine(this.grantKey(grantee, ["kms:GenerateDataKey"]));
  }

  /**
   * Batch files (S3BatchObjects): GetObject, PutObject (also what a presigned upload URL the
   * function signs is authorized as), DeleteObject, under `batch/` only; ListBucket held to
   * that prefix so that a missing object reads as 404, not 403; the store key for both ways.
   */
  grantBatchFiles(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
      resourceArns: [this.bucket.arnForObjects(`${BATCH_PREFIX}*`)],
    })
      .combine(
        iam.Grant.addToPrincipal({
          grantee,
          actions: ["s3:ListBucket"],
          resourceArns: [this.bucket.bucketArn],
          conditions: { StringLike: { "s3:prefix": [`${BATCH_PREFIX}*`] } },
        }),
      )
      .combine(this.grantKey(grantee, ["kms:Decrypt", "kms:GenerateDataKey"]));
  }

  /** SageMaker data capture of one model: PutObject under `data-capture/<model>/`, encrypted with the store key. */
  grantDataCaptureWrite(grantee: iam.IGrantable, model: string): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ["s3:PutObject"],
      resourceArns: [this.bucket.arnForObjects(`${DATA_CAPTURE_PREFIX}${model}/*`)],
    }).combine(this.grantKey(grantee, ["kms:GenerateDataKey", "kms:Encrypt"]));
  }

  /**
   * The store key, on the principal's policy only: the key policy trusts the account (aws-kms
   * default key policy), so none of the key's `grant*` (which also write the key policy for
   * principals it cannot place, and grant `kms:GenerateDataKey*`-style groups) is needed.
   */
  private grantKey(grantee: iam.IGrantable, actions: string[]): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [this.key.keyArn] });
  }
}
