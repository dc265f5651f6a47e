import { type AdminApi, seg } from "../api";
import { field, h, replace, table } from "../dom";
import { keysSection } from "./keys";
import { type Limits, limitsFieldset, limitsSummary, readLimits } from "./limits-form";
import { act, formValues, type Page, pageTitle, statusRegion, when } from "./page";

export interface Tenant {
  readonly tenantId: string;
  readonly name?: string;
  readonly models: readonly string[];
  readonly plan?: string;
  readonly status: "active" | "disabled";
  readonly createdAt: string;
  readonly revision: number;
  readonly limits?: Limits;
}

async function modelNames(api: AdminApi): Promise<string[]> {
  const { models } = await api.get<{ models: Array<{ model: string }> }>("/admin/models");
  return models.map((m) => m.model);
}

function modelChoices(all: readonly string[], granted: readonly string[]): HTMLFieldSetElement {
  return h(
    "fieldset",
    { class: "choices" },
    h("legend", {}, "Models granted"),
    ...all.map((m) =>
      h("label", { class: "check" }, h("input", { type: "checkbox", name: "models", value: m, checked: granted.includes(m) }), m),
    ),
  );
}

/** Tenant list pages followed to the end, up to MAX_TENANT_PAGES of 100. */
const MAX_TENANT_PAGES = 20;
async function allTenants(api: AdminApi): Promise<{ tenants: Tenant[]; truncated: boolean }> {
  const tenants: Tenant[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_TENANT_PAGES; page++) {
    const res = await api.get<{ tenants: Tenant[]; cursor?: string }>("/admin/tenants", { limit: "100", cursor });
    tenants.push(...res.tenants);
    cursor = res.cursor;
    if (!cursor) break;
  }
  tenants.sort((a, b) => a.tenantId.localeCompare(b.tenantId));
  return { tenants, truncated: cursor !== undefined };
}

const checkedModels = (form: HTMLFormElement) =>
  [...form.querySelectorAll<HTMLInputElement>('input[name="models"]:checked')].map((i) => i.value);

/** Every tenant, with create, disable, enable and delete. */
export const tenantsPage: Page = async (ctx, api) => {
  const [{ tenants, truncated }, models] = await Promise.all([allTenants(api), modelNames(api)]);
  const status = statusRegion();
  const reload = () => ctx.navigate("tenants");

  const rows = tenants.map((t) => {
    const toggle = h("button", { type: "button", class: "secondary" }, t.status === "active" ? "Disable" : "Enable");
    toggle.addEventListener("click", () => {
      const verb = t.status === "active" ? "disable" : "enable";
      void act(toggle, status, async () => {
        await api.send("POST", `/admin/tenants/${seg(t.tenantId)}/${verb}`);
        reload();
        return undefined;
      });
    });
    const del = h("button", { type: "button", class: "danger" }, "Delete");
    del.setAttribute("aria-label", `Delete tenant ${t.tenantId}`);
    toggle.setAttribute("aria-label", `${toggle.textContent} tenant ${t.tenantId}`);
    del.addEventListener("click", () => {
      if (!confirm(`Delete tenant ${t.tenantId}? Its keys are revoked; its usage is kept.`)) return;
      void act(del, status, async () => {
        await api.send("DELETE", `/admin/tenants/${seg(t.tenantId)}`);
        reload();
        return undefined;
      });
    });
    return [
      h("a", { href: `#/tenants/${seg(t.tenantId)}` }, t.tenantId),
      t.name ?? "",
      t.status,
      t.models.join(", "),
      limitsSummary(t.limits),
      when(t.createdAt),
      h("span", { class: "actions" }, toggle, del),
    ];
  });

  const form = h(
    "form",
    { class: "card", "aria-labelledby": "create-tenant-h" },
    h("h2", { id: "create-tenant-h" }, "Create a tenant"),
    field(
      "Tenant id",
      h("input", { name: "tenantId", required: true, pattern: "[a-z0-9\\-]{3,40}", autocomplete: "off" }),
      "3–40 of a–z, 0–9, -",
    ),
    field("Name", h("input", { name: "name", autocomplete: "off" })),
    field("Plan", h("input", { name: "plan", autocomplete: "off" })),
    modelChoices(models, []),
    h("details", {}, h("summary", {}, "Limits and budget"), limitsFieldset("Limits")),
    h("button", { type: "submit" }, "Create tenant"),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const v = formValues(form);
    const limits = readLimits(v);
    void act(form.querySelector("button[type=submit]"), status, async () => {
      await api.send("POST", "/admin/tenants", {
        tenantId: v.tenantId,
        ...(v.name ? { name: v.name } : {}),
        ...(v.plan ? { plan: v.plan } : {}),
        models: checkedModels(form),
        ...(Object.keys(limits).length ? { limits } : {}),
      });
      ctx.navigate(`tenants/${seg(v.tenantId ?? "")}`);
      return undefined;
    });
  });

  replace(
    ctx.main,
    pageTitle("Tenants"),
    status,
    table("Tenants", ["Tenant", "Name", "Status", "Models", "Limits", "Created", "Actions"], rows, { class: "data" }),
    truncated ? h("p", {}, `The first ${tenants.length} tenants are listed.`) : null,
    form,
  );
};

/** One tenant: name, grants, limits and budget; its keys. */
export async function tenantPage(ctx: Parameters<Page>[0], api: AdminApi): Promise<void> {
  const tenantId = ctx.params[0] ?? "";
  const [tenant, models, prices] = await Promise.all([
    api.get<Tenant>(`/admin/tenants/${seg(tenantId)}`),
    modelNames(api),
    api.get<{ currency: string }>("/admin/prices"),
  ]);
  const status = statusRegion();
  const form = h(
    "form",
    { class: "card", "aria-labelledby": "edit-tenant-h" },
    h("h2", { id: "edit-tenant-h" }, "Name, models, limits and budget"),
    field("Name", h("input", { name: "name", value: tenant.name ?? "", autocomplete: "off" })),
    field("Plan", h("input", { name: "plan", value: tenant.plan ?? "", autocomplete: "off" })),
    modelChoices(models, tenant.models),
    limitsFieldset("Limits (empty: no limit)", tenant.limits, prices.currency),
    h("button", { type: "submit" }, "Save"),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const v = formValues(form);
    void act(form.querySelector("button[type=submit]"), status, async () => {
      await api.send("PATCH", `/admin/tenants/${seg(tenantId)}`, {
        ...(v.name ? { name: v.name } : {}),
        ...(v.plan ? { plan: v.plan } : {}),
        models: checkedModels(form),
        limits: readLimits(v),
      });
      return "Saved.";
    });
  });
  const keys = h("section", { "aria-labelledby": "keys-h" });
  replace(
    ctx.main,
    pageTitle(`Tenant ${tenant.tenantId}`),
    h("p", {}, h("a", { href: "#/tenants" }, "← All tenants")),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Name"),
      h("dd", {}, tenant.name ?? "—"),
      h("dt", {}, "Status"),
      h("dd", {}, tenant.status),
      h("dt", {}, "Created"),
      h("dd", {}, when(tenant.createdAt)),
    ),
    status,
    form,
    keys,
  );
  await keysSection(keys, api, tenantId);
}
