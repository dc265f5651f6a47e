import type { IncomingMessage } from "node:http";

/**
 * Buffers a request body for the local servers (gateway, model host, Lambda emulator). With
 * a limit, refuses with `tooLarge()` as soon as the body is known to exceed `maxBytes`: from
 * Content-Length before reading anything, else while streaming. The rest of a refused body is
 * drained, so the connection can still carry the refusal.
 */
export function readBody(req: IncomingMessage, limit?: { readonly maxBytes: number; readonly tooLarge: () => unknown }): Promise<Buffer> {
  const maxBytes = limit?.maxBytes ?? Number.POSITIVE_INFINITY;
  const tooLarge = limit?.tooLarge ?? (() => new Error("request body too large"));
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.off("data", onData);
        req.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)));
    req.once("error", reject);
  });
}
