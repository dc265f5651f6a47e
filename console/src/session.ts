import type { AdminApi, TenantApi } from "./api";

/**
 * Who is signed in. Held in this module's memory only: a reload or a closed tab signs out, and
 * no secret is written to a URL, a log, localStorage or a cookie.
 */
export type Session =
  /** `who`: what the header shows (the access key id's start locally, the email in the cloud). */
  | { readonly kind: "admin"; readonly api: AdminApi; readonly who: string }
  | { readonly kind: "tenant"; readonly api: TenantApi; readonly tenantId: string };

let current: Session | undefined;

export const session = (): Session | undefined => current;

export function signIn(s: Session): void {
  current = s;
}

export function signOut(): void {
  current = undefined;
}
