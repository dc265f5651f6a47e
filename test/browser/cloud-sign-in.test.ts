import { describe, expect } from "@jest/globals";
import type { Route } from "playwright-core";
import { consoleCsp } from "../../infra/shared/console-csp";
import { e2ePlatform } from "../e2e/helpers";
import { browserTest, consoleUrl, type InPage, useBrowser, watch } from "./browser";

/**
 * The cloud's sign-in, in Chromium, without AWS: the console is served as CloudFront serves it
 * (a `config.json` saying `signIn: "cognito"`, the cloud's CSP naming the region's Cognito
 * endpoints), every request to *.amazonaws.com is answered here by a fake user pool and identity
 * pool (none leaves the machine), and the identity pool's "temporary credentials" are the local
 * admin pair, so the admin calls the console then signs really reach the local platform's API.
 */
describe("the console's cloud sign-in (fake Cognito, real local API)", () => {
  const s = useBrowser();

  browserTest(
    "walks a new password and the TOTP code, then signs admin calls with the identity pool's credentials; nothing stored",
    s,
    async () => {
      const { admin: pair, url } = e2ePlatform();
      const region = pair.region;
      const userPoolId = `${region}_ConsoleTest`;
      const identityPoolId = `${region}:00000000-0000-4000-8000-000000000000`;
      const idToken = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJvcHMifQ.fake-id-token";
      const calls: Array<{ host: string; target: string; body: Record<string, unknown> }> = [];
      const context = await s.browser.newContext();
      const page = await context.newPage();
      const problems: string[] = [];
      watch(page, problems);

      const cors = { "access-control-allow-origin": "*", "access-control-allow-headers": "*", "access-control-allow-methods": "POST" };
      const answer = (route: Route, body: unknown, status = 200) =>
        route.fulfill({ status, headers: { ...cors, "content-type": "application/x-amz-json-1.1" }, body: JSON.stringify(body) });
      // Every AWS endpoint: the fakes below; anything else is aborted, never sent.
      await context.route(/^https:\/\/[^/]+\.amazonaws\.com(\.cn)?\//, async (route) => {
        const req = route.request();
        if (req.method() === "OPTIONS") return route.fulfill({ status: 204, headers: cors });
        const host = new URL(req.url()).host;
        const target = (await req.headerValue("x-amz-target")) ?? "";
        const body = JSON.parse(req.postData() ?? "{}") as Record<string, unknown>;
        calls.push({ host, target, body });
        if (host === `cognito-idp.${region}.amazonaws.com`) {
          const responses = body.ChallengeResponses as Record<string, string> | undefined;
          if (target.endsWith(".InitiateAuth"))
            return answer(route, {
              ChallengeName: "NEW_PASSWORD_REQUIRED",
              Session: "s1",
              ChallengeParameters: { USER_ID_FOR_SRP: "ops-id" },
            });
          if (target.endsWith(".RespondToAuthChallenge") && body.ChallengeName === "NEW_PASSWORD_REQUIRED") {
            return answer(route, { ChallengeName: "SOFTWARE_TOKEN_MFA", Session: "s2", ChallengeParameters: {} });
          }
          if (target.endsWith(".RespondToAuthChallenge") && responses?.SOFTWARE_TOKEN_MFA_CODE === "123456") {
            return answer(route, {
              AuthenticationResult: { IdToken: idToken, AccessToken: "fake-access", RefreshToken: "fake-refresh", ExpiresIn: 3600 },
            });
          }
          return answer(route, { __type: "NotAuthorizedException", message: "unexpected" }, 400);
        }
        if (host === `cognito-identity.${region}.amazonaws.com`) {
          const logins = body.Logins as Record<string, string> | undefined;
          if (logins?.[`cognito-idp.${region}.amazonaws.com/${userPoolId}`] !== idToken) {
            return answer(route, { __type: "NotAuthorizedException", message: "bad logins" }, 400);
          }
          if (target.endsWith(".GetId")) return answer(route, { IdentityId: `${region}:identity-1` });
          if (target.endsWith(".GetCredentialsForIdentity")) {
            return answer(route, {
              IdentityId: `${region}:identity-1`,
              Credentials: {
                AccessKeyId: pair.accessKeyId,
                SecretKey: pair.secretAccessKey,
                SessionToken: "fake-session-token",
                Expiration: Math.floor(Date.now() / 1000) + 3600,
              },
            });
          }
        }
        return route.abort();
      });
      // What CloudFront serves: config.json from the deploy, the CSP with the Cognito endpoints.
      await context.route(`${consoleUrl()}config.json`, (route) =>
        route.fulfill({
          status: 200,
          headers: { "content-type": "application/json", "cache-control": "no-store" },
          body: JSON.stringify({ signIn: "cognito", region, apiUrl: url, userPoolId, userPoolClientId: "console-client", identityPoolId }),
        }),
      );
      await context.route(consoleUrl(), async (route) => {
        const res = await route.fetch();
        const csp = consoleCsp([`https://cognito-idp.${region}.amazonaws.com`, `https://cognito-identity.${region}.amazonaws.com`]);
        await route.fulfill({ response: res, headers: { ...res.headers(), "content-security-policy": csp } });
      });

      await page.goto(consoleUrl());
      await page.getByLabel("Email").fill("ops@example.com");
      await page.getByLabel("Password", { exact: true }).fill("Temporary-Pass-1!");
      await page.getByRole("button", { name: "Sign in as operator" }).click();
      await page.getByLabel("New password").fill("A-much-better-pass-42!");
      await page.getByRole("button", { name: "Set password" }).click();
      await page.getByLabel("Authenticator code").fill("123456");
      await page.getByRole("button", { name: "Verify" }).click();
      await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
      expect(await page.getByText("Signed in as operator ops@example.com").count()).toBe(1);

      // An admin page, signed with the identity pool's credentials (and their session token).
      await page.getByRole("link", { name: "Tenants", exact: true }).click();
      await page.getByRole("heading", { level: 1, name: "Tenants" }).waitFor();
      await page.getByRole("cell", { name: "demo", exact: true }).first().waitFor();

      expect(calls.map((c) => `${c.host.split(".")[0]} ${c.target.replace(/^.*\./, "")}`)).toEqual([
        "cognito-idp InitiateAuth",
        "cognito-idp RespondToAuthChallenge",
        "cognito-idp RespondToAuthChallenge",
        "cognito-identity GetId",
        "cognito-identity GetCredentialsForIdentity",
      ]);
      expect(calls[0]?.body).toMatchObject({
        AuthFlow: "USER_PASSWORD_AUTH",
        ClientId: "console-client",
        AuthParameters: { USERNAME: "ops@example.com" },
      });
      expect(calls[1]?.body).toMatchObject({ ChallengeResponses: { USERNAME: "ops-id", NEW_PASSWORD: "A-much-better-pass-42!" } });
      expect(calls[3]?.body).toMatchObject({ IdentityPoolId: identityPoolId });

      // Tokens and credentials in the tab's memory only: no URL, storage, IndexedDB or cookie holds them.
      expect(page.url()).not.toContain("fake");
      const stored = await page.evaluate(async () => {
        const g = globalThis as unknown as InPage & { indexedDB: { databases(): Promise<Array<{ name?: string }>> } };
        return JSON.stringify({
          local: { ...g.localStorage },
          session: { ...g.sessionStorage },
          cookie: g.document.cookie,
          idb: await g.indexedDB.databases(),
        });
      });
      expect(stored).toBe(JSON.stringify({ local: {}, session: {}, cookie: "", idb: [] }));
      expect(problems).toEqual([]);
      await context.close();
    },
  );
});
