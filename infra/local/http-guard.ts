import type { Server, ServerOptions } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface ListenerLimits {
  /** Time a client has to send the request line and headers. @default 10 s */
  readonly headersTimeoutMs?: number;
  /** Time a client has to send the whole request, body included (not the response). @default 60 s */
  readonly requestTimeoutMs?: number;
  /** Open connections beyond which new ones are dropped at once. @default 4096 */
  readonly maxConnections?: number;
}

/** The JSON body (and extra headers) a listener answers a protocol-level refusal with. */
export type ClientErrorBody = (status: number, message: string) => { readonly body: string; readonly headers?: Record<string, string> };

const REASONS: Readonly<Record<number, string>> = {
  400: "Bad Request",
  408: "Request Timeout",
  413: "Payload Too Large",
  431: "Request Header Fields Too Large",
};

/**
 * node:http options against slow clients (slowloris): time limits for the headers and for the
 * whole request, checked every second (Node's default check runs every 30 s).
 */
export function listenerOptions(limits: ListenerLimits = {}): ServerOptions {
  const headersTimeout = limits.headersTimeoutMs ?? 10_000;
  return {
    headersTimeout,
    requestTimeout: Math.max(limits.requestTimeoutMs ?? 60_000, headersTimeout),
    connectionsCheckingInterval: Math.min(1_000, headersTimeout),
  };
}

/**
 * Fences a node:http listener of the local platform (created with `listenerOptions`) against
 * hostile clients: a connection cap, and a JSON answer to requests Node's parser refuses itself
 * (its default is a bare 400 with no body) or that time out. Handlers still own everything Node
 * parses: they must catch their own errors.
 */
export function guardListener(server: Server, errorBody: ClientErrorBody, limits: ListenerLimits = {}): void {
  server.maxConnections = limits.maxConnections ?? 4096;
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    // A reset or half-written response leaves nothing to answer.
    if (
      err.code === "ECONNRESET" ||
      !socket.writable ||
      (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent
    ) {
      socket.destroy();
      return;
    }
    const status =
      err.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? 408
        : err.code === "HPE_HEADER_OVERFLOW"
          ? 431
          : err.code === "HPE_CHUNK_EXTENSIONS_OVERFLOW"
            ? 413
            : 400;
    const message =
      status === 408 ? "the request was not received in time" : status === 431 ? "request headers too large" : "malformed HTTP request";
    const { body, headers = {} } = errorBody(status, message);
    const lines = [
      `HTTP/1.1 ${status} ${REASONS[status] ?? "Bad Request"}`,
      "content-type: application/json",
      `content-length: ${Buffer.byteLength(body)}`,
      "connection: close",
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    ];
    socket.end(`${lines.join("\r\n")}\r\n\r\n${body}`);
  });
}

export interface LingerLimits {
  /** Longest time the rest of a refused body is read and discarded. @default 5 s */
  readonly maxMs?: number;
  /** Most bytes discarded before the connection is closed regardless. @default 64 MiB */
  readonly maxBytes?: number;
}

/**
 * A bounded lingering close, as nginx's `lingering_close`, for a response sent before its
 * request's body was read (a refusal from the headers alone). Closing at once would reset the
 * connection while the client is still sending, and a client that writes its whole body before
 * reading (most do) sees ECONNRESET instead of the status. So the response goes out with
 * `connection: close`, the write side is shut (FIN), and what still arrives is discarded until the
 * client closes, `maxMs` passes or `maxBytes` arrive, whichever is first; then the socket goes.
 *
 * Node's server ends such a connection through `socket.destroySoon()` once the response is
 * written; this replaces that one call on this one socket. The parser goes on consuming (and the
 * dumped request discarding) the body meanwhile.
 */
export function lingerOnClose(socket: Socket, limits: LingerLimits = {}): void {
  const maxMs = limits.maxMs ?? 5_000;
  const maxBytes = limits.maxBytes ?? 64 * 1024 * 1024;
  socket.destroySoon = function lingeringClose(this: Socket) {
    if (this.destroyed) return;
    const startBytes = this.bytesRead;
    const close = () => {
      clearTimeout(deadline);
      clearInterval(meter);
      this.destroy();
    };
    const deadline = setTimeout(close, maxMs);
    // bytesRead, not 'data' events: the HTTP parser reads the socket's handle directly.
    const meter = setInterval(() => {
      if (this.bytesRead - startBytes > maxBytes) close();
    }, 50);
    deadline.unref();
    meter.unref();
    this.once("end", close);
    this.once("close", close);
    this.end();
  };
}

/** `decodeURIComponent` that answers undefined instead of throwing on a malformed escape. */
export function tryDecodeURIComponent(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/**
 * The path and query of a request target, or undefined when `URL` refuses it. An origin-form
 * target (`/a/b`) is appended to a fixed origin rather than resolved against it, so `//host/x`
 * stays the path `//host/x` (as API Gateway sees it) instead of naming a host.
 */
export function parseRequestTarget(target: string | undefined): URL | undefined {
  const t = target ?? "/";
  try {
    return t.startsWith("/") ? new URL(`http://localhost${t}`) : new URL(t);
  } catch {
    return undefined;
  }
}

/**
 * For `npm start`: a stray promise rejection is logged and the platform keeps serving; Node's
 * default would end the process and every listener with it.
 */
export function logUnhandledRejections(log: (line: string) => void = (line) => console.error(line)): void {
  process.on("unhandledRejection", (reason) => {
    log(
      `modelgate: unhandled promise rejection (still running): ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`,
    );
  });
}

/**
 * Listens on loopback unless told otherwise (port 0: any free one) and says where: the
 * local services must never be reachable from the network by default.
 */
export async function listenLocal(server: Server, port = 0, host = "127.0.0.1"): Promise<{ readonly port: number; readonly url: string }> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return { port: bound, url: `http://${host.includes(":") ? `[${host}]` : host}:${bound}` };
}
