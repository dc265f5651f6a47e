import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { INVOICE_PREFIX, type InvoiceFileFormat, invoiceKey, invoiceOfKey, tenantInvoicePrefix } from "../contract/invoice-keys";
import type { InvoiceFiles, InvoiceStore, PutOutcome } from "../core/billing/invoices";

const CONTENT_TYPES: Readonly<Record<InvoiceFileFormat, string>> = {
  json: "application/json",
  csv: "text/csv; charset=utf-8",
  html: "text/html; charset=utf-8",
};

const statusOf = (err: unknown) => (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
const nameOf = (err: unknown) => (err as { name?: string }).name;

/**
 * Issued invoices in the model store's bucket (functions/contract/invoice-keys.ts), each file
 * with the document's sha256 as object metadata. The JSON is written last and only if absent
 * (`If-None-Match: *`, S3's conditional write): two issues racing store one invoice. s3rver
 * (the local S3) ignores that header on PUT, so locally only the read before the write guards.
 */
export class S3InvoiceStore implements InvoiceStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  get(tenant: string, month: string): Promise<string | undefined> {
    return this.read(invoiceKey(tenant, month, "json"));
  }

  getRendition(tenant: string, month: string, format: "csv" | "html"): Promise<string | undefined> {
    return this.read(invoiceKey(tenant, month, format));
  }

  async put(tenant: string, month: string, files: InvoiceFiles): Promise<PutOutcome> {
    await this.putRenditions(tenant, month, files);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.write(invoiceKey(tenant, month, "json"), files.json, files.sha256, true);
        return "created";
      } catch (err) {
        // 412: an object is there. 409 (ConditionalRequestConflict): a concurrent conditional write
        // is in progress; S3 asks for a retry, which then meets the winner's object.
        if (statusOf(err) === 412 || nameOf(err) === "PreconditionFailed") return "exists";
        if (statusOf(err) === 409 && attempt < 3) {
          await new Promise((r) => setTimeout(r, 200 * attempt));
          continue;
        }
        throw err;
      }
    }
  }

  async putRenditions(tenant: string, month: string, files: Pick<InvoiceFiles, "csv" | "html" | "sha256">): Promise<void> {
    await Promise.all([
      this.write(invoiceKey(tenant, month, "csv"), files.csv, files.sha256, false),
      this.write(invoiceKey(tenant, month, "html"), files.html, files.sha256, false),
    ]);
  }

  async months(tenant: string): Promise<string[]> {
    return (await this.list(tenantInvoicePrefix(tenant))).filter((i) => i.tenant === tenant).map((i) => i.month);
  }

  all(): Promise<Array<{ tenant: string; month: string }>> {
    return this.list(INVOICE_PREFIX);
  }

  private async list(prefix: string): Promise<Array<{ tenant: string; month: string }>> {
    const found: Array<{ tenant: string; month: string }> = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }),
      );
      for (const o of page.Contents ?? []) {
        const inv = o.Key === undefined ? undefined : invoiceOfKey(o.Key);
        if (inv) found.push(inv);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return found.sort((a, b) => (a.tenant === b.tenant ? a.month.localeCompare(b.month) : a.tenant.localeCompare(b.tenant)));
  }

  private async read(key: string): Promise<string | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await out.Body?.transformToString("utf-8");
    } catch (err) {
      if (err instanceof NoSuchKey || nameOf(err) === "NoSuchKey") return undefined;
      // S3 answers a missing key with 403 to a role whose ListBucket is held to a prefix (the
      // condition cannot match a GetObject): a listing of the key itself tells the two apart.
      if (statusOf(err) === 403 && !(await this.exists(key))) return undefined;
      throw err;
    }
  }

  private async exists(key: string): Promise<boolean> {
    const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: key, MaxKeys: 1 }));
    return (page.Contents ?? []).some((o) => o.Key === key);
  }

  private async write(key: string, body: string, sha256: string, onlyIfAbsent: boolean): Promise<void> {
    const format = key.slice(key.lastIndexOf(".") + 1) as InvoiceFileFormat;
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentType: CONTENT_TYPES[format],
        Metadata: { sha256 },
        ...(onlyIfAbsent ? { IfNoneMatch: "*" } : {}),
      }),
    );
  }
}
