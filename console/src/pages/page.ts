import type { AdminApi } from "../api";
import { ApiError } from "../api";
import { type Child, h, notice, replace } from "../dom";

export interface PageContext {
  /** The page's region; the page fills it. */
  readonly main: HTMLElement;
  /** The hash route's segments after the page's own (`#/tenants/acme` → `["acme"]`). */
  readonly params: readonly string[];
  readonly navigate: (path: string) => void;
  /** Runs when another page is shown (timers, listeners). */
  readonly onLeave: (fn: () => void) => void;
}

export type Page = (ctx: PageContext, api: AdminApi) => Promise<void>;

export function describeError(err: unknown): string {
  if (err instanceof ApiError) return `${err.message} (${err.status} ${err.type}${err.requestId ? `, request ${err.requestId}` : ""})`;
  return err instanceof Error ? err.message : String(err);
}

/** The page's heading: focused when the page is shown (tabindex -1: focusable, not in the tab order). */
export function pageTitle(text: string, ...more: Child[]): HTMLElement {
  return h("h1", { tabindex: -1 }, text, ...more);
}

/**
 * Runs an action from a button: disabled while it runs, its outcome announced in `status`
 * (errors as alerts). Returns whether it succeeded.
 */
export async function act(
  button: HTMLButtonElement | null,
  status: HTMLElement,
  what: () => Promise<string | undefined>,
): Promise<boolean> {
  if (button) button.disabled = true;
  replace(status);
  try {
    const message = await what();
    if (message) replace(status, notice("ok", message));
    return true;
  } catch (err) {
    replace(status, notice("error", describeError(err)));
    return false;
  } finally {
    if (button) button.disabled = false;
  }
}

/** A status region for a page's actions (announced politely; errors are alerts inside it). */
export const statusRegion = () => h("div", { class: "status", "aria-live": "polite" });

/** A form's named input values. */
export function formValues(form: HTMLFormElement): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new FormData(form)) if (typeof v === "string") out[k] = v.trim();
  return out;
}

/** A date-time for people: the ISO time to the second, in UTC. */
export const when = (iso: string | undefined) => (iso ? `${iso.slice(0, 19).replace("T", " ")} UTC` : "—");
