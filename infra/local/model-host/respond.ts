import type { Server } from "node:http";
import type { LocalHttpReply } from "../in-process-http";
import { RequestError } from "./errors";

/** A JSON answer with its length (model hosts never chunk a buffered answer). */
export function sendJson(res: LocalHttpReply, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(payload) });
  res.end(payload);
}

/**
 * A failed request in the host's own error shape (`bodyOf`): a RequestError's status, else
 * 500. Once headers went out (a stream), the connection is cut instead. A 413 is sent before
 * the body was read: close rather than drain megabytes we refused.
 */
export function sendError(res: LocalHttpReply, err: unknown, bodyOf: (status: number, message: string) => unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const status = err instanceof RequestError ? err.status : 500;
  if (status === 413) res.setHeader("connection", "close");
  sendJson(res, status, bodyOf(status, err instanceof Error ? err.message : String(err)));
}

/** Stops listening and drops keep-alive connections, so a stopped host frees its port at once. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
