import { Agent } from "node:http";
import { InvokeEndpointCommand, SageMakerRuntimeClient } from "@aws-sdk/client-sagemaker-runtime";
import { afterEach, describe, expect, it } from "@jest/globals";
import { registerInProcessContainer } from "../../infra/local/in-process-containers";
import { bufferedReply, type LocalServe } from "../../infra/local/in-process-http";
import { ContainerTimeoutError, ContainerUnreachableError, callContainer } from "../../infra/local/sagemaker-runtime/container-client";
import { InProcessHttpHandler } from "../../infra/local/sagemaker-runtime/in-process-handler";

/**
 * Buffered calls handed over in process (the handlers' SDK to the SageMaker emulator, the
 * emulator to a model host) get the server's reply whole, with a socket's outcomes: the
 * server's status, headers and body; a cut reply or a dead server fails the call; the caller's
 * timeout or abort ends the exchange, and the server sees its reader go.
 */
const container = "http://127.0.0.1:1";
const agent = new Agent();
let unregister: (() => void) | undefined;
afterEach(() => unregister?.());

const serveWith = (serve: LocalServe) => {
  unregister = registerInProcessContainer(container, serve);
};

describe("a buffered reply", () => {
  it("hands over the status, the headers set either way, and every byte written, once the server ends it", async () => {
    let closed = false;
    const done = new Promise<{ status: number; headers: Record<string, string>; body: string }>((resolve, reject) => {
      const reply = bufferedReply((status, headers, body) => resolve({ status, headers, body: body.toString("utf8") }), reject);
      reply.once("close", () => {
        closed = true;
      });
      reply.setHeader("X-Set-Early", "1");
      reply.writeHead(201, { "Content-Type": "application/json" });
      expect(reply.write('{"a":')).toBe(true);
      reply.write(new Uint8Array([49]));
      reply.end("}");
      expect(reply.destroyed).toBe(true);
    });
    expect(await done).toEqual({ status: 201, headers: { "x-set-early": "1", "content-type": "application/json" }, body: '{"a":1}' });
    expect(closed).toBe(true);
  });

  it("a reply the server cuts fails, and nothing it writes after counts", async () => {
    const outcomes: string[] = [];
    const reply = bufferedReply(
      () => outcomes.push("done"),
      (err) => outcomes.push(err.message),
    );
    reply.writeHead(200, {});
    reply.write("partial");
    reply.destroy();
    reply.end("more");
    expect(outcomes).toEqual(["the server cut the response"]);
  });
});

describe("a buffered call to a container this process serves", () => {
  it("gets the container's answer whole", async () => {
    serveWith(async (req, res) => {
      const body = await req.body(1024, () => new Error("too large"));
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ echoed: body.toString("utf8"), path: req.url }));
    });
    const answer = await callContainer(container, { method: "POST", path: "/invocations?x=1", body: Buffer.from("hi") }, agent, 1_000);
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(answer.body.toString("utf8"))).toEqual({ echoed: "hi", path: "/invocations?x=1" });
  });

  it("times out a container that never finishes, and the container sees its caller go", async () => {
    let sawClose = false;
    serveWith(async (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write("{");
      res.once("close", () => {
        sawClose = true;
      });
    });
    await expect(callContainer(container, { method: "POST", path: "/invocations" }, agent, 50)).rejects.toBeInstanceOf(
      ContainerTimeoutError,
    );
    expect(sawClose).toBe(true);
  });

  it("a container that fails or cuts its answer is unreachable, as a reset socket is", async () => {
    serveWith(async () => {
      throw new Error("the container crashed");
    });
    await expect(callContainer(container, { method: "POST", path: "/invocations" }, agent, 1_000)).rejects.toBeInstanceOf(
      ContainerUnreachableError,
    );
    serveWith(async (_req, res) => {
      res.writeHead(200, {});
      res.write("half");
      res.destroy();
    });
    await expect(callContainer(container, { method: "POST", path: "/invocations" }, agent, 1_000)).rejects.toThrow(
      "the server cut the response",
    );
  });
});

describe("the SDK's buffered call handed to the emulator in process", () => {
  const clientOver = (serve: LocalServe) =>
    new SageMakerRuntimeClient({
      endpoint: "http://127.0.0.1:9",
      region: "us-east-1",
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
      maxAttempts: 1,
      requestHandler: new InProcessHttpHandler(serve),
    });

  it("parses the emulator's whole reply: body, content type, and a modeled error", async () => {
    const client = clientOver(async (req, res) => {
      if (req.url.includes("/endpoints/missing/")) {
        res.writeHead(400, { "content-type": "application/x-amz-json-1.1", "x-amzn-errortype": "ValidationError" });
        res.end(JSON.stringify({ message: "Endpoint missing not found." }));
        return;
      }
      res.writeHead(200, { "content-type": "application/json", "x-amzn-invoked-production-variant": "v1" });
      res.end('{"outputs":[1]}');
    });
    const out = await client.send(
      new InvokeEndpointCommand({ EndpointName: "e", Body: Buffer.from("{}"), ContentType: "application/json" }),
    );
    expect(new TextDecoder().decode(out.Body)).toBe('{"outputs":[1]}');
    expect(out.ContentType).toBe("application/json");
    expect(out.InvokedProductionVariant).toBe("v1");
    await expect(client.send(new InvokeEndpointCommand({ EndpointName: "missing", Body: Buffer.from("{}") }))).rejects.toMatchObject({
      name: "ValidationError",
      message: "Endpoint missing not found.",
    });
  });

  it("an aborted call fails at once, and the emulator sees its caller go", async () => {
    let sawClose = false;
    const client = clientOver(async (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.once("close", () => {
        sawClose = true;
      });
    });
    const abort = new AbortController();
    const call = client.send(new InvokeEndpointCommand({ EndpointName: "e", Body: Buffer.from("{}") }), { abortSignal: abort.signal });
    setTimeout(() => abort.abort(), 20);
    await expect(call).rejects.toMatchObject({ name: "AbortError" });
    expect(sawClose).toBe(true);
  });
});
