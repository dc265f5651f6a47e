import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { authorizeKey, wholeApiResource } from "../core/authorize";
import { UnauthorizedError } from "../core/errors";
import { presentedKey } from "../core/key-format";
import type { KeyStore } from "../core/ports";
import { principalToContext } from "../core/principal";
import { logger } from "../http/logger";

export interface AuthorizerDeps {
  readonly keys: KeyStore;
}

export type AuthorizerHandler = (event: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;

/**
 * REQUEST authorizer. Refusals throw the literal "Unauthorized", which API Gateway turns into
 * a 401 (a Deny policy would be a 403). The policy covers the whole API because API Gateway
 * caches the result per identity source across routes.
 */
export function createAuthorizerHandler(deps: AuthorizerDeps): AuthorizerHandler {
  return async (event) => {
    const requestId = event.requestContext?.requestId;
    try {
      const principal = await authorizeKey(deps.keys, presentedKey(event.headers ?? {}));
      logger.info("authorized", { requestId, tenantId: principal.tenantId, keyId: principal.keyId });
      return {
        principalId: `${principal.tenantId}/${principal.keyId}`,
        policyDocument: {
          Version: "2012-10-17",
          Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: wholeApiResource(event.methodArn) }],
        },
        context: principalToContext(principal),
      };
    } catch (err) {
      if (err instanceof UnauthorizedError) {
        logger.info("refused", { requestId, reason: String(err.cause) });
        throw new Error("Unauthorized");
      }
      // Store failures must not read as a bad key: API Gateway answers 500 for these.
      logger.error("authorizer failed", { requestId, error: err as Error });
      throw err;
    }
  };
}
