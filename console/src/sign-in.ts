import { fromCognitoIdentityPool } from "@aws-sdk/credential-providers";
import { AdminApi, TenantApi } from "./api";
import { identityPoolCredentials, SessionTokens, type SignInStep, UserPool } from "./cognito";
import { field, h, replace } from "./dom";
import { act, formValues, pageTitle, statusRegion } from "./pages/page";
import type { Session } from "./session";
import type { SiteConfig } from "./site-config";

/** Where the API is: the console's own origin locally (the gateway's port), the stage's URL in the cloud. */
const apiUrlOf = (config: SiteConfig) => (config.signIn === "cognito" ? config.apiUrl : location.origin);

/**
 * Two ways in: the operator (locally with the admin credential pair, the `admin` pair of
 * .modelgate/credentials.json; in the cloud through the Cognito user pool), a tenant with an API
 * key that has `usage:read`. Each is checked with one call before the console opens; the secret
 * stays in the session object only.
 */
export function signInPage(main: HTMLElement, config: SiteConfig, done: (s: Session) => void): void {
  const adminForm = config.signIn === "cognito" ? cognitoOperatorCard(config, done) : localOperatorForm(done);

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
    const api = new TenantApi(apiUrlOf(config), formValues(tenantForm).apiKey ?? "");
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

/** Locally: the admin credential pair, checked with one signed call. */
function localOperatorForm(done: (s: Session) => void): HTMLFormElement {
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
    const api = new AdminApi(location.origin, v.region || "us-east-1", credentials);
    void act(adminForm.querySelector("button"), adminStatus, async () => {
      await api.get("/admin/tenants", { limit: "1" });
      adminForm.reset();
      done({ kind: "admin", api, who: `${credentials.accessKeyId.slice(0, 8)}…` });
      return undefined;
    });
  });

  return adminForm;
}

/**
 * In the cloud: the user pool's sign-in (email and password, then a new password or the TOTP
 * code as the pool asks; a first sign-in sets up the authenticator app), then the identity
 * pool's credentials for the admin role, checked with one signed call. The card's form is
 * replaced at each step; nothing typed or received is kept outside this closure and the session.
 */
function cognitoOperatorCard(config: Extract<SiteConfig, { signIn: "cognito" }>, done: (s: Session) => void): HTMLElement {
  const pool = new UserPool({ region: config.region, clientId: config.userPoolClientId });
  const card = h("section", { class: "card", "aria-labelledby": "admin-h" });
  const status = statusRegion();
  let email = "";

  const show = (form: HTMLFormElement) => {
    replace(card, h("h2", { id: "admin-h" }, "Operator"), form, status);
    form.querySelector<HTMLInputElement>("input")?.focus();
  };
  const step = (form: HTMLFormElement, run: (v: Record<string, string>) => Promise<SignInStep>) => {
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      // Passwords and codes as typed (formValues trims); the email trimmed.
      const v: Record<string, string> = {};
      for (const [k, value] of new FormData(form)) if (typeof value === "string") v[k] = k === "email" ? value.trim() : value;
      void act(form.querySelector("button"), status, async () => {
        const next = await run(v);
        form.reset();
        await advance(next);
        return undefined;
      });
    });
    return form;
  };
  const advance = async (next: SignInStep): Promise<void> => {
    switch (next.kind) {
      case "signedIn": {
        const tokens = new SessionTokens(pool, next.tokens);
        const credentials = identityPoolCredentials(config, tokens, fromCognitoIdentityPool);
        const api = new AdminApi(config.apiUrl, config.region, credentials);
        // A user outside `admins` gets a role that may call nothing: say so here, not on every page.
        await api.get("/admin/tenants", { limit: "1" });
        done({ kind: "admin", api, who: email });
        return;
      }
      case "newPassword":
        show(
          step(
            h(
              "form",
              {},
              h("p", {}, "Choose a new password (at least 14 characters, with upper and lower case, a digit and a symbol)."),
              field(
                "New password",
                h("input", { name: "password", type: "password", required: true, autocomplete: "new-password", minlength: 14 }),
              ),
              h("button", { type: "submit" }, "Set password"),
            ),
            (v) => pool.newPassword(next, v.password ?? ""),
          ),
        );
        return;
      case "mfaCode":
        show(
          step(
            h(
              "form",
              {},
              field(
                "Authenticator code",
                h("input", { name: "code", required: true, inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}" }),
              ),
              h("button", { type: "submit" }, "Verify"),
            ),
            (v) => pool.mfaCode(next, v.code ?? ""),
          ),
        );
        return;
      case "mfaSetup":
        show(
          step(
            h(
              "form",
              {},
              h("p", {}, "Sign-in needs an authenticator app. Add this secret key to yours, then enter the code it shows."),
              h("p", {}, h("code", { class: "secret" }, next.secretCode)),
              field(
                "Authenticator code",
                h("input", { name: "code", required: true, inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}" }),
              ),
              h("button", { type: "submit" }, "Verify and sign in"),
            ),
            (v) => pool.completeMfaSetup(next, v.code ?? ""),
          ),
        );
        return;
    }
  };

  show(
    step(
      h(
        "form",
        {},
        h("p", {}, "Your operator account: a member of the user pool's ", h("code", {}, "admins"), " group."),
        field("Email", h("input", { name: "email", type: "email", required: true, autocomplete: "username", spellcheck: "false" })),
        field("Password", h("input", { name: "password", type: "password", required: true, autocomplete: "current-password" })),
        h("button", { type: "submit" }, "Sign in as operator"),
      ),
      (v) => {
        email = v.email ?? "";
        return pool.signIn(email, v.password ?? "");
      },
    ),
  );
  return card;
}
