import { Sha256 } from "@aws-crypto/sha256-js";
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { SignatureV4 } from "@smithy/signature-v4";
import type { BatchObjects } from "../core/batch/ports";

export interface BatchObjectsOptions {
  /**
   * Where clients reach the bucket for a presigned upload, path style (`<endpoint>/<bucket>/<key>`):
   * the local host's S3. @default the bucket's virtual-hosted endpoint in the client's region
   */
  readonly endpoint?: string;
}

const isMissing = (err: unknown) => {
  const name = (err as { name?: unknown } | null)?.name;
  return name === "NoSuchKey" || name === "NotFound";
};

/** The batch files and chunks in the model store bucket (keys from functions/core/batch/ports.ts). */
export class S3BatchObjects implements BatchObjects {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly options: BatchObjectsOptions = {},
  ) {}

  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await out.Body?.transformToByteArray();
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async size(key: string): Promise<number | undefined> {
    try {
      const out = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return out.ContentLength;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  /** A SigV4 query-signed PUT with the function's own credentials (what the S3 presigner does, without its package). */
  async presignPut(key: string, expiresInSeconds: number): Promise<string> {
    const region = await this.s3.config.region();
    const credentials = await this.s3.config.credentials();
    const url = this.options.endpoint
      ? new URL(`${this.options.endpoint.replace(/\/$/, "")}/${this.bucket}/${key}`)
      : new URL(`https://${this.bucket}.s3.${region}.amazonaws.com/${key}`);
    const signer = new SignatureV4({ credentials, region, service: "s3", sha256: Sha256, uriEscapePath: false });
    const signed = await signer.presign(
      {
        method: "PUT",
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query: {},
        headers: { host: url.host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
      },
      { expiresIn: expiresInSeconds },
    );
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(signed.query ?? {})) if (typeof v === "string") query.set(k, v);
    return `${url.origin}${url.pathname}?${query.toString()}`;
  }
}
