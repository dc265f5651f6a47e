import { createServer, type Server } from "node:http";
import type { Socket } from "node:net";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createAwsClients } from "../../functions/aws/clients";

/** A socket idle this long is one the server has closed: a request arriving on it is cut off unanswered. */
const SERVER_IDLE_MS = 400;

describe("the DynamoDB client's pooled sockets", () => {
  let server: Server;
  let endpoint = "";
  let cutOff = 0;
  const idleSince = new WeakMap<Socket, number>();
  beforeAll(async () => {
    // As DynamoDB Local does after 30 s, but with the close crossing the client's next request
    // on the wire every time: what a burst after a quiet spell met on some of its sockets.
    server = createServer((req, res) => {
      const since = idleSince.get(req.socket);
      if (since !== undefined && Date.now() - since >= SERVER_IDLE_MS) {
        cutOff++;
        req.socket.destroy();
        return;
      }
      req.resume();
      req.on("end", () => {
        res.setHeader("content-type", "application/x-amz-json-1.0");
        res.end("{}", () => idleSince.set(req.socket, Date.now()));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const { port } = server.address() as { port: number };
    endpoint = `http://127.0.0.1:${port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  /** Attempts each of a burst of reads took, after a first burst and a quiet spell past the server's idle close. */
  async function burstAfterQuiet(idleSocketMs?: number): Promise<number[]> {
    const { dynamo } = createAwsClients({
      dynamodb: { endpoint, region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } },
      ...(idleSocketMs !== undefined ? { dynamodbIdleSocketMs: idleSocketMs } : {}),
    });
    const burst = () => Promise.all(Array.from({ length: 5 }, () => dynamo.send(new GetCommand({ TableName: "t", Key: { pk: "a" } }))));
    await burst();
    await new Promise((r) => setTimeout(r, SERVER_IDLE_MS + 200));
    const answers = await burst();
    dynamo.destroy();
    return answers.map((a) => a.$metadata.attempts ?? 0);
  }

  it("are closed by the client before the server would close them, so a burst after a quiet spell is never cut off", async () => {
    cutOff = 0;
    expect(await burstAfterQuiet(SERVER_IDLE_MS / 2)).toEqual([1, 1, 1, 1, 1]);
    expect(cutOff).toBe(0);
  });

  it("(without it, the same burst is cut off on every reused socket and lives on the SDK's retries)", async () => {
    cutOff = 0;
    const attempts = await burstAfterQuiet();
    expect(cutOff).toBeGreaterThan(0);
    expect(Math.max(...attempts)).toBeGreaterThan(1);
  });
});
