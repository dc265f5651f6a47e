import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, NoSuchKey, type S3Client } from "@aws-sdk/client-s3";
import type { ArtifactStore } from "../core/ports";

/** The model store bucket. Artifacts are hashed by streaming them, never held in memory. */
export class S3ArtifactStore implements ArtifactStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  async digest(key: string): Promise<{ sha256: string; size: number } | undefined> {
    let body: Readable;
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      body = out.Body as Readable;
    } catch (err) {
      if (err instanceof NoSuchKey || (err as { name?: string }).name === "NoSuchKey") return undefined;
      throw err;
    }
    const hash = createHash("sha256");
    let size = 0;
    for await (const chunk of body) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).byteLength;
    }
    return { sha256: hash.digest("hex"), size };
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    await this.s3.send(new CopyObjectCommand({ Bucket: this.bucket, Key: toKey, CopySource: `${this.bucket}/${encodeURI(fromKey)}` }));
  }

  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }
}
