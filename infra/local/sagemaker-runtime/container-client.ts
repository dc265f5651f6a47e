import { type Agent, type IncomingHttpHeaders, request } from "node:http";
import { PassThrough, type Readable } from "node:stream";
import { inProcessContainer } from "../in-process-containers";
import { bufferedReply, inMemoryRequest, type LocalServe, streamedReply } from "../in-process-http";

/** The container could not be reached at all (refused, reset before answering, DNS...). */
export class ContainerUnreachableError extends Error {
  override readonly name = "ContainerUnreachableError";
}

/** The container did not answer within the invocation timeout. */
export class ContainerTimeoutError extends Error {
  override readonly name = "ContainerTimeoutError";
}

export interface ContainerResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

function containerUrl(base: string, path: string): URL {
  return new URL(path, base.endsWith("/") ? base : `${base}/`);
}

/** A container's answer as it streams in: status and headers, then the body's chunks (a Readable, as node:http's response is). */
export type ContainerStream = Readable & {
  readonly statusCode?: number;
  readonly headers: IncomingHttpHeaders;
};

type ContainerInit = { method: "GET" | "POST"; path: string; headers?: Record<string, string>; body?: Buffer };

/**
 * Sends one request to a container and resolves with its response stream once the headers
 * arrive. The timeout covers the whole exchange: when it fires the stream is destroyed with
 * ContainerTimeoutError, including mid-body, as SageMaker's 60 s container timeout does.
 * A container this process serves itself is called in process (./in-process-containers.ts).
 */
export function openContainerRequest(
  base: string,
  init: ContainerInit,
  agent: Agent,
  timeoutMs: number,
): Promise<{ response: ContainerStream; timedOut: () => boolean }> {
  const url = containerUrl(base, init.path);
  const local = inProcessContainer(url);
  return local ? openInProcess(local, url, init, timeoutMs) : openOverHttp(url, init, agent, timeoutMs);
}

/** The exchange over a socket, with a container of another process. */
function openOverHttp(
  url: URL,
  init: ContainerInit,
  agent: Agent,
  timeoutMs: number,
): Promise<{ response: ContainerStream; timedOut: () => boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method, agent, headers: init.headers });
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      req.destroy(new ContainerTimeoutError(`no complete response from the container within ${timeoutMs} ms`));
    }, timeoutMs);
    const finished = () => clearTimeout(timer);
    req.once("response", (response) => {
      response.once("end", finished);
      response.once("close", finished);
      resolve({ response, timedOut: () => expired });
    });
    req.once("error", (err) => {
      finished();
      reject(err instanceof ContainerTimeoutError ? err : new ContainerUnreachableError(err.message, { cause: err }));
    });
    req.end(init.body);
  });
}

/** A whole container exchange, body buffered. */
export async function callContainer(base: string, init: ContainerInit, agent: Agent, timeoutMs: number): Promise<ContainerResponse> {
  const url = containerUrl(base, init.path);
  const local = inProcessContainer(url);
  if (local) return callInProcess(local, url, init, timeoutMs);
  const { response, timedOut } = await openOverHttp(url, init, agent, timeoutMs);
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of response) chunks.push(chunk as Buffer);
  } catch (err) {
    // Destroying the request (our timeout) surfaces on the response as a generic "aborted".
    if (timedOut()) throw new ContainerTimeoutError(`no complete response from the container within ${timeoutMs} ms`);
    throw new ContainerUnreachableError((err as Error).message, { cause: err });
  }
  return { status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) };
}

/** The request a container served by this process reads. */
function inProcessRequest(url: URL, init: ContainerInit) {
  const headers: IncomingHttpHeaders = {};
  for (const [k, v] of Object.entries(init.headers ?? {})) headers[k.toLowerCase()] = v;
  return inMemoryRequest(init.method, `${url.pathname}${url.search}`, headers, init.body ?? Buffer.alloc(0));
}

/** A whole exchange with a container served by this process: its reply handed over whole, the same timeout. */
function callInProcess(serve: LocalServe, url: URL, init: ContainerInit, timeoutMs: number): Promise<ContainerResponse> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reply.abandon();
      reject(new ContainerTimeoutError(`no complete response from the container within ${timeoutMs} ms`));
    }, timeoutMs);
    const reply = bufferedReply(
      (status, headers, body) => {
        clearTimeout(timer);
        resolve({ status, headers, body });
      },
      (err) => {
        clearTimeout(timer);
        reject(new ContainerUnreachableError(err.message, { cause: err }));
      },
    );
    serve(inProcessRequest(url, init), reply).catch((err: unknown) => {
      clearTimeout(timer);
      reject(new ContainerUnreachableError((err as Error).message, { cause: err }));
    });
  });
}

/** The same exchange with a container served by this process, streamed: no socket, the same timeout. */
function openInProcess(
  serve: LocalServe,
  url: URL,
  init: ContainerInit,
  timeoutMs: number,
): Promise<{ response: ContainerStream; timedOut: () => boolean }> {
  return new Promise((resolve, reject) => {
    const body = new PassThrough();
    const head: { statusCode?: number; headers: IncomingHttpHeaders } = { headers: {} };
    let answered = false;
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      const err = new ContainerTimeoutError(`no complete response from the container within ${timeoutMs} ms`);
      if (answered) body.destroy(err);
      else reject(err);
    }, timeoutMs);
    const finished = () => clearTimeout(timer);
    body.once("end", finished).once("close", finished);
    const response: ContainerStream = Object.defineProperties(body, {
      statusCode: { get: () => head.statusCode },
      headers: { get: () => head.headers },
    }) as PassThrough & { statusCode?: number; headers: IncomingHttpHeaders };
    const reply = streamedReply(body, (status, all) => {
      answered = true;
      head.statusCode = status;
      head.headers = all;
      resolve({ response, timedOut: () => expired });
    });
    serve(inProcessRequest(url, init), reply).catch((err: unknown) => {
      finished();
      if (answered) body.destroy(err as Error);
      else reject(new ContainerUnreachableError((err as Error).message, { cause: err }));
    });
  });
}
