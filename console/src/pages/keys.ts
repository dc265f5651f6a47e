import { type AdminApi, seg } from "../api";
import { field, h, notice, replace, table } from "../dom";
import { act, formValues, statusRegion, when } from "./page";

interface KeyInfo {
  readonly keyId: string;
  readonly prefix: string;
  readonly name?: string;
  readonly scopes: readonly string[];
  readonly status: string;
  readonly createdAt: string;
  readonly lastUsedAt?: string;
  readonly expiresAt?: string;
  readonly replacedBy?: string;
}

interface NewKey {
  readonly keyId: string;
  readonly apiKey: string;
  readonly previousKeyId?: string;
  readonly previousValidUntil?: string;
}

/**
 * A new key, shown this once: a read-only field to select and a copy button. Dismissed, it is
 * gone: the console keeps no copy, and the API never returns it again.
 */
function secretBox(key: NewKey, dismiss: () => void): HTMLElement {
  const input = h("input", {
    readonly: true,
    value: key.apiKey,
    id: "new-key",
    class: "secret-value",
    autocomplete: "off",
    spellcheck: "false",
  });
  const copied = h("span", { class: "copied", "aria-live": "polite" });
  const copy = h("button", { type: "button" }, "Copy");
  copy.addEventListener("click", () => {
    input.select();
    navigator.clipboard.writeText(input.value).then(
      () => replace(copied, "Copied."),
      () => replace(copied, "Copy failed: select the key and copy it yourself."),
    );
  });
  const done = h("button", { type: "button", class: "secondary" }, "Done: I have stored it");
  done.addEventListener("click", dismiss);
  const rotated = key.previousKeyId ? ` It replaces ${key.previousKeyId}, which stays valid until ${when(key.previousValidUntil)}.` : "";
  return h(
    "div",
    { class: "card secret", role: "region", "aria-labelledby": "new-key-h" },
    h("h3", { id: "new-key-h" }, `New API key ${key.keyId}`),
    h("p", {}, `Copy it now: it is shown this once and never again.${rotated}`),
    h("label", { for: "new-key" }, "API key"),
    h("div", { class: "row" }, input, copy, done),
    copied,
  );
}

/** A tenant's keys: create (shown once), rotate with a grace period, revoke. */
export async function keysSection(container: HTMLElement, api: AdminApi, tenantId: string): Promise<void> {
  const base = `/admin/tenants/${seg(tenantId)}/keys`;
  const status = statusRegion();
  const shown = h("div", { class: "shown-once" });
  const list = h("div", { class: "table-wrap" });

  const reveal = (key: NewKey) => {
    const box = secretBox(key, () => {
      replace(shown);
      list.querySelector<HTMLElement>("caption")?.focus();
    });
    replace(shown, box);
    box.querySelector<HTMLInputElement>("input")?.focus();
  };

  async function refresh(): Promise<void> {
    const { keys } = await api.get<{ keys: KeyInfo[] }>(base);
    const rows = keys.map((k) => {
      const live = k.status === "active";
      const grace = h("input", {
        type: "number",
        min: 0,
        max: 2592000,
        value: 3600,
        name: "grace",
        "aria-label": `Grace seconds for ${k.keyId}`,
        class: "short",
      });
      const rotate = h("button", { type: "button", class: "secondary", "aria-label": `Rotate key ${k.keyId}` }, "Rotate");
      rotate.addEventListener("click", () => {
        void act(rotate, status, async () => {
          const key = await api.send<NewKey>("POST", `${base}/${seg(k.keyId)}/rotate`, { graceSeconds: Number(grace.value || 0) });
          await refresh();
          reveal(key);
          return `Key ${k.keyId} rotated; the old key stays valid for ${grace.value || 0} s.`;
        });
      });
      const revoke = h("button", { type: "button", class: "danger", "aria-label": `Revoke key ${k.keyId}` }, "Revoke");
      revoke.addEventListener("click", () => {
        if (!confirm(`Revoke key ${k.keyId}? Requests with it are refused from the next authorizer cache expiry.`)) return;
        void act(revoke, status, async () => {
          await api.send("DELETE", `${base}/${seg(k.keyId)}`);
          await refresh();
          return `Key ${k.keyId} revoked.`;
        });
      });
      return [
        k.keyId,
        k.name ?? "",
        `${k.prefix}…`,
        k.scopes.join(", "),
        k.status,
        when(k.createdAt),
        when(k.lastUsedAt),
        when(k.expiresAt),
        live ? h("span", { class: "actions" }, grace, rotate, revoke) : "",
      ];
    });
    replace(
      list,
      keys.length
        ? table(
            "API keys",
            ["Key id", "Name", "Prefix", "Scopes", "Status", "Created", "Last used", "Expires", "Rotate (grace s) / revoke"],
            rows,
            {
              class: "data",
            },
          )
        : notice("info", "No keys yet."),
    );
    list.querySelector("caption")?.setAttribute("tabindex", "-1");
  }

  const form = h(
    "form",
    { class: "card", "aria-labelledby": "create-key-h" },
    h("h3", { id: "create-key-h" }, "Create a key"),
    field("Key name", h("input", { name: "name", autocomplete: "off" })),
    h(
      "fieldset",
      { class: "choices" },
      h("legend", {}, "Scopes"),
      h("label", { class: "check" }, h("input", { type: "checkbox", name: "scope", value: "invoke", checked: true }), "invoke"),
      h("label", { class: "check" }, h("input", { type: "checkbox", name: "scope", value: "usage:read", checked: true }), "usage:read"),
    ),
    field("Expires at", h("input", { name: "expiresAt", type: "datetime-local" }), "optional, UTC"),
    h("button", { type: "submit" }, "Create key"),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const v = formValues(form);
    const scopes = [...form.querySelectorAll<HTMLInputElement>('input[name="scope"]:checked')].map((i) => i.value);
    void act(form.querySelector("button[type=submit]"), status, async () => {
      const key = await api.send<NewKey>("POST", base, {
        ...(v.name ? { name: v.name } : {}),
        scopes,
        ...(v.expiresAt ? { expiresAt: new Date(`${v.expiresAt}Z`).toISOString() } : {}),
      });
      form.reset();
      await refresh();
      reveal(key);
      return `Key ${key.keyId} created.`;
    });
  });

  replace(container, h("h2", { id: "keys-h" }, "API keys"), status, shown, list, form);
  await refresh();
}
