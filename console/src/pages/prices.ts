import { h, replace, table } from "../dom";
import { type Page, pageTitle, when } from "./page";

interface Price {
  readonly model: string;
  readonly version?: number;
  readonly tenant?: string;
  readonly currency: string;
  readonly effectiveFrom: string;
  readonly status?: string;
  readonly components: Readonly<Record<string, string>>;
}

const COMPONENTS: ReadonlyArray<[string, string]> = [
  ["perRequest", "per request"],
  ["perMillionInput", "per 1M input tokens"],
  ["perMillionCachedInput", "per 1M cached input tokens"],
  ["perMillionOutput", "per 1M output tokens"],
  ["perSecond", "per second"],
];

/** The price book: prices in force and scheduled (`GET /admin/prices`). */
export const pricesPage: Page = async (ctx, api) => {
  const { currency, prices } = await api.get<{ currency: string; prices: Price[] }>("/admin/prices");
  replace(
    ctx.main,
    pageTitle("Prices"),
    h("p", {}, `Prices in force and scheduled, in ${currency}. A request is priced once, with the price in force when it was received.`),
    table(
      "Price book",
      ["Model", "Version", "Tenant", "From", "Status", ...COMPONENTS.map(([, label]) => label)],
      prices.map((p) => [
        p.model,
        p.version === undefined ? "all" : String(p.version),
        p.tenant ?? "list price",
        when(p.effectiveFrom),
        p.status ?? "",
        ...COMPONENTS.map(([k]) => p.components[k] ?? "—"),
      ]),
      { class: "data" },
    ),
  );
};
