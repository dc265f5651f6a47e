import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import {
  type BatchApiDeps,
  cancelBatch,
  completeUpload,
  createBatch,
  createFile,
  createUpload,
  deleteFile,
  fileContent,
  getBatch,
  getFile,
  listBatches,
  MAX_FILE_BYTES,
} from "../core/batch/service";
import { BadRequestError, UnsupportedMediaTypeError } from "../core/errors";
import { toOpenAIErrorResponse } from "../core/openai";
import { type Principal, principalFromContext } from "../core/principal";
import { bodyBytes, header, jsonBody, pathParam, queryParam, requestIdOf } from "../http/event";
import { httpHandler, type LogFields } from "../http/handler";
import { bytes, json } from "../http/respond";

export type BatchHandlerDeps = BatchApiDeps & {
  /** Largest JSON body of the batch routes (creating a batch, an upload). */
  readonly maxBodyBytes: number;
};

type Op = (event: APIGatewayProxyEvent, principal: Principal) => Promise<APIGatewayProxyResult>;

/**
 * The OpenAI Batch API (`/v1/files`, `/v1/batches`) for the calling tenant, and the presigned
 * upload of large input files. OpenAI's error shape, so the `openai` SDK raises its typed errors.
 */
export function createBatchHandler(deps: BatchHandlerDeps) {
  const route =
    (op: Op) =>
    async (event: APIGatewayProxyEvent, log: LogFields): Promise<APIGatewayProxyResult> => {
      try {
        const principal = principalFromContext(event.requestContext.authorizer);
        log.tenantId = principal.tenantId;
        log.keyId = principal.keyId;
        return await op(event, principal);
      } catch (err) {
        const res = toOpenAIErrorResponse(err, requestIdOf(event));
        return { statusCode: res.statusCode, headers: res.headers, body: res.body };
      }
    };
  const ok = (event: APIGatewayProxyEvent, body: unknown, status = 200) => json(status, body, requestIdOf(event));
  const body = (event: APIGatewayProxyEvent) => jsonBody(event, deps.maxBodyBytes).json as Record<string, unknown>;

  return httpHandler<"batch">({
    "POST /v1/files": route(async (event, p) => ok(event, await createFile(deps, p, await multipartFile(event)))),
    "GET /v1/files/{fileId}": route(async (event, p) => ok(event, await getFile(deps, p, pathParam(event, "fileId")))),
    "DELETE /v1/files/{fileId}": route(async (event, p) => ok(event, await deleteFile(deps, p, pathParam(event, "fileId")))),
    "GET /v1/files/{fileId}/content": route(async (event, p) => {
      const content = await fileContent(deps, p, pathParam(event, "fileId"));
      if (content.kind === "redirect") {
        return {
          statusCode: 302,
          headers: { location: content.url, "x-request-id": requestIdOf(event), "cache-control": "no-store" },
          body: "",
        };
      }
      return bytes(200, content.bytes, "application/octet-stream", { "x-request-id": requestIdOf(event) });
    }),
    "POST /v1/batch-uploads": route(async (event, p) => ok(event, await createUpload(deps, p, body(event)), 201)),
    "POST /v1/batch-uploads/{fileId}/complete": route(async (event, p) =>
      ok(event, await completeUpload(deps, p, pathParam(event, "fileId"), event.body ? body(event) : {})),
    ),
    "POST /v1/batches": route(async (event, p) => ok(event, await createBatch(deps, p, body(event)))),
    "GET /v1/batches": route(async (event, p) =>
      ok(event, await listBatches(deps, p, { after: queryParam(event, "after"), limit: queryParam(event, "limit") })),
    ),
    "GET /v1/batches/{batchId}": route(async (event, p) => ok(event, await getBatch(deps, p, pathParam(event, "batchId")))),
    "POST /v1/batches/{batchId}/cancel": route(async (event, p) => ok(event, await cancelBatch(deps, p, pathParam(event, "batchId")))),
  });
}

/** The `file` and `purpose` parts of a multipart/form-data upload (parsed by the runtime's own fetch implementation). */
async function multipartFile(event: APIGatewayProxyEvent): Promise<{ filename: string; purpose: string; bytes: Uint8Array }> {
  const type = header(event, "content-type");
  if (!type || !/^multipart\/form-data\b/i.test(type)) {
    throw new UnsupportedMediaTypeError(`content-type must be multipart/form-data, got '${type ?? "none"}'`);
  }
  // The form's own framing adds a little: the file itself is held to MAX_FILE_BYTES below.
  const raw = bodyBytes(event, MAX_FILE_BYTES + 64 * 1024);
  let form: FormData;
  try {
    form = await new Response(raw, { headers: { "content-type": type } }).formData();
  } catch {
    throw new BadRequestError("the body is not valid multipart/form-data");
  }
  const file = form.get("file");
  const purpose = form.get("purpose");
  if (file === null || typeof file === "string") throw new BadRequestError("the form has no 'file' part");
  if (typeof purpose !== "string") throw new BadRequestError("the form has no 'purpose' field");
  return { filename: file.name || "input.jsonl", purpose, bytes: new Uint8Array(await file.arrayBuffer()) };
}
