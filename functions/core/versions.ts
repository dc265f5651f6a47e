import { randomUUID } from "node:crypto";
import { BadRequestError, ConflictError, NotFoundError } from "./errors";
import type { ArtifactStore, RegistryAdmin } from "./ports";
import type { ModelRecord, ModelVersion, TensorSpec } from "./registry";

/** Where uploads wait until they are verified; never served from. */
export const UPLOAD_PREFIX = "uploads/";
/** Artifact file names the platform can serve (an ONNX graph, or a packed model directory). */
export const ARTIFACT_FILE = /^[A-Za-z0-9._-]{1,100}\.(onnx|tar\.gz)$/;
/** Largest artifact a single upload may carry (SageMaker's own model-data limit is far higher; this bounds the admin function's read-back). */
export const MAX_ARTIFACT_BYTES = 20 * 1024 ** 3;

export interface UploadTicket {
  readonly bucket: string;
  readonly key: string;
}

/** A staging key for one upload: unique, so concurrent uploads never overwrite each other. */
export function uploadTicket(store: ArtifactStore, model: string, fileName: string): UploadTicket {
  if (!ARTIFACT_FILE.test(fileName)) throw new BadRequestError(`artifact file names end in .onnx or .tar.gz, got '${fileName}'`);
  return { bucket: store.bucket, key: `${UPLOAD_PREFIX}${model}/${randomUUID()}/${fileName}` };
}

export interface NewVersion {
  readonly model: string;
  /** Staging key returned by `uploadTicket`. */
  readonly upload: string;
  /** What the uploader computed locally; the stored bytes must hash to the same. */
  readonly sha256: string;
  readonly size: number;
  readonly runtime: string;
  /** Explicit number; default: one past the highest. An existing number is refused, never overwritten. */
  readonly version?: number | undefined;
  readonly inputs?: readonly TensorSpec[] | undefined;
  readonly outputs?: readonly TensorSpec[] | undefined;
  readonly endpointName: string;
  readonly variantName: (version: number) => string;
  /** For a model placed on a pool: the new version's inference component on the pool's endpoint. */
  readonly inferenceComponentName?: ((version: number) => string) | undefined;
  readonly instanceType?: string | undefined;
}

export function nextVersionNumber(record: ModelRecord): number {
  return Math.max(0, ...record.versions.keys()) + 1;
}

/** `models/<model>/<version>/<file>`: the layout CDK's artifact deployment uses too. */
export const versionArtifactKey = (model: string, version: number, fileName: string) => `models/${model}/${version}/${fileName}`;

/**
 * Turns a verified upload into a new, immutable version with status `registered`. The stored
 * bytes are hashed again here: a corrupted or partial upload is refused (and deleted) before
 * any version exists. The number is claimed with a conditional write first, so two uploads
 * racing for the same number cannot both copy their bytes to its key.
 */
export async function registerVersion(
  registry: RegistryAdmin,
  store: ArtifactStore,
  input: NewVersion,
  now: () => Date = () => new Date(),
): Promise<ModelVersion> {
  const prefix = `${UPLOAD_PREFIX}${input.model}/`;
  if (!input.upload.startsWith(prefix) || input.upload.includes("..")) {
    throw new BadRequestError(`'upload' must be a key handed out for model '${input.model}' (${prefix}…)`);
  }
  const fileName = input.upload.slice(input.upload.lastIndexOf("/") + 1);
  if (!ARTIFACT_FILE.test(fileName)) throw new BadRequestError(`artifact file names end in .onnx or .tar.gz, got '${fileName}'`);
  const record = await registry.getModel(input.model);
  if (!record) throw new NotFoundError(`model '${input.model}' does not exist`);
  const version = input.version ?? nextVersionNumber(record);
  if (record.versions.has(version)) {
    throw new ConflictError(`version ${version} of '${input.model}' already exists; versions are immutable`);
  }

  const stored = await store.digest(input.upload);
  if (!stored) throw new BadRequestError(`nothing was uploaded to '${input.upload}'`);
  if (stored.size !== input.size || stored.sha256 !== input.sha256) {
    await store.delete(input.upload);
    throw new BadRequestError(
      `the stored artifact does not match what was sent (sha256 ${stored.sha256}, ${stored.size} bytes; expected ${input.sha256}, ${input.size} bytes): corrupted or partial upload refused`,
    );
  }

  const key = versionArtifactKey(input.model, version, fileName);
  const v: ModelVersion = {
    model: input.model,
    version,
    runtime: input.runtime,
    status: "registered",
    endpointName: input.endpointName,
    variantName: input.variantName(version),
    ...(input.inferenceComponentName ? { inferenceComponentName: input.inferenceComponentName(version) } : {}),
    artifactUri: `s3://${store.bucket}/${key}`,
    sha256: stored.sha256,
    size: stored.size,
    createdAt: now().toISOString(),
    ...(input.instanceType ? { instanceType: input.instanceType } : {}),
    ...(input.inputs ? { inputs: input.inputs } : {}),
    ...(input.outputs ? { outputs: input.outputs } : {}),
  };
  await registry.registerVersion(v);
  try {
    // Only the bytes just verified: a second upload to the same key in between must not slip in.
    await store.copy(input.upload, key, stored.revision);
  } catch (err) {
    await registry.setVersionStatus(input.model, version, "registered", "retired", "the artifact could not be copied into the model store");
    throw err;
  }
  await store.delete(input.upload).catch(() => undefined);
  return v;
}

/**
 * Retires a version: refused while any alias still routes to it (as a target, shadow or
 * fallback). Afterwards the deployment may drop its variant.
 */
export async function retireVersion(registry: RegistryAdmin, model: string, version: number): Promise<void> {
  const record = await registry.getModel(model);
  if (!record) throw new NotFoundError(`model '${model}' does not exist`);
  const v = record.versions.get(version);
  if (!v) throw new NotFoundError(`model '${model}' has no version ${version}`);
  if (v.status === "retired") return;
  const users = [...record.aliases.values()]
    .filter((a) => a.targets.some((t) => t.version === version) || a.shadow?.version === version || a.fallback === version)
    .map((a) => a.alias);
  if (users.length > 0) throw new ConflictError(`version ${version} of '${model}' is still used by alias(es) ${users.join(", ")}`);
  await registry.setVersionStatus(model, version, v.status, "retired");
}
