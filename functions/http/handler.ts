import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { NotFoundError, toErrorResponse } from "../core/errors";
import { requestIdOf } from "./event";
import { logger } from "./logger";

/** Fields a route adds to its request's log line (never secrets). */
export type LogFields = Record<string, string | number | undefined>;

export type Route = (event: APIGatewayProxyEvent, log: LogFields) => Promise<APIGatewayProxyResult>;

/**
 * Wraps a handler: dispatches on `METHOD resource`, maps every error to the JSON error
 * response, and writes exactly one structured log line per request.
 */
export function httpHandler(routes: Readonly<Record<string, Route>>) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const started = Date.now();
    const requestId = requestIdOf(event);
    const log: LogFields = { requestId, route: `${event.httpMethod} ${event.resource}` };
    let result: APIGatewayProxyResult;
    try {
      const route = routes[`${event.httpMethod} ${event.resource}`];
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
