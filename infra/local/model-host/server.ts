import { createServer } from "node:http";
import { InferenceSession } from "onnxruntime-node";
import { guardListener, listenerOptions, listenLocal } from "../http-guard";
import { registerInProcessContainer } from "../in-process-containers";
import { fromNodeRequest, type LocalHttpReply, type LocalHttpRequest } from "../in-process-http";
import { decodeInferRequest } from "./decode-request";
import { ModelLoadError, RequestError } from "./errors";
import type { InferResponse, ModelSignature } from "./kserve";
import { closeServer, sendError, sendJson } from "./respond";
import { signatureFromSession } from "./signature";
import { tensorToJson } from "./tensor-data";

export interface ModelHost {
  readonly url: string;
  readonly port: number;
  readonly signature: ModelSignature;
  close(): Promise<void>;
}

/** What every local model host (ONNX, LLM, embedding) is started with besides its model files. */
export interface ModelHostListenOptions {
  modelName: string;
  version: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** Default 6 MB, SageMaker's real-time payload limit. */
  maxBodyBytes?: number;
  /**
   * onnxruntime intra-op threads. Default 1: the demo models are tiny, where fanning one
   * request over threads costs more than it saves (measured ~2x fewer req/s with ORT's default);
   * throughput comes from concurrent requests instead. Raise it for large models.
   */
  intraOpNumThreads?: number;
}

export interface ModelHostOptions extends ModelHostListenOptions {
  modelPath: string;
}

export const DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024;

/**
 * A local stand-in for the GPU model container: the SageMaker container contract
 * (GET /ping, POST /invocations) carrying KServe v2 JSON, served by onnxruntime on CPU.
 * It listens before the model is loaded, so /ping answers 503 until the session is ready,
 * as a real container does while it warms up; the promise resolves once it is ready.
 */
export async function startOnnxModelHost(opts: ModelHostOptions): Promise<ModelHost> {
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  let model: { session: InferenceSession; signature: ModelSignature } | undefined;

  const serve = (req: LocalHttpRequest, res: LocalHttpReply) =>
    handle(req, res).catch((err) => sendError(res, err, (_status, message) => ({ error: message })));
  const server = createServer(listenerOptions(), (req, res) => void serve(fromNodeRequest(req), res));
  // Longer than the usual client agent idle timeouts, so pooled connections are reused, not raced.
  server.keepAliveTimeout = 65_000;
  guardListener(server, (_status, message) => ({ body: JSON.stringify({ error: message }) }));

  async function handle(req: LocalHttpRequest, res: LocalHttpReply): Promise<void> {
    const path = req.url.split("?", 1)[0];
    if (path === "/ping") {
      if (req.method !== "GET") throw new RequestError(405, "use GET /ping");
      if (!model) return sendJson(res, 503, { error: "model is loading" });
      return sendJson(res, 200, { status: "ready" });
    }
    if (path !== "/invocations") throw new RequestError(404, `no route ${req.method} ${path}`);
    if (req.method !== "POST") throw new RequestError(405, "use POST /invocations");
    const body = await req.body(maxBodyBytes, () => new RequestError(413, `request body exceeds the limit of ${maxBodyBytes} bytes`));
    if (!model) throw new RequestError(503, "model is loading");
    const { session, signature } = model;
    const request = decodeInferRequest(body.toString("utf8"), signature);
    let results: InferenceSession.ReturnType;
    try {
      results = await session.run(request.feeds, request.outputNames);
    } catch (err) {
      // Inputs were validated against the signature, so a failure here is the model's, not the client's.
      throw new Error(`inference failed: ${(err as Error).message}`);
    }
    const response: InferResponse = {
      model_name: opts.modelName,
      model_version: String(opts.version),
      ...(request.id !== undefined && { id: request.id }),
      outputs: request.outputNames.map((name) => {
        const tensor = results[name];
        const meta = signature.outputs.find((t) => t.name === name);
        if (!tensor || !meta) throw new Error(`onnxruntime returned no output '${name}'`);
        return { name, datatype: meta.datatype, shape: tensor.dims.slice(), data: tensorToJson(tensor) };
      }),
    };
    sendJson(res, 200, response);
  }

  const { port, url } = await listenLocal(server, opts.port, opts.host);
  // The emulator of this process calls it without a socket; other processes over HTTP.
  const unregister = registerInProcessContainer(url, serve);
  try {
    const session = await InferenceSession.create(opts.modelPath, {
      intraOpNumThreads: opts.intraOpNumThreads ?? 1,
    });
    model = { session, signature: signatureFromSession(session) };
  } catch (err) {
    unregister();
    await closeServer(server);
    throw new ModelLoadError(opts.modelPath, err);
  }

  const loaded = model;
  return {
    url,
    port,
    signature: loaded.signature,
    async close() {
      unregister();
      await closeServer(server);
      await loaded.session.release();
    },
  };
}
