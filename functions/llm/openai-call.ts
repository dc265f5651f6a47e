import type { APIGatewayProxyEvent } from "aws-lambda";
import type { UpstreamRoute } from "../contract/upstream-route";
import type { InferenceRequest } from "../core/inference";
import { type Principal, principalFromContext } from "../core/principal";
import { header, requestIdOf } from "../http/event";
import type { LogFields } from "../http/handler";

/** Who is calling an OpenAI route, and when the gateway received the call. */
export interface OpenAICall {
  readonly requestId: string;
  readonly receivedAt: number;
  readonly principal: Principal;
}

/** The call's identity from the authorizer's context (never from the body), logged with the request. */
export function openAICall(event: APIGatewayProxyEvent, log: LogFields): OpenAICall {
  const principal = principalFromContext(event.requestContext.authorizer);
  log.tenantId = principal.tenantId;
  log.keyId = principal.keyId;
  return { requestId: requestIdOf(event), receivedAt: event.requestContext.requestTimeEpoch ?? Date.now(), principal };
}

/** What every OpenAI route's inference request holds before its own body and token reservation. */
export function openAIInferenceHead(
  event: APIGatewayProxyEvent,
  call: OpenAICall,
  ref: { readonly model: string; readonly selector: InferenceRequest["selector"] },
  route: UpstreamRoute,
  json: unknown,
): Omit<InferenceRequest, "body" | "tokenReservation"> {
  return {
    ...call,
    model: ref.model,
    selector: ref.selector,
    // Sticky routing keeps a caller on one version: its own key unless it names another.
    routingKey: header(event, "x-routing-key") ?? call.principal.keyId,
    protocol: "openai",
    route,
    json,
    contentType: "application/json",
  };
}
