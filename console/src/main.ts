import "../styles.css";
import { h, notice, replace } from "./dom";
import { invoicesPage } from "./pages/invoices";
import { modelPage, modelsPage } from "./pages/models";
import { overviewPage } from "./pages/overview";
import { describeError, type Page, type PageContext } from "./pages/page";
import { poolsPage } from "./pages/pools";
import { pricesPage } from "./pages/prices";
import { tenantHomePage } from "./pages/tenant-home";
import { tenantPage, tenantsPage } from "./pages/tenants";
import { type Session, session, signIn, signOut } from "./session";
import { signInPage } from "./sign-in";
import { parseSiteConfig, type SiteConfig } from "./site-config";

/** Operator pages by the hash route's first segment; the tenant has one page of its own. */
const ADMIN_PAGES: ReadonlyArray<{ readonly path: string; readonly label: string; readonly page: Page }> = [
  { path: "overview", label: "Overview", page: overviewPage },
  { path: "tenants", label: "Tenants", page: tenantsPage },
  { path: "models", label: "Models", page: modelsPage },
  { path: "pools", label: "Pools", page: poolsPage },
  { path: "prices", label: "Prices", page: pricesPage },
  { path: "invoices", label: "Invoices", page: invoicesPage },
];

const app = document.getElementById("app") as HTMLElement;
/** Stops the previous page's timers when another is shown. */
let leave: (() => void) | undefined;
/** How operators sign in here (config.json), read once at start. */
let config: SiteConfig | undefined;

/** Reads config.json from the console's own origin, next to index.html. */
async function loadSiteConfig(): Promise<SiteConfig> {
  const res = await fetch(new URL("config.json", document.baseURI), { cache: "no-store", credentials: "omit" });
  if (!res.ok) throw new Error(`config.json: HTTP ${res.status}`);
  return parseSiteConfig(await res.json());
}

function route(): string[] {
  return location.hash
    .replace(/^#\/?/, "")
    .split("/")
    .filter(Boolean)
    .map((s) => decodeURIComponent(s));
}

function navigate(path: string): void {
  if (location.hash === `#/${path}`) void render();
  else location.hash = `#/${path}`;
}

/** A link to the page already shown changes no hash: it shows the page afresh instead. */
function reloadIfHere(e: Event): void {
  const href = (e.currentTarget as HTMLAnchorElement).getAttribute("href");
  if (href !== location.hash) return;
  e.preventDefault();
  void render();
}

function shell(s: Session, main: HTMLElement): HTMLElement {
  const here = route()[0];
  const links =
    s.kind === "admin"
      ? ADMIN_PAGES.map((p) =>
          h("li", {}, h("a", { href: `#/${p.path}`, "aria-current": p.path === here ? "page" : null, onclick: reloadIfHere }, p.label)),
        )
      : [h("li", {}, h("a", { href: "#/usage", "aria-current": "page" }, "My usage"))];
  const who = s.kind === "admin" ? `operator ${s.who}` : `tenant ${s.tenantId}`;
  return h(
    "div",
    { class: "shell" },
    h(
      "header",
      { class: "top" },
      h("span", { class: "brand" }, "modelgate"),
      h("nav", { "aria-label": "Pages" }, h("ul", {}, ...links)),
      h("span", { class: "who" }, `Signed in as ${who}`),
      h(
        "button",
        {
          type: "button",
          class: "secondary",
          onclick: () => {
            signOut();
            navigate("");
          },
        },
        "Sign out",
      ),
    ),
    main,
  );
}

async function render(): Promise<void> {
  leave?.();
  leave = undefined;
  const s = session();
  const main = h("main", { id: "main", tabindex: -1 });
  if (!s) {
    replace(app, h("div", { class: "shell" }, main));
    if (!config) {
      try {
        config = await loadSiteConfig();
      } catch (err) {
        main.append(notice("error", `The console cannot start: ${describeError(err)}`));
        return;
      }
    }
    signInPage(main, config, (next) => {
      signIn(next);
      navigate(next.kind === "admin" ? "overview" : "usage");
    });
    return;
  }
  const [first = "", ...rest] = route();
  replace(app, shell(s, main));
  const ctx: PageContext = {
    main,
    params: rest,
    navigate,
    onLeave: (fn) => {
      const prev = leave;
      leave = () => {
        prev?.();
        fn();
      };
    },
  };
  try {
    if (s.kind === "tenant") {
      await tenantHomePage(ctx, s.api);
    } else if (first === "tenants" && rest[0]) {
      await tenantPage(ctx, s.api);
    } else if (first === "models" && rest[0]) {
      await modelPage(ctx, s.api);
    } else {
      const page = ADMIN_PAGES.find((p) => p.path === first) ?? ADMIN_PAGES[0];
      if (page) await page.page(ctx, s.api);
    }
  } catch (err) {
    main.append(notice("error", describeError(err)));
  }
  // Focus the page's heading, so a keyboard or screen reader user starts at the new page.
  main.querySelector<HTMLElement>("h1")?.focus();
}

window.addEventListener("hashchange", () => void render());
void render();
