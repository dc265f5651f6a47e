import { h, replace } from "../dom";
import { type Page, pageTitle } from "./page";

/**
 * PLACEHOLDER — invoices. The invoice and showback routes (`/admin/invoices…`, `/v1/invoices…`,
 * `/admin/showback`) are being built separately; until they land this page says so. When they
 * do: list issued invoices per tenant and month here, each with a download link.
 */
export const invoicesPage: Page = async (ctx) => {
  replace(
    ctx.main,
    pageTitle("Invoices"),
    h(
      "div",
      { class: "placeholder", role: "note", "data-placeholder": "invoices" },
      h("h2", {}, "Not available yet"),
      h(
        "p",
        {},
        "Invoices and showback come with the invoice routes (/admin/invoices, /admin/showback), which this platform does not serve yet. ",
        "Issued invoices will be listed and downloadable here. Until then, see Prices for the price book and Overview for spend.",
      ),
    ),
  );
};
