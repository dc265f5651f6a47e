import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import type { HandlerName, RouteMap } from "../contract/routes";
import { NotFoundError, toErrorResponse } from "../core/errors";
import { requestIdOf } from "./event";
import { logger } from "./logger";

/** Fields a route adds to its request's log line (never secrets). */
export type LogFields = Record<string, string | number | undefined>;

export type Route = (event: APIGatewayProxyEvent, log: LogFields) => Promise<APIGatewayProxyResult>;

/**
 * Wraps a function's routes (one per route the table gives function `H`): dispatches on `METHOD resource`, maps every error to the JSON error
 * response, and writes exactly one structured log line per request.
 */
export function httpHandler<H extends HandlerName>(routes: RouteMap<H, Route>) {
  const byKey: Readonly<Record<string, Route | undefined>> = routes;
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const started = Date.now();
    const requestId = requestIdOf(event);
    const log: LogFields = { requestId, route: `${event.httpMethod} ${event.resource}` };
    let result: APIGatewayProxyResult;
    try {
      const route = byKey[`${event.httpMethod} ${event.resource}`];
      if (!route) throw new NotFoundError(`no route for ${event.httpMethod} ${event.path}`);
      result = await route(event, log);
    } catch (err) {
      result = toErrorResponse(err, requestId);
      if (result.statusCode >= 500) logger.error("request failed", { ...log, error: err as Error });
    }
    logger.info("request", { ...log, status: result.statusCode, latencyMs: Date.now() - started });
    return result;
  };
}
