import { describe, expect, it } from "@jest/globals";
import type { AwsCredentialIdentity } from "@smithy/types";
import {
  CognitoError,
  type FetchFn,
  type IdentityPoolProviderFactory,
  identityPoolCredentials,
  SessionTokens,
  type Tokens,
  UserPool,
} from "../../console/src/cognito";
import { parseSiteConfig } from "../../console/src/site-config";

/** A user pool that answers from a script: each call's operation and body recorded. No AWS endpoint is called. */
function scripted(answers: Array<{ status?: number; body: unknown }>) {
  const calls: Array<{ url: string; operation: string; body: Record<string, unknown>; headers: Record<string, string> }> = [];
  const fetch: FetchFn = async (url, init) => {
    calls.push({
      url,
      operation: (init.headers["x-amz-target"] ?? "").replace("AWSCognitoIdentityProviderService.", ""),
      body: JSON.parse(init.body) as Record<string, unknown>,
      headers: init.headers,
    });
    const next = answers.shift();
    if (!next) throw new Error("unexpected call");
    return new Response(JSON.stringify(next.body), { status: next.status ?? 200 });
  };
  return { calls, fetch };
}

const NOW = 1_800_000_000_000;
const result = (id = "id-1", refresh: string | null = "refresh-1") => ({
  AuthenticationResult: { IdToken: id, AccessToken: `access-${id}`, ...(refresh ? { RefreshToken: refresh } : {}), ExpiresIn: 3600 },
});
const pool = (fetch: FetchFn) => new UserPool({ region: "eu-west-1", clientId: "client-1", fetch, now: () => NOW });

describe("the console's Cognito user pool sign-in (protocol only, fake fetch)", () => {
  it("signs in with USER_PASSWORD_AUTH on the region's endpoint and keeps the tokens with their expiry", async () => {
    const s = scripted([{ body: result() }]);
    const step = await pool(s.fetch).signIn("ops@example.com", "Correct-Horse-9!");
    expect(step).toEqual({
      kind: "signedIn",
      tokens: { idToken: "id-1", accessToken: "access-id-1", refreshToken: "refresh-1", expiresAt: NOW + 3_600_000 },
    });
    expect(s.calls).toEqual([
      {
        url: "https://cognito-idp.eu-west-1.amazonaws.com/",
        operation: "InitiateAuth",
        // Sent by the SDK's user pool client: its JSON protocol, and no signature (a public client).
        headers: expect.objectContaining({
          "content-type": "application/x-amz-json-1.1",
          "x-amz-target": "AWSCognitoIdentityProviderService.InitiateAuth",
        }),
        body: {
          AuthFlow: "USER_PASSWORD_AUTH",
          ClientId: "client-1",
          AuthParameters: { USERNAME: "ops@example.com", PASSWORD: "Correct-Horse-9!" },
        },
      },
    ]);
    expect(Object.keys(s.calls[0]?.headers ?? {}).map((h) => h.toLowerCase())).not.toContain("authorization");
  });

  it("walks NEW_PASSWORD_REQUIRED then SOFTWARE_TOKEN_MFA, answering as the pool's own user id", async () => {
    const s = scripted([
      { body: { ChallengeName: "NEW_PASSWORD_REQUIRED", Session: "s1", ChallengeParameters: { USER_ID_FOR_SRP: "uuid-7" } } },
      { body: { ChallengeName: "SOFTWARE_TOKEN_MFA", Session: "s2", ChallengeParameters: {} } },
      { body: result() },
    ]);
    const p = pool(s.fetch);
    const first = await p.signIn("ops@example.com", "temporary");
    expect(first).toEqual({ kind: "newPassword", username: "uuid-7", session: "s1" });
    if (first.kind !== "newPassword") throw new Error("unreachable");
    const second = await p.newPassword(first, "A-new-password-42!");
    expect(second).toEqual({ kind: "mfaCode", username: "uuid-7", session: "s2" });
    if (second.kind !== "mfaCode") throw new Error("unreachable");
    expect((await p.mfaCode(second, "123456")).kind).toBe("signedIn");
    expect(s.calls.map((c) => [c.operation, c.body.ChallengeName, c.body.Session, c.body.ChallengeResponses])).toEqual([
      ["InitiateAuth", undefined, undefined, undefined],
      ["RespondToAuthChallenge", "NEW_PASSWORD_REQUIRED", "s1", { USERNAME: "uuid-7", NEW_PASSWORD: "A-new-password-42!" }],
      ["RespondToAuthChallenge", "SOFTWARE_TOKEN_MFA", "s2", { USERNAME: "uuid-7", SOFTWARE_TOKEN_MFA_CODE: "123456" }],
    ]);
  });

  it("sets up TOTP on a first sign-in: the secret to show, then verify and answer MFA_SETUP", async () => {
    const s = scripted([
      { body: { ChallengeName: "MFA_SETUP", Session: "s1", ChallengeParameters: {} } },
      { body: { SecretCode: "JBSWY3DPEHPK3PXP", Session: "s2" } },
      { body: { Status: "SUCCESS", Session: "s3" } },
      { body: result() },
    ]);
    const p = pool(s.fetch);
    const setup = await p.signIn("ops", "pw");
    expect(setup).toEqual({ kind: "mfaSetup", username: "ops", session: "s2", secretCode: "JBSWY3DPEHPK3PXP" });
    if (setup.kind !== "mfaSetup") throw new Error("unreachable");
    expect((await p.completeMfaSetup(setup, "654321")).kind).toBe("signedIn");
    expect(s.calls.map((c) => c.operation)).toEqual([
      "InitiateAuth",
      "AssociateSoftwareToken",
      "VerifySoftwareToken",
      "RespondToAuthChallenge",
    ]);
    expect(s.calls[1]?.body).toEqual({ Session: "s1" });
    expect(s.calls[2]?.body).toMatchObject({ Session: "s2", UserCode: "654321" });
    expect(s.calls[3]?.body).toMatchObject({ ChallengeName: "MFA_SETUP", Session: "s3", ChallengeResponses: { USERNAME: "ops" } });
  });

  it("turns the pool's errors into CognitoError by type, without echoing what was typed", async () => {
    const s = scripted([
      { status: 400, body: { __type: "NotAuthorizedException", message: "Incorrect username or password." } },
      { status: 400, body: { __type: "com.amazonaws.cognito#CodeMismatchException", message: "Invalid code." } },
      { body: { ChallengeName: "SMS_MFA", Session: "s" } },
    ]);
    const p = pool(s.fetch);
    const err = await p.signIn("ops", "hunter2-secret").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CognitoError);
    expect(err).toMatchObject({ type: "NotAuthorizedException", message: "Incorrect username or password." });
    expect(String((err as Error).message)).not.toContain("hunter2");
    await expect(p.mfaCode({ kind: "mfaCode", username: "u", session: "s" }, "1")).rejects.toMatchObject({ type: "CodeMismatchException" });
    await expect(p.signIn("ops", "pw")).rejects.toMatchObject({ type: "UnsupportedChallenge" });
    expect(() => new UserPool({ region: "evil.example/x", clientId: "c" })).toThrow(/region/);
  });
});

