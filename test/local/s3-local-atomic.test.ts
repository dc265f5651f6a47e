import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CopyObjectCommand,
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { AtomicFilesystemStore } from "../../infra/local/services/s3-atomic-store";
import { type RunningS3, S3RVER_CREDENTIALS, startS3Local } from "../../infra/local/services/s3-local";

const BUCKET = "atomic";
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
let s3local: RunningS3;
let s3: S3Client;

beforeAll(async () => {
  s3local = await startS3Local(mkdtempSync(join(tmpdir(), "mg-s3-atomic-")));
  s3 = new S3Client({
    endpoint: s3local.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

afterAll(async () => {
  s3.destroy();
  await s3local.stop();
});

/** The sha256 of `key`'s bytes as one GET reads them. */
async function shaOf(key: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return sha((await out.Body?.transformToByteArray()) ?? new Uint8Array());
}

/** Reads `key` over and over until `writing` settles: what each read saw (its sha256, or "missing"). */
async function readsDuring(key: string, writing: Promise<unknown>): Promise<string[]> {
  let done = false;
  const settled = writing.finally(() => {
    done = true;
  });
  const seen: string[] = [];
  const reader = async () => {
    while (!done) {
      try {
        seen.push(await shaOf(key));
      } catch (err) {
        if ((err as { name?: string }).name !== "NoSuchKey") throw err;
        seen.push("missing");
      }
    }
  };
  await Promise.all([settled, reader(), reader(), reader(), reader()]);
  return seen;
}

describe("the local S3 shows an object only once it is whole, as S3 does", () => {
  it("a copy to a new key reads as missing, then whole: never empty or cut short", async () => {
    const bytes = randomBytes(64 << 20);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "staged/model.onnx", Body: bytes }));
    const seen = await readsDuring(
      "models/m/1/model.onnx",
      s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: "models/m/1/model.onnx", CopySource: `${BUCKET}/staged/model.onnx` })),
    );
    seen.push(await shaOf("models/m/1/model.onnx"));
    expect(seen).toContain("missing"); // some reads did overlap the copy
    expect(seen.filter((s) => s !== "missing" && s !== sha(bytes))).toEqual([]);
    expect(seen.at(-1)).toBe(sha(bytes));
  });

  it("an overwriting put reads as the old object or the new one, and no half-written name is listed", async () => {
    const before = randomBytes(4 << 20);
    const after = randomBytes(8 << 20);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "over/model.onnx", Body: before }));
    const listings: string[][] = [];
    const put = s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "over/model.onnx", Body: after }));
    const listing = (async () => {
      for (let i = 0; i < 20; i++) {
        const out = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "over/" }));
        listings.push((out.Contents ?? []).map((o) => o.Key ?? ""));
      }
    })();
    const seen = await readsDuring("over/model.onnx", Promise.all([put, listing]));
    expect(seen.filter((s) => s !== sha(before) && s !== sha(after))).toEqual([]);
    expect(new Set(listings.flat())).toEqual(new Set(["over/model.onnx"]));
    expect(await shaOf("over/model.onnx")).toBe(sha(after));
    const head = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "over/model.onnx" }));
    await head.Body?.transformToByteArray();
    expect(head.ETag).toBe(`"${createHash("md5").update(after).digest("hex")}"`);
  });
});

describe("a GET that straddles an overwrite", () => {
  /** A store whose next metadata read is followed by an overwrite of the object: the moment s3rver's own GET was exposed. */
  class OverwrittenWhileRead extends AtomicFilesystemStore {
    overwriteWith: Buffer | undefined;
    override async getMetadata(bucket: string, key: string): Promise<Record<string, unknown>> {
      const metadata = await super.getMetadata(bucket, key);
      const next = this.overwriteWith;
      this.overwriteWith = undefined;
      if (next) await this.putObject({ bucket, key, content: next, metadata: { "content-type": "application/octet-stream" } });
      return metadata;
    }
  }
  const read = async (content: NodeJS.ReadableStream | null | undefined) => {
    const parts: Buffer[] = [];
    for await (const part of content ?? []) parts.push(part as Buffer);
    return Buffer.concat(parts);
  };

  it("reads one object whole, its length its own, never the new bytes cut to the old length", async () => {
    const store = new OverwrittenWhileRead(mkdtempSync(join(tmpdir(), "mg-s3-store-")));
    const before = randomBytes(1 << 20);
    const after = randomBytes(2 << 20);
    await store.putObject({ bucket: "b", key: "m/model.onnx", content: before, metadata: { "content-type": "application/octet-stream" } });
    store.overwriteWith = after;
    const object = (await store.getObject("b", "m/model.onnx")) as unknown as { content: NodeJS.ReadableStream; size: number };
    const bytes = await read(object.content);
    expect(sha(bytes)).toBe(sha(before));
    expect(object.size).toBe(before.length);
    const again = (await store.getObject("b", "m/model.onnx")) as unknown as { content: NodeJS.ReadableStream };
    expect(sha(await read(again.content))).toBe(sha(after));
  });

  it("answers a range from the object it opened, and none for a key that is not there", async () => {
    const store = new AtomicFilesystemStore(mkdtempSync(join(tmpdir(), "mg-s3-store-")));
    const bytes = randomBytes(4096);
    await store.putObject({ bucket: "b", key: "k", content: bytes, metadata: {} });
    const ranged = (await store.getObject("b", "k", { start: 10, end: 19 })) as unknown as {
      content: NodeJS.ReadableStream;
      range: { start: number; end: number };
    };
    expect(ranged.range).toEqual({ start: 10, end: 19 });
    expect(await read(ranged.content)).toEqual(bytes.subarray(10, 20));
    expect(await store.getObject("b", "missing")).toBeNull();
  });
});
