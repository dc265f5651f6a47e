import { createServer } from "node:http";
import { guardListener, listenerOptions, listenLocal } from "../http-guard";
import { registerInProcessContainer } from "../in-process-containers";
import { fromNodeRequest, type LocalHttpReply, type LocalHttpRequest } from "../in-process-http";
import { RequestError } from "./errors";
import { closeServer, sendError, sendJson } from "./respond";

/** OpenAI's error shape, which vLLM's server also answers with. */
export function openAIErrorBody(status: number, message: string) {
  const type = status === 404 ? "NotFoundError" : status < 500 ? "BadRequestError" : "InternalServerError";
  return { error: { message, type, param: null, code: status } };
}

export interface OpenAIHostListener {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The listener of a local host with vLLM's OpenAI surface (the LLM and embedding hosts): GET /ping
 * and GET /v1/models (the one model) answered here, every other request to `handle` with its
 * path; failures in OpenAI's error shape; hostile requests and slow clients fenced as on every
 * local listener; and the SageMaker emulator of this process calls it without a socket.
 */
export async function listenOpenAIHost(opts: {
  readonly modelName: string;
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  readonly handle: (req: LocalHttpRequest, res: LocalHttpReply, path: string) => Promise<void>;
}): Promise<OpenAIHostListener> {
  const route = async (req: LocalHttpRequest, res: LocalHttpReply) => {
    const path = req.url.split("?", 1)[0] ?? "";
    if (path === "/ping") {
      if (req.method !== "GET") throw new RequestError(405, "use GET /ping");
      return sendJson(res, 200, { status: "healthy" });
    }
    if (path === "/v1/models" && req.method === "GET") {
      return sendJson(res, 200, { object: "list", data: [{ id: opts.modelName, object: "model", created: 0, owned_by: "modelgate" }] });
    }
    return opts.handle(req, res, path);
  };
  const serve = (req: LocalHttpRequest, res: LocalHttpReply) => route(req, res).catch((err) => sendError(res, err, openAIErrorBody));
  const server = createServer(listenerOptions(), (req, res) => void serve(fromNodeRequest(req), res));
  // Longer than the usual client agent idle timeouts, so pooled connections are reused, not raced.
  server.keepAliveTimeout = 65_000;
  guardListener(server, (status, message) => ({ body: JSON.stringify(openAIErrorBody(status, message)) }));
  const { port, url } = await listenLocal(server, opts.port, opts.host);
  const unregister = registerInProcessContainer(url, serve);
  return {
    url,
    port,
    async close() {
      unregister();
      await closeServer(server);
    },
  };
}
