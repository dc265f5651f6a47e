/**
 * `config.json`, beside the console's files: how operators sign in. The local host serves
 * `{"signIn":"local"}` (the admin credential pair, the API on the console's origin); the cloud's
 * is written at deploy from ConsoleSite.siteConfig (infra/aws/constructs/console-site.ts).
 */
export type SiteConfig =
  | { readonly signIn: "local" }
  | {
      readonly signIn: "cognito";
      readonly region: string;
      /** The API stage's URL: another origin than the console's (CORS admits the console's). */
      readonly apiUrl: string;
      readonly userPoolId: string;
      readonly userPoolClientId: string;
      readonly identityPoolId: string;
    };

const COGNITO_FIELDS = ["region", "apiUrl", "userPoolId", "userPoolClientId", "identityPoolId"] as const;

/** A config.json's content checked: a field missing or of the wrong type is named. */
export function parseSiteConfig(raw: unknown): SiteConfig {
  const o = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
  if (o.signIn === "local") return { signIn: "local" };
  if (o.signIn !== "cognito") throw new Error(`config.json: signIn must be "local" or "cognito", got ${JSON.stringify(o.signIn)}`);
  const out: Record<string, string> = {};
  for (const f of COGNITO_FIELDS) {
    const v = o[f];
    if (typeof v !== "string" || v === "") throw new Error(`config.json: ${f} must be a non-empty string`);
    out[f] = v;
  }
  // HTTPS, or plain HTTP on this machine's loopback (a browser treats it as secure: the cloud
  // sign-in tried against the local platform, test/browser/cloud-sign-in.test.ts).
  if (!/^(https:\/\/|http:\/\/(127\.0\.0\.1|localhost)(:\d+)?(\/|$))/.test(out.apiUrl ?? "")) {
    throw new Error("config.json: apiUrl must be an https:// URL");
  }
  return { signIn: "cognito", ...(out as Record<(typeof COGNITO_FIELDS)[number], string>) };
}
