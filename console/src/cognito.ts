import {
  AssociateSoftwareTokenCommand,
  CognitoIdentityProviderClient,
  CognitoIdentityProviderServiceException,
  InitiateAuthCommand,
  type InitiateAuthCommandOutput,
  RespondToAuthChallengeCommand,
  VerifySoftwareTokenCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import type { AwsCredentialIdentity, HttpRequest, HttpResponse, Provider } from "@smithy/types";

/**
 * Signing in to a Cognito user pool from the browser through the SDK's user pool client. Its
 * calls (InitiateAuth, RespondToAuthChallenge, AssociateSoftwareToken, VerifySoftwareToken) are
 * unsigned from a public client; the flow is USER_PASSWORD_AUTH (the pool's browser client
 * allows it and refresh, nothing else: infra/aws/constructs/console-site.ts). `fetch` can be
 * injected, so the sign-in steps are tested without AWS. Tokens live in these objects only:
 * never in storage, a URL or a log.
 */

export type FetchFn = (input: string, init: { method: string; headers: Record<string, string>; body: string }) => Promise<Response>;

export interface Tokens {
  readonly idToken: string;
  readonly accessToken: string;
  readonly refreshToken?: string;
  /** Epoch ms the id token expires at. */
  readonly expiresAt: number;
}

/** Where a sign-in stands: signed in, or a challenge the user must answer. */
export type SignInStep =
  | { readonly kind: "signedIn"; readonly tokens: Tokens }
  | { readonly kind: "newPassword"; readonly username: string; readonly session: string }
  | { readonly kind: "mfaCode"; readonly username: string; readonly session: string }
  /** TOTP is required and this user has none yet: `secretCode` goes into an authenticator app. */
  | { readonly kind: "mfaSetup"; readonly username: string; readonly session: string; readonly secretCode: string };

/** An error the user pool answered with (`NotAuthorizedException`, `CodeMismatchException`, …). */
export class CognitoError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = "CognitoError";
  }
}

export interface UserPoolOptions {
  readonly region: string;
  readonly clientId: string;
  /** @default globalThis.fetch */
  readonly fetch?: FetchFn;
  /** @default Date.now */
  readonly now?: () => number;
}

export class UserPool {
  private readonly client: CognitoIdentityProviderClient;
  private readonly now: () => number;

  constructor(private readonly opts: UserPoolOptions) {
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(opts.region)) throw new Error(`not an AWS region: ${JSON.stringify(opts.region)}`);
    this.client = new CognitoIdentityProviderClient({
      region: opts.region,
      maxAttempts: 1,
      ...(opts.fetch ? { requestHandler: fetchHandler(opts.fetch) } : {}),
    });
    this.now = opts.now ?? Date.now;
  }

  async signIn(username: string, password: string): Promise<SignInStep> {
    const res = await this.call((c) =>
      c.send(
        new InitiateAuthCommand({
          AuthFlow: "USER_PASSWORD_AUTH",
          ClientId: this.opts.clientId,
          AuthParameters: { USERNAME: username, PASSWORD: password },
        }),
      ),
    );
    return this.next(username, res);
  }

  /** Answers NEW_PASSWORD_REQUIRED (a user an administrator created signs in the first time). */
  async newPassword(step: Extract<SignInStep, { kind: "newPassword" }>, password: string): Promise<SignInStep> {
    return this.respond(step, "NEW_PASSWORD_REQUIRED", { NEW_PASSWORD: password });
  }

  /** Answers SOFTWARE_TOKEN_MFA with the authenticator app's code. */
  async mfaCode(step: Extract<SignInStep, { kind: "mfaCode" }>, code: string): Promise<SignInStep> {
    return this.respond(step, "SOFTWARE_TOKEN_MFA", { SOFTWARE_TOKEN_MFA_CODE: code });
  }

  /** Finishes MFA_SETUP: the first code from the app the secret was entered into. */
  async completeMfaSetup(step: Extract<SignInStep, { kind: "mfaSetup" }>, code: string): Promise<SignInStep> {
    const verified = await this.call((c) =>
      c.send(new VerifySoftwareTokenCommand({ Session: step.session, UserCode: code, FriendlyDeviceName: "modelgate console" })),
    );
    if (verified.Status !== "SUCCESS" || !verified.Session) throw new CognitoError("CodeMismatchException", "the code was not accepted");
    return this.respond({ ...step, session: verified.Session }, "MFA_SETUP", {});
  }

  /** New id and access tokens from the refresh token (REFRESH_TOKEN_AUTH); the refresh token stays. */
  async refresh(tokens: Tokens): Promise<Tokens> {
    const refreshToken = tokens.refreshToken;
    if (!refreshToken) throw new CognitoError("NotAuthorizedException", "the session has no refresh token: sign in again");
    const res = await this.call((c) =>
      c.send(
        new InitiateAuthCommand({
          AuthFlow: "REFRESH_TOKEN_AUTH",
          ClientId: this.opts.clientId,
          AuthParameters: { REFRESH_TOKEN: refreshToken },
        }),
      ),
    );
    const fresh = this.tokensOf(res);
    if (!fresh) throw new CognitoError("NotAuthorizedException", "the refresh was refused: sign in again");
    return { ...fresh, refreshToken: fresh.refreshToken ?? tokens.refreshToken };
  }

  private async respond(
    step: { username: string; session: string },
    challenge: string,
    answers: Record<string, string>,
  ): Promise<SignInStep> {
    const res = await this.call((c) =>
      c.send(
        new RespondToAuthChallengeCommand({
          ChallengeName: challenge as RespondChallenge,
          ClientId: this.opts.clientId,
          Session: step.session,
          ChallengeResponses: { USERNAME: step.username, ...answers },
        }),
      ),
    );
    return this.next(step.username, res);
  }

  private async next(username: string, res: AuthResponse): Promise<SignInStep> {
    const tokens = this.tokensOf(res);
    if (tokens) return { kind: "signedIn", tokens };
    // With an email alias the pool names the user by its own id in what follows.
    const user = res.ChallengeParameters?.USER_ID_FOR_SRP ?? username;
    const session = res.Session;
    if (!session) throw new CognitoError("InvalidResponse", "the user pool answered with neither tokens nor a challenge session");
    switch (res.ChallengeName) {
      case "NEW_PASSWORD_REQUIRED":
        return { kind: "newPassword", username: user, session };
      case "SOFTWARE_TOKEN_MFA":
        return { kind: "mfaCode", username: user, session };
      case "MFA_SETUP": {
        const assoc = await this.call((c) => c.send(new AssociateSoftwareTokenCommand({ Session: session })));
        if (!assoc.SecretCode || !assoc.Session) throw new CognitoError("InvalidResponse", "the user pool gave no authenticator secret");
        return { kind: "mfaSetup", username: user, session: assoc.Session, secretCode: assoc.SecretCode };
      }
      default:
        throw new CognitoError(
          "UnsupportedChallenge",
          `sign-in asks for ${res.ChallengeName ?? "nothing"}, which the console does not handle`,
        );
    }
  }

  private tokensOf(res: AuthResponse): Tokens | undefined {
    const r = res.AuthenticationResult;
    if (!r?.IdToken || !r.AccessToken) return undefined;
    return {
      idToken: r.IdToken,
      accessToken: r.AccessToken,
      ...(r.RefreshToken ? { refreshToken: r.RefreshToken } : {}),
      expiresAt: this.now() + (r.ExpiresIn ?? 3600) * 1000,
    };
  }

  /** One call to the pool; its refusals become CognitoError with the pool's error name. */
  private async call<T>(send: (client: CognitoIdentityProviderClient) => Promise<T>): Promise<T> {
    try {
      return await send(this.client);
    } catch (err) {
      if (err instanceof CognitoIdentityProviderServiceException) throw new CognitoError(err.name, err.message);
      throw err;
    }
  }
}

