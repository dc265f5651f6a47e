import { AdminApi, TenantApi } from "./api";
import { field, h, replace } from "./dom";
import { act, formValues, pageTitle, statusRegion } from "./pages/page";
import type { Session } from "./session";

/** The API is on the console's own origin (the local gateway's port; the cloud's API domain behind CloudFront). */
const apiUrl = () => location.origin;

/**
 * Two ways in: the operator with an admin credential pair (locally the `admin` pair of
 * .modelgate/credentials.json), a tenant with an API key that has `usage:read`. Each is checked
 * with one call before the console opens; the secret stays in the session object only.
 */
export function signInPage(main: HTMLElement, done: (s: Session) => void): void {
  const adminStatus = statusRegion();
  const adminForm = h(
    "form",
    { class: "card", "aria-labelledby": "admin-h" },
    h("h2", { id: "admin-h" }, "Operator"),
    h("p", {}, "The admin credential pair: locally the ", h("code", {}, "admin"), " entry of .modelgate/credentials.json."),
    field("Access key id", h("input", { name: "accessKeyId", required: true, autocomplete: "off", spellcheck: "false" })),
    field("Secret access key", h("input", { name: "secretAccessKey", type: "password", required: true, autocomplete: "off" })),
    field("Region", h("input", { name: "region", value: "us-east-1", required: true, autocomplete: "off" })),
    h("button", { type: "submit" }, "Sign in as operator"),
    adminStatus,
  );
  adminForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const v = formValues(adminForm);
    const credentials = { accessKeyId: v.accessKeyId ?? "", secretAccessKey: v.secretAccessKey ?? "" };
    const api = new AdminApi(apiUrl(), v.region || "us-east-1", credentials);
    void act(adminForm.querySelector("button"), adminStatus, async () => {
      await api.get("/admin/tenants", { limit: "1" });
      adminForm.reset();
      done({ kind: "admin", api, accessKeyId: credentials.accessKeyId });
      return undefined;
    });
  });

  const tenantStatus = statusRegion();
  const tenantForm = h(
    "form",
    { class: "card", "aria-labelledby": "tenant-h" },
    h("h2", { id: "tenant-h" }, "Tenant"),
    h("p", {}, "An API key of your tenant with the ", h("code", {}, "usage:read"), " scope."),
    field("API key", h("input", { name: "apiKey", type: "password", required: true, autocomplete: "off", spellcheck: "false" })),
    h("button", { type: "submit" }, "Sign in as tenant"),
    tenantStatus,
  );
  tenantForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const api = new TenantApi(apiUrl(), formValues(tenantForm).apiKey ?? "");
    void act(tenantForm.querySelector("button"), tenantStatus, async () => {
      const report = await api.get<{ tenantId: string }>("/v1/usage", { by: "day" });
      tenantForm.reset();
      done({ kind: "tenant", api, tenantId: report.tenantId });
      return undefined;
    });
  });

  replace(
    main,
    pageTitle("Sign in to modelgate"),
    h("p", {}, "Nothing you type here is stored: closing or reloading the tab signs you out."),
    h("div", { class: "cards" }, adminForm, tenantForm),
  );
}
