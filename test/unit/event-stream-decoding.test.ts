import { Readable } from "node:stream";
import {
  InvokeEndpointWithResponseStreamCommand,
  ModelStreamError,
  type ResponseStream,
  SageMakerRuntimeClient,
} from "@aws-sdk/client-sagemaker-runtime";
import { describe, expect, it } from "@jest/globals";
import { EventStreamCodec } from "@smithy/eventstream-codec";
import type { HttpResponse } from "@smithy/types";
import { fromUtf8, toUtf8 } from "@smithy/util-utf8";
import { eventStreamDecoding } from "../../functions/aws/event-stream-decoding";
import { encodeModelStreamError, encodePayloadPart } from "../../infra/local/sagemaker-runtime/event-stream";

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const parts = ['data: {"a":1}\n\n', 'data: {"b":2}\n\n', "", "ü — split inside a character", "x".repeat(70_000)];
const frames = parts.map((p) => encodePayloadPart(fromUtf8(p)));

/** A SageMaker Runtime client whose every streamed call answers `chunks`, with this decoding or the SDK's. */
function client(chunks: readonly Uint8Array[], ours: boolean): SageMakerRuntimeClient {
  const response = (): HttpResponse =>
    ({
      statusCode: 200,
      headers: { "content-type": "application/vnd.amazon.eventstream" },
      body: Readable.from(chunks.map((c) => Buffer.from(c))),
    }) as HttpResponse;
  return new SageMakerRuntimeClient({
    region: "us-east-1",
    endpoint: "http://127.0.0.1:1",
    credentials: { accessKeyId: "a", secretAccessKey: "b" },
    maxAttempts: 1,
    ...(ours ? { eventStreamSerdeProvider: eventStreamDecoding } : {}),
    requestHandler: { handle: async () => ({ response: response() }) },
  });
}

/** Every event of one streamed call, or the error it ended with, after the events before it. */
async function read(chunks: readonly Uint8Array[], ours: boolean): Promise<{ events: ResponseStream[]; error?: unknown }> {
  const out = await client(chunks, ours).send(new InvokeEndpointWithResponseStreamCommand({ EndpointName: "e", Body: fromUtf8("{}") }));
  const events: ResponseStream[] = [];
  try {
    for await (const e of out.Body ?? []) events.push(e);
    return { events };
  } catch (error) {
    return { events, error };
  }
}

const bytesOf = (events: ResponseStream[]) => events.map((e) => toUtf8(e.PayloadPart?.Bytes ?? new Uint8Array()));
const joined = (chunks: readonly Uint8Array[]) => Buffer.concat(chunks);
/** `bytes` cut into pieces of `size`. */
const cut = (bytes: Uint8Array, size: number) =>
  Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));

describe("the one-pass event-stream decoding, against the SDK's own", () => {
  it.each([
    ["one message per chunk", frames, parts],
    ["all messages in one chunk", [joined(frames)], parts],
    ["every chunk 1 byte", cut(joined(frames.slice(0, 3)), 1), parts.slice(0, 3)],
    ["chunks of 7 bytes across message ends", cut(joined(frames), 7), parts],
    ["chunks of 4,096 bytes through a 70-KB message", cut(joined(frames), 4096), parts],
  ])("reads the same payload parts as the SDK: %s", async (_, chunks, expected) => {
    const ours = await read(chunks, true);
    expect(ours.error).toBeUndefined();
    expect(bytesOf(ours.events)).toEqual(expected);
    expect(bytesOf((await read(chunks, false)).events)).toEqual(expected);
  });

  it("throws the modeled ModelStreamError after the parts before it, as the SDK does", async () => {
    const chunks = cut(joined([frames[0] as Uint8Array, encodeModelStreamError("StreamBroken", "the container went away")]), 5);
    const ours = await read(chunks, true);
    const sdks = await read(chunks, false);
    expect(bytesOf(ours.events)).toEqual([parts[0]]);
    expect(ours.error).toBeInstanceOf(ModelStreamError);
    expect(ours.error).toMatchObject({ name: "ModelStreamError", ErrorCode: "StreamBroken", message: "the container went away" });
    expect(ours.error).toMatchObject(sdks.error as object);
  });

  it("throws an error message as an Error named by its code", async () => {
    const error = codec.encode({
      headers: {
        ":message-type": { type: "string", value: "error" },
        ":error-code": { type: "string", value: "InternalFailure" },
        ":error-message": { type: "string", value: "the service failed" },
      },
      body: new Uint8Array(),
    });
    const ours = await read([frames[0] as Uint8Array, error], true);
    expect(bytesOf(ours.events)).toEqual([parts[0]]);
    expect(ours.error).toMatchObject({ name: "InternalFailure", message: "the service failed" });
    expect((await read([frames[0] as Uint8Array, error], false)).error).toMatchObject({ name: "InternalFailure" });
  });

  it("skips an event the model does not know, and fails a stream cut inside a message or with a bad checksum", async () => {
    const unknown = codec.encode({
      headers: { ":message-type": { type: "string", value: "event" }, ":event-type": { type: "string", value: "SomethingNew" } },
      body: fromUtf8("{}"),
    });
    expect(bytesOf((await read([unknown, frames[1] as Uint8Array], true)).events)).toEqual([parts[1]]);

    const truncated = await read([frames[0] as Uint8Array, (frames[1] as Uint8Array).subarray(0, 20)], true);
    expect(bytesOf(truncated.events)).toEqual([parts[0]]);
    expect(truncated.error).toMatchObject({ message: "Truncated event message received." });

    const corrupted = Buffer.from(frames[1] as Uint8Array);
    const at = corrupted.length - 6;
    corrupted.writeUInt8(corrupted.readUInt8(at) ^ 0xff, at);
    const bad = await read([frames[0] as Uint8Array, corrupted], true);
    expect(bytesOf(bad.events)).toEqual([parts[0]]);
    expect(String(bad.error)).toMatch(/checksum/i);
  });
});
