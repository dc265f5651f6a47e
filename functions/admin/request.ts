import type { APIGatewayProxyEvent } from "aws-lambda";

/** Who made an admin call: the IAM principal API Gateway verified (SigV4). */
export function actorOf(event: APIGatewayProxyEvent): string {
  return event.requestContext.identity?.userArn ?? event.requestContext.identity?.caller ?? "unknown";
}
