import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { CreateBucketCommand, GetObjectCommand, HeadBucketCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { artifactKey } from "../../../functions/contract/seed";

export interface UploadedArtifact {
  readonly uri: string;
  readonly sha256: string;
  readonly size: number;
}

export async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  }
}

/**
 * Uploads a local artifact to the model store and reads it back to prove the stored bytes
 * hash to the same SHA-256 (a store that keeps transfer framing would fail here, loudly).
 */
export async function uploadArtifact(
  s3: S3Client,
  bucket: string,
  model: string,
  version: number,
  file: string,
  expectedSha256?: string,
): Promise<UploadedArtifact> {
  const bytes = readFileSync(file);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  if (expectedSha256 && expectedSha256 !== sha256) {
    throw new Error(`artifact ${file} has sha256 ${sha256}, but the config expects ${expectedSha256}`);
  }
  const key = artifactKey(model, version, basename(file));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, Metadata: { sha256 } }));
  const back = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const stored = Buffer.from((await back.Body?.transformToByteArray()) ?? new Uint8Array());
  const storedSha = createHash("sha256").update(stored).digest("hex");
  if (storedSha !== sha256)
    throw new Error(`artifact s3://${bucket}/${key} was stored corrupted (sha256 ${storedSha}, expected ${sha256})`);
  return { uri: `s3://${bucket}/${key}`, sha256, size: bytes.length };
}
