import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, NoSuchKey, type S3Client } from "@aws-sdk/client-s3";
import { ConflictError } from "../core/errors";
import type { ArtifactStore } from "../core/ports";

/** A revision names one object version: `v:<versionId>` on a versioned bucket, else `e:<ETag>`. */
const revisionOf = (out: { VersionId?: string | undefined; ETag?: string | undefined }): string | undefined =>
  out.VersionId && out.VersionId !== "null" ? `v:${out.VersionId}` : out.ETag ? `e:${out.ETag}` : undefined;

/** The model store bucket. Artifacts are hashed by streaming them, never held in memory. */
export class S3ArtifactStore implements ArtifactStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  async digest(key: string): Promise<{ sha256: string; size: number; revision?: string } | undefined> {
    let body: Readable;
    let revision: string | undefined;
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      body = out.Body as Readable;
      revision = revisionOf(out);
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
    return { sha256: hash.digest("hex"), size, ...(revision ? { revision } : {}) };
  }

  async copy(fromKey: string, toKey: string, revision?: string): Promise<void> {
    const source = `${this.bucket}/${encodeURI(fromKey)}`;
    const versionId = revision?.startsWith("v:") ? revision.slice(2) : undefined;
    const etag = revision?.startsWith("e:") ? revision.slice(2) : undefined;
    try {
      await this.s3.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: toKey,
          // A version id pins the exact bytes; an ETag refuses the copy if the object changed.
          CopySource: versionId ? `${source}?versionId=${encodeURIComponent(versionId)}` : source,
          ...(etag ? { CopySourceIfMatch: etag } : {}),
        }),
      );
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === "PreconditionFailed" || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 412) {
        throw new ConflictError(`'${fromKey}' changed after it was verified; upload it again`, { cause: err });
      }
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }
}
