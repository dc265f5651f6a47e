import { Crc32 } from "@smithy/core/checksum";
import { EventStreamCodec } from "@smithy/eventstream-codec";
import { fromUtf8, toUtf8 } from "@smithy/util-utf8";

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** The headers every `PayloadPart` frame carries, encoded once. */
const PAYLOAD_PART_HEADERS = codec.formatHeaders({
  ":message-type": { type: "string", value: "event" },
  ":event-type": { type: "string", value: "PayloadPart" },
  ":content-type": { type: "string", value: "application/octet-stream" },
});

/**
 * One `PayloadPart` event of InvokeEndpointWithResponseStream's ResponseStream union, framed
 * as an AWS event-stream message. `Bytes` is the event payload, so the frame body is the raw
 * bytes. The frame is what `codec.encode` writes (prelude, its CRC, headers, body, message
 * CRC) with the constant headers encoded once instead of on every token.
 */
export function encodePayloadPart(bytes: Uint8Array): Uint8Array {
  const headers = PAYLOAD_PART_HEADERS;
  const length = 12 + headers.byteLength + bytes.byteLength + 4;
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(0, length, false);
  view.setUint32(4, headers.byteLength, false);
  const checksum = new Crc32();
  checksum.update(out.subarray(0, 8));
  view.setUint32(8, checksum.digestSync(), false);
  out.set(headers, 12);
  out.set(bytes, 12 + headers.byteLength);
  checksum.update(out.subarray(8, length - 4));
  view.setUint32(length - 4, checksum.digestSync(), false);
  return out;
}

/**
 * SageMaker's codes for a stream that fails after it started: the container took longer than
 * allowed, or its connection broke.
 */
export type ModelStreamErrorCode = "ModelInvocationTimeExceeded" | "StreamBroken";

/**
 * The ResponseStream union's `ModelStreamError` member as an event-stream exception frame:
 * the SDK reads `:exception-type` and throws ModelStreamError with Message and ErrorCode.
 */
export function encodeModelStreamError(errorCode: ModelStreamErrorCode, message: string): Uint8Array {
  return codec.encode({
    headers: {
      ":message-type": { type: "string", value: "exception" },
      ":exception-type": { type: "string", value: "ModelStreamError" },
      ":content-type": { type: "string", value: "application/json" },
    },
    body: fromUtf8(JSON.stringify({ Message: message, ErrorCode: errorCode })),
  });
}

/**
 * The payload parts for one chunk the container sent: the chunk as it came, or cut into pieces
 * of at most `maxPartBytes`. SageMaker gives no guarantee that a part ends at a line or even a
 * character boundary, so clients must reassemble; cutting small proves that they do.
 */
export function payloadParts(chunk: Uint8Array, maxPartBytes: number | undefined): Uint8Array[] {
  if (!maxPartBytes || chunk.length <= maxPartBytes) return [chunk];
  const parts: Uint8Array[] = [];
  for (let at = 0; at < chunk.length; at += maxPartBytes) parts.push(chunk.subarray(at, at + maxPartBytes));
  return parts;
}
