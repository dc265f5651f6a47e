import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The reference of the paced case: a bare Node HTTP server that reads a JSON body, parses it and
 * answers a small JSON document — what any Node service pays per request before doing anything.
 * Runs as a child process (`tsx bench/bare-server.ts`), reporting its URL over IPC.
 */
const server = createServer((req, res) => {
  const parts: Buffer[] = [];
  req.on("data", (d: Buffer) => parts.push(d));
  req.on("end", () => {
    const body = JSON.parse(Buffer.concat(parts).toString("utf8")) as unknown;
    const out = JSON.stringify({ ok: true, echoed: typeof body });
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(out) });
    res.end(out);
  });
});
server.keepAliveTimeout = 65_000;
server.listen({ port: 0, host: "127.0.0.1", backlog: 4096 }, () => {
  process.send?.({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
});
process.on("disconnect", () => process.exit(0));
