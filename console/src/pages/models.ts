import { type AliasTarget, describeTarget, parseShadow, parseTargets, targetsText } from "../alias-text";
import { type AdminApi, seg } from "../api";
import { field, h, replace, table } from "../dom";
import { act, formValues, type Page, type PageContext, pageTitle, statusRegion, when } from "./page";

interface ModelSummary {
  readonly model: string;
  readonly description?: string;
  readonly defaultAlias?: string;
  readonly versions: number;
  readonly ready: number;
  readonly latest?: number;
  readonly aliases: readonly string[];
}

interface Alias extends AliasTarget {
  readonly alias: string;
  readonly revision: number;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

interface HistoryEntry {
  readonly revision: number;
  readonly from: AliasTarget | null;
  readonly to: AliasTarget;
  readonly at: string;
  readonly by: string;
  readonly rollbackOf?: number;
}

interface Version {
  readonly version: number;
  readonly status: string;
  readonly runtime: string;
  readonly createdAt: string;
  readonly statusReason?: string;
}

/** Every model: versions, ready versions, aliases. */
export const modelsPage: Page = async (ctx, api) => {
  const { models } = await api.get<{ models: ModelSummary[] }>("/admin/models");
  replace(
    ctx.main,
    pageTitle("Models"),
    table(
      "Models",
      ["Model", "Description", "Versions", "Ready", "Latest", "Aliases"],
      models.map((m) => [
        h("a", { href: `#/models/${seg(m.model)}` }, m.model),
        m.description ?? "",
        String(m.versions),
        String(m.ready),
        m.latest === undefined ? "—" : String(m.latest),
        m.aliases.join(", "),
      ]),
      { class: "data" },
    ),
  );
};

async function aliasCard(api: AdminApi, model: string, alias: Alias, reload: () => void): Promise<HTMLElement> {
  const base = `/admin/models/${seg(model)}/aliases/${seg(alias.alias)}`;
  const { history } = await api.get<{ history: HistoryEntry[] }>(`${base}/history`, { limit: "20" });
  const status = statusRegion();
  const id = `alias-${alias.alias}`;
  const form = h(
    "form",
    { class: "move", "aria-label": `Move alias ${alias.alias}` },
    field(
      "Target",
      h("input", { name: "target", value: targetsText(alias.targets), required: true, autocomplete: "off" }),
      'a version ("2") or weights ("1:70, 2:30")',
    ),
    field(
      "Shadow",
      h("input", { name: "shadow", value: alias.shadow ? `${alias.shadow.version}:${alias.shadow.percent}` : "", autocomplete: "off" }),
      'optional, "version:percent"',
    ),
    field("Fallback", h("input", { name: "fallback", type: "number", min: 1, value: alias.fallback ?? "" }), "optional version"),
    h("button", { type: "submit" }, `Move ${alias.alias}`),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const v = formValues(form);
    void act(form.querySelector("button"), status, async () => {
      const shadow = parseShadow(v.shadow ?? "");
      await api.send("PUT", base, {
        target: parseTargets(v.target ?? ""),
        ...(shadow ? { shadow } : {}),
        ...(v.fallback ? { fallback: Number(v.fallback) } : {}),
        expectedRevision: alias.revision,
      });
      reload();
      return undefined;
    });
  });
  const rollback = h("button", { type: "button", class: "secondary" }, `Roll back ${alias.alias}`);
  rollback.disabled = history.length < 2;
  rollback.addEventListener("click", () => {
    void act(rollback, status, async () => {
      await api.send("POST", `${base}/rollback`);
      reload();
      return undefined;
    });
  });
  return h(
    "section",
    { class: "card alias", "aria-labelledby": id },
    h("h3", { id }, `Alias ${alias.alias}`),
    h("p", { class: "current" }, `${describeTarget(alias)} (revision ${alias.revision}, ${when(alias.updatedAt)} by ${alias.updatedBy})`),
    status,
    form,
    rollback,
    table(
      `History of ${alias.alias}`,
      ["Revision", "From", "To", "At", "By"],
      history.map((e) => [
        String(e.revision),
        describeTarget(e.from),
        `${describeTarget(e.to)}${e.rollbackOf !== undefined ? ` (rollback of ${e.rollbackOf})` : ""}`,
        when(e.at),
        e.by,
      ]),
      { class: "data history" },
    ),
  );
}

/** One model: its versions, and each alias with move (weights, shadow, fallback), rollback and history. */
export async function modelPage(ctx: PageContext, api: AdminApi): Promise<void> {
  const model = ctx.params[0] ?? "";
  const m = await api.get<{ model: string; description?: string; defaultAlias: string; versions: Version[]; aliases: Alias[] }>(
    `/admin/models/${seg(model)}`,
  );
  const reload = () => ctx.navigate(`models/${seg(model)}`);
  const cards = await Promise.all(m.aliases.map((a) => aliasCard(api, model, a, reload)));
  replace(
    ctx.main,
    pageTitle(`Model ${m.model}`),
    h("p", {}, h("a", { href: "#/models" }, "← All models")),
    m.description ? h("p", {}, m.description) : null,
    table(
      "Versions",
      ["Version", "Status", "Runtime", "Created"],
      m.versions.map((v) => [
        String(v.version),
        v.statusReason ? `${v.status} (${v.statusReason})` : v.status,
        v.runtime,
        when(v.createdAt),
      ]),
      { class: "data" },
    ),
    h("h2", {}, `Aliases (default: ${m.defaultAlias})`),
    ...cards,
  );
}