describe("the signed-in tab's tokens and credentials: in memory, refreshed before they expire", () => {
  const tokens = (at: number, id = "id-1"): Tokens => ({ idToken: id, accessToken: "a", refreshToken: "r", expiresAt: at });

  it("refreshes the id token (REFRESH_TOKEN_AUTH) within five minutes of expiry, once for concurrent callers", async () => {
    const s = scripted([{ body: result("id-2", null) }]);
    let now = NOW;
    const p = new UserPool({ region: "eu-west-1", clientId: "client-1", fetch: s.fetch, now: () => now });
    const session = new SessionTokens(p, tokens(NOW + 3_600_000), () => now);
    expect(await session.idToken()).toBe("id-1");
    now = NOW + 3_600_000 - 60_000;
    expect(await Promise.all([session.idToken(), session.idToken()])).toEqual(["id-2", "id-2"]);
    expect(s.calls).toHaveLength(1);
    expect(s.calls[0]?.body).toEqual({ AuthFlow: "REFRESH_TOKEN_AUTH", ClientId: "client-1", AuthParameters: { REFRESH_TOKEN: "r" } });
    // The refresh token is kept: the answer to a refresh carries none.
    now += 3_600_000;
    const again = scripted([{ body: result("id-3", null) }]);
    const p2 = new UserPool({ region: "eu-west-1", clientId: "client-1", fetch: again.fetch, now: () => now });
    expect(await p2.refresh({ ...tokens(0), refreshToken: "r" })).toMatchObject({ idToken: "id-3", refreshToken: "r" });
  });

  it("gets the admin role's credentials from the identity pool with the user pool's id token, reused until near expiry", async () => {
    let now = NOW;
    const made: Array<Parameters<IdentityPoolProviderFactory>[0]> = [];
    let issued = 0;
    const seen: string[] = [];
    const make: IdentityPoolProviderFactory = (opts) => {
      made.push(opts);
      return async (): Promise<AwsCredentialIdentity> => {
        for (const login of Object.values(opts.logins)) seen.push(await login());
        issued += 1;
        return { accessKeyId: `AKIA${issued}`, secretAccessKey: "s", sessionToken: "t", expiration: new Date(now + 3_600_000) };
      };
    };
    const idTokens = ["id-1", "id-2"];
    const provider = identityPoolCredentials(
      { region: "eu-west-1", userPoolId: "eu-west-1_Abc", identityPoolId: "eu-west-1:pool" },
      { idToken: async () => idTokens.shift() ?? "none" },
      make,
      () => now,
    );
    expect(made).toEqual([
      {
        identityPoolId: "eu-west-1:pool",
        clientConfig: { region: "eu-west-1" },
        logins: { "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc": expect.any(Function) },
      },
    ]);
    expect((await provider()).accessKeyId).toBe("AKIA1");
    now += 30 * 60_000;
    expect((await provider()).accessKeyId).toBe("AKIA1");
    now += 28 * 60_000;
    expect((await provider()).accessKeyId).toBe("AKIA2");
    expect(seen).toEqual(["id-1", "id-2"]);
  });
});

describe("config.json", () => {
  const cloud = {
    signIn: "cognito",
    region: "eu-west-1",
    apiUrl: "https://abc.execute-api.eu-west-1.amazonaws.com/prod/",
    userPoolId: "eu-west-1_Abc",
    userPoolClientId: "client",
    identityPoolId: "eu-west-1:pool",
  };

  it("reads the local and the cloud shapes, and names a missing or bad field", () => {
    expect(parseSiteConfig({ signIn: "local" })).toEqual({ signIn: "local" });
    expect(parseSiteConfig(cloud)).toEqual(cloud);
    expect(() => parseSiteConfig({ ...cloud, identityPoolId: "" })).toThrow(/identityPoolId/);
    expect(() => parseSiteConfig({ ...cloud, apiUrl: "http://abc" })).toThrow(/apiUrl/);
    expect(() => parseSiteConfig({ ...cloud, apiUrl: "http://127.0.0.1.evil.example/" })).toThrow(/apiUrl/);
    expect(parseSiteConfig({ ...cloud, apiUrl: "http://127.0.0.1:8080" })).toMatchObject({ apiUrl: "http://127.0.0.1:8080" });
    expect(() => parseSiteConfig({})).toThrow(/signIn/);
  });
});
