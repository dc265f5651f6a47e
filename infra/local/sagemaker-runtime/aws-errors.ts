import { randomUUID } from "node:crypto";
import type { LocalHttpReply } from "../in-process-http";

/**
 * SageMaker Runtime's error shapes (restJson1). The SDK picks the exception class from the
 * `x-amzn-ErrorType` header (then `__type`/`code` in the body), and fills the exception's
 * members from the body by their model names (Message, OriginalStatusCode, ...).
 * Status codes are the ones in the service model, so retry classification matches AWS too.
 */
export type SageMakerErrorType =
  | "ValidationError" // 400
  | "ModelError" // 424
  | "PayloadTooLarge" // 413, "HTTP content length exceeded N bytes."
  | "ModelNotReadyException" // 429
  | "InternalFailure" // 500
  | "ServiceUnavailable"; // 503

const STATUS: Readonly<Record<SageMakerErrorType, number>> = {
  ValidationError: 400,
  PayloadTooLarge: 413,
  ModelError: 424,
  ModelNotReadyException: 429,
  InternalFailure: 500,
  ServiceUnavailable: 503,
};

export class SageMakerError extends Error {
  constructor(
    readonly type: SageMakerErrorType,
    message: string,
    /** Extra body members, e.g. ModelError's OriginalStatusCode/OriginalMessage/LogStreamArn. */
    readonly members: Readonly<Record<string, string | number>> = {},
  ) {
    super(message);
    this.name = type;
  }

  get status(): number {
    return STATUS[this.type];
  }
}

export function sendSageMakerError(res: LocalHttpReply, err: SageMakerError): void {
  const body = JSON.stringify({ ...err.members, Message: err.message });
  res.writeHead(err.status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    "x-amzn-errortype": err.type,
    "x-amzn-requestid": randomUUID(),
  });
  res.end(body);
}
