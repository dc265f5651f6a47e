import { describe, expect, it } from "@jest/globals";
import { EventStreamCodec } from "@smithy/eventstream-codec";
import { fromUtf8, toUtf8 } from "@smithy/util-utf8";
import { encodePayloadPart } from "../../infra/local/sagemaker-runtime/event-stream";

const codec = new EventStreamCodec(toUtf8, fromUtf8);

describe("the SageMaker emulator's PayloadPart frames", () => {
  it.each([
    ["empty", new Uint8Array()],
    ["one byte", new Uint8Array([0x7b])],
    ["an SSE line with a multi-byte character", fromUtf8('data: {"content":"naïve ✓"}\n\n')],
    ["64 KiB", new Uint8Array(65_536).map((_, i) => i % 251)],
  ])("%s: byte for byte what the SDK's codec encodes, and what it decodes back", (_, body) => {
    const frame = encodePayloadPart(body);
    const reference = codec.encode({
      headers: {
        ":message-type": { type: "string", value: "event" },
        ":event-type": { type: "string", value: "PayloadPart" },
        ":content-type": { type: "string", value: "application/octet-stream" },
      },
      body,
    });
    expect(Buffer.from(frame).equals(Buffer.from(reference))).toBe(true);
    const decoded = codec.decode(frame);
    expect(decoded.headers[":event-type"]?.value).toBe("PayloadPart");
    expect(Buffer.from(decoded.body).equals(Buffer.from(body))).toBe(true);
  });
});