type RespondChallenge = NonNullable<ConstructorParameters<typeof RespondToAuthChallengeCommand>[0]["ChallengeName"]>;
type AuthResponse = Pick<InitiateAuthCommandOutput, "ChallengeName" | "Session" | "ChallengeParameters" | "AuthenticationResult">;

/**
 * The SDK's transport over an injected `fetch` (tests): the request the SDK serialized goes out
 * as it is, and the response's status, headers and body come back for the SDK to parse.
 */
function fetchHandler(fetchFn: FetchFn) {
  return {
    async handle(request: HttpRequest): Promise<{ response: HttpResponse }> {
      const url = `${request.protocol}//${request.hostname}${request.port ? `:${request.port}` : ""}${request.path}`;
      const res = await fetchFn(url, { method: request.method, headers: request.headers, body: String(request.body ?? "") });
      const headers: Record<string, string> = {};
      res.headers.forEach((v, k) => {
        headers[k] = v;
      });
      return { response: { statusCode: res.status, headers, body: res.body ?? new Blob([]).stream() } };
    },
  };
}

/**
 * The signed-in user's tokens, in memory: the id token handed out is refreshed (REFRESH_TOKEN_AUTH)
 * once it is within `marginMs` of expiring; concurrent callers share one refresh.
 */
export class SessionTokens {
  private refreshing?: Promise<Tokens>;

  constructor(
    private readonly pool: Pick<UserPool, "refresh">,
    private tokens: Tokens,
    private readonly now: () => number = Date.now,
    private readonly marginMs = 5 * 60_000,
  ) {}

  async idToken(): Promise<string> {
    if (this.tokens.expiresAt - this.marginMs > this.now()) return this.tokens.idToken;
    this.refreshing ??= this.pool.refresh(this.tokens).finally(() => {
      this.refreshing = undefined;
    });
    this.tokens = await this.refreshing;
    return this.tokens.idToken;
  }
}

/** Makes the identity pool's provider (`fromCognitoIdentityPool` of @aws-sdk/credential-providers). */
export type IdentityPoolProviderFactory = (opts: {
  identityPoolId: string;
  clientConfig: { region: string };
  logins: Record<string, () => Promise<string>>;
}) => Provider<AwsCredentialIdentity>;

/**
 * Temporary AWS credentials of the identity pool's admin role, for SigV4 (AdminApi): the
 * user pool's id token is the login. Reused until `marginMs` before they expire, then fetched
 * again with a fresh id token (SessionTokens), so a tab stays signed in while the refresh token lasts.
 */
export function identityPoolCredentials(
  config: { region: string; userPoolId: string; identityPoolId: string },
  tokens: Pick<SessionTokens, "idToken">,
  make: IdentityPoolProviderFactory,
  now: () => number = Date.now,
  marginMs = 5 * 60_000,
): Provider<AwsCredentialIdentity> {
  const provider = make({
    identityPoolId: config.identityPoolId,
    clientConfig: { region: config.region },
    // With logins and no userIdentifier the SDK caches no identity id (it would use IndexedDB).
    logins: { [`cognito-idp.${config.region}.amazonaws.com/${config.userPoolId}`]: () => tokens.idToken() },
  });
  let current: AwsCredentialIdentity | undefined;
  let pending: Promise<AwsCredentialIdentity> | undefined;
  return async () => {
    if (current && (current.expiration?.getTime() ?? 0) - marginMs > now()) return current;
    pending ??= provider().finally(() => {
      pending = undefined;
    });
    current = await pending;
    return current;
  };
}
