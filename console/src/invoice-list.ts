import { h, table } from "./dom";

/** An issued invoice as the list routes give it (decimal strings in its currency). */
export interface InvoiceSummary {
  readonly invoiceId: string;
  readonly tenant: string;
  readonly month: string;
  readonly currency?: string;
  readonly subtotal?: string;
  readonly adjustments?: string;
  readonly total?: string;
  readonly issuedAt?: string;
}

const FORMATS = [
  ["html", "text/html"],
  ["csv", "text/csv"],
  ["json", "application/json"],
] as const;

/**
 * Issued invoices with a download per format. The document is fetched with the caller's own
 * credentials (SigV4 or the API key) and handed to the browser as a file: no credential in a link.
 */
export function invoiceTable(
  caption: string,
  invoices: readonly InvoiceSummary[],
  fetchText: (id: string, format: string) => Promise<string>,
) {
  const download = (i: InvoiceSummary, format: string, type: string) =>
    h(
      "button",
      {
        type: "button",
        "aria-label": `Download ${i.invoiceId} as ${format.toUpperCase()}`,
        onclick: async () => {
          const text = await fetchText(i.invoiceId, format);
          const url = URL.createObjectURL(new Blob([text], { type }));
          const a = h("a", { href: url, download: `${i.invoiceId}.${format}` });
          document.body.append(a);
          a.click();
          a.remove();
          setTimeout(() => URL.revokeObjectURL(url), 10_000);
        },
      },
      format.toUpperCase(),
    );
  return table(
    caption,
    ["Invoice", "Tenant", "Month", "Total", "Adjustments", "Download"],
    invoices.map((i) => [
      i.invoiceId,
      i.tenant,
      i.month,
      i.total === undefined ? "—" : `${i.total} ${i.currency ?? ""}`,
      i.adjustments ?? "—",
      h("span", { class: "actions" }, ...FORMATS.map(([f, type]) => download(i, f, type))),
    ]),
    { class: "data", "data-table": "invoices" },
  );
}
