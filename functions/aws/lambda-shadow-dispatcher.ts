import { InvokeCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import type { ShadowDispatcher, ShadowRequest } from "../core/shadow";

/**
 * Shadow copies as asynchronous invocations of the shadow function (`InvocationType: Event`):
 * Lambda queues the event and answers 202 at once, so the client's request pays one short
 * hand-off, never the shadow model call. The cheapest correct mechanism we found: no queue to
 * run, no extra instances (the shadow version is a variant the endpoint already serves), and
 * it keeps per-alias sampling, which SageMaker's endpoint-level shadow variants cannot.
 */
export class LambdaShadowDispatcher implements ShadowDispatcher {
  constructor(
    private readonly lambda: LambdaClient,
    private readonly functionName: string,
  ) {}

  async dispatch(req: ShadowRequest): Promise<void> {
    await this.lambda.send(
      new InvokeCommand({ FunctionName: this.functionName, InvocationType: "Event", Payload: Buffer.from(JSON.stringify(req)) }),
    );
  }
}
