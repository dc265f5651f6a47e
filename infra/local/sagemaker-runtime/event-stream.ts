import { EventStreamCodec } from "@smithy/eventstream-codec";
import { fromUtf8, toUtf8 } from "@smithy/util-utf8";

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/**
 * One `PayloadPart` event of InvokeEndpointWithResponseStream's ResponseStream union, framed
 * as an AWS event-stream message. `Bytes` is the event payload, so the frame body is the raw bytes.
 */
export function encodePayloadPart(bytes: Uint8Array): Uint8Array {
  return codec.encode({
    headers: {
      ":message-type": { type: "string", value: "event" },
      ":event-type": { type: "string", value: "PayloadPart" },
      ":content-type": { type: "string", value: "application/octet-stream" },
    },
    body: bytes,
  });
}
