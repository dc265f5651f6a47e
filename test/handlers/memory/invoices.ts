import type { InvoiceFiles, InvoiceStore, PutOutcome } from "../../../functions/core/billing/invoices";

/** Issued invoices as a map of `<tenant>/<month>` to their files: written once, as S3's conditional write would. */
export class MemoryInvoiceStore implements InvoiceStore {
  readonly files = new Map<string, { json?: string; csv?: string; html?: string }>();
  /** JSON writes that got through, to show an issue of an issued month writes nothing. */
  writes = 0;

  async get(tenant: string, month: string): Promise<string | undefined> {
    return this.files.get(`${tenant}/${month}`)?.json;
  }

  async getRendition(tenant: string, month: string, format: "csv" | "html"): Promise<string | undefined> {
    return this.files.get(`${tenant}/${month}`)?.[format];
  }

  async put(tenant: string, month: string, files: InvoiceFiles): Promise<PutOutcome> {
    await this.putRenditions(tenant, month, files);
    const entry = this.files.get(`${tenant}/${month}`) ?? {};
    if (entry.json !== undefined) return "exists";
    entry.json = files.json;
    this.files.set(`${tenant}/${month}`, entry);
    this.writes += 1;
    return "created";
  }

  async putRenditions(tenant: string, month: string, files: Pick<InvoiceFiles, "csv" | "html">): Promise<void> {
    const entry = this.files.get(`${tenant}/${month}`) ?? {};
    this.files.set(`${tenant}/${month}`, { ...entry, csv: files.csv, html: files.html });
  }

  async months(tenant: string): Promise<string[]> {
    return (await this.all()).filter((i) => i.tenant === tenant).map((i) => i.month);
  }

  async all(): Promise<Array<{ tenant: string; month: string }>> {
    return [...this.files.entries()]
      .filter(([, f]) => f.json !== undefined)
      .map(([k]) => {
        const [tenant = "", month = ""] = k.split("/");
        return { tenant, month };
      })
      .sort((a, b) => (a.tenant === b.tenant ? a.month.localeCompare(b.month) : a.tenant.localeCompare(b.tenant)));
  }
}
