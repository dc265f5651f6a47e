import { createHash, randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { copyFile, type FileHandle, mkdir, open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import S3Object from "s3rver/lib/models/object.js";
import FilesystemStore, { type StoredObject } from "s3rver/lib/stores/filesystem.js";

/**
 * s3rver's store writes an object's file in place, so a GET that arrives during a PUT or a copy
 * reads it part-written: the first moments of a copy serve an empty object (and s3rver caches an
 * md5 of it). S3 never shows a partial object, and the platform relies on that: the local
 * deployer fetches a version's artifact the moment its registration is written, while the
 * artifact may still be being copied into place. This store writes each file under a temporary
 * name in the same folder and renames it into place, the object's bytes last, so a reader sees
 * the old object or the whole new one (a new key reads as missing until it is complete).
 */
export class AtomicFilesystemStore extends FilesystemStore {
  /**
   * s3rver takes an object's length from the file at its path, then opens that path again for
   * the bytes: a GET that straddled an overwrite's rename read the new file cut to the old one's
   * length. Here the length and the bytes come from one open file, so a GET reads one object
   * whole. Its ETag and metadata are read from their own files, which an overwrite moves into
   * place just before the bytes: for that instant they can be the new object's.
   */
  override async getObject(bucket: string, key: string, options?: { start?: number; end?: number }): Promise<S3Object | null> {
    let file: FileHandle;
    try {
      file = await open(this.getResourcePath(bucket, key, "object"), "r");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw err;
    }
    try {
      const stat = await file.stat();
      const metadata = { ...(await this.getMetadata(bucket, key)), "content-length": stat.size, "last-modified": stat.mtime.toUTCString() };
      const ranged = options !== undefined && (options.start !== undefined || options.end !== undefined);
      const range = { start: options?.start ?? 0, end: Math.min(options?.end ?? Number.POSITIVE_INFINITY, Math.max(0, stat.size - 1)) };
      // s3rver answers an unsatisfiable range (416) from an object without bytes.
      const satisfiable = range.start >= 0 && range.start <= range.end;
      const object = new S3Object(bucket, key, null, metadata);
      if (ranged) object.range = range;
      // The stream owns the file from here (it closes it at its end): opened last, once nothing can throw.
      if (satisfiable) object.content = file.createReadStream(range);
      else await file.close();
      return object;
    } catch (err) {
      await file.close();
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw err;
    }
  }

  override async putObject(object: StoredObject): Promise<{ size: number; md5: string }> {
    const objectPath = this.getResourcePath(object.bucket, object.key, "object");
    const md5 = createHash("md5");
    let size = 0;
    const measure = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        md5.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    const content = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
    return replaceFile(objectPath, async (temp) => {
      await pipeline(content, measure, createWriteStream(temp));
      const digest = md5.digest("hex");
      await this.putMetadata(object.bucket, object.key, object.metadata, digest);
      return { size, md5: digest };
    });
  }

  override async copyObject(
    srcBucket: string,
    srcKey: string,
    destBucket: string,
    destKey: string,
    replacementMetadata?: Record<string, string>,
  ): Promise<Record<string, unknown>> {
    const srcPath = this.getResourcePath(srcBucket, srcKey, "object");
    const destPath = this.getResourcePath(destBucket, destKey, "object");
    if (srcPath === destPath) {
      if (replacementMetadata) await this.putMetadata(destBucket, destKey, replacementMetadata);
      return this.getMetadata(destBucket, destKey);
    }
    const source = await this.getMetadata(srcBucket, srcKey);
    await replaceFile(destPath, async (temp) => {
      await copyFile(srcPath, temp);
      await this.putMetadata(destBucket, destKey, replacementMetadata ?? source, JSON.parse(String(source.etag)) as string);
    });
    return this.getMetadata(destBucket, destKey);
  }

  /**
   * s3rver writes the md5 and metadata files under a key of their own, then they move into place:
   * those names never end as an object's does, so no listing shows them meanwhile.
   */
  override async putMetadata(bucket: string, key: string, metadata: Record<string, unknown>, md5?: string): Promise<void> {
    const staged = `${key}.${randomUUID()}.tmp`;
    await super.putMetadata(bucket, staged, metadata, md5);
    const resources = md5 ? ["object.md5", "metadata.json"] : ["metadata.json"];
    for (const resource of resources) {
      await rename(this.getResourcePath(bucket, staged, resource), this.getResourcePath(bucket, key, resource));
    }
  }
}

/**
 * `write` fills a temporary file beside `path`, its folder made first (and does what must precede the object's bytes);
 * the file then replaces `path` in one rename. A failed write leaves no temporary file behind.
 */
async function replaceFile<T>(path: string, write: (temp: string) => Promise<T>): Promise<T> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${randomUUID()}.tmp`;
  try {
    const out = await write(temp);
    await rename(temp, path);
    return out;
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
