import { eventStreamSerdeProvider, getMessageUnmarshaller } from "@smithy/core/event-streams";
import { EventStreamCodec } from "@smithy/eventstream-codec";
import type { Decoder, Encoder, EventStreamMarshaller, EventStreamSerdeProvider, Message } from "@smithy/types";

/** A message's first field is its total length in bytes (big-endian), itself included. */
const LENGTH_BYTES = 4;
const messageLength = (bytes: Uint8Array, offset: number) =>
  new DataView(bytes.buffer, bytes.byteOffset + offset, LENGTH_BYTES).getUint32(0, false);

/**
 * The SDK's event-stream marshaller for responses, in one async generator. The SDK's own passes
 * every message through four (bytes to whole messages, each copied; messages to decoded ones;
 * decoded ones to events; events out), and at 200 concurrent streams relaying chunk by chunk
 * those layers and copies were most of the SDK's share of a chunk's CPU (bench/README.md). This
 * one cuts whole messages out of the bytes as they arrive, without copying one that lies within
 * a chunk, decodes each with the SDK's codec (prelude and message CRCs checked, headers parsed)
 * and hands it to the SDK's own message unmarshaller (errors, modeled exceptions, unknown events
 * as the SDK treats them); a stream that ends inside a message fails. Request event streams
 * (which SageMaker Runtime has none of) stay the SDK's.
 */
export const eventStreamDecoding: EventStreamSerdeProvider = (options: { utf8Encoder: Encoder; utf8Decoder: Decoder }) => {
  const sdk = eventStreamSerdeProvider(options);
  const codec = new EventStreamCodec(options.utf8Encoder, options.utf8Decoder);
  const marshaller: EventStreamMarshaller = {
    serialize: (input, serializer) => sdk.serialize(input, serializer),
    // Events of a modeled union are records; the marshaller's interface leaves them untyped.
    deserialize: <T>(body: unknown, deserializer: (input: Record<string, Message>) => Promise<T>) =>
      events(
        body as AsyncIterable<Uint8Array>,
        codec,
        getMessageUnmarshaller(deserializer as (input: Record<string, Message>) => Promise<Record<string, unknown>>, options.utf8Encoder),
      ) as AsyncIterable<T>,
  };
  return marshaller;
};

async function* events<T>(
  body: AsyncIterable<Uint8Array>,
  codec: EventStreamCodec,
  unmarshal: (message: Message) => Promise<T | undefined>,
): AsyncIterable<T> {
  const held = new HeldBytes();
  for await (const chunk of body) {
    const bytes = held.join(chunk);
    if (!bytes) continue;
    let offset = 0;
    while (bytes.length - offset >= LENGTH_BYTES) {
      const length = messageLength(bytes, offset);
      if (bytes.length - offset < length) break;
      const event = await unmarshal(codec.decode(bytes.subarray(offset, offset + length)));
      offset += length;
      if (event !== undefined) yield event;
    }
    held.keep(bytes.subarray(offset));
  }
  if (!held.empty) throw new Error("Truncated event message received.");
}

/**
 * The start of a message whose end has not arrived yet. Its pieces are joined once the message
 * is whole (a large message in many small chunks is copied once, not once per chunk).
 */
class HeldBytes {
  private pieces: Uint8Array[] = [];
  private length = 0;
  /** The held message's total length, once its first four bytes are here. */
  private need: number | undefined;

  get empty(): boolean {
    return this.length === 0;
  }

  /** `chunk` after what is held, or nothing while the held message is still incomplete. */
  join(chunk: Uint8Array): Uint8Array | undefined {
    if (this.length === 0) return chunk;
    this.pieces.push(chunk);
    this.length += chunk.length;
    if (this.need === undefined && this.length >= LENGTH_BYTES) {
      const head = Buffer.concat(this.pieces, this.length);
      this.pieces = [head];
      this.need = messageLength(head, 0);
    }
    if (this.need === undefined || this.length < this.need) return undefined;
    const joined = this.pieces.length === 1 ? (this.pieces[0] as Uint8Array) : Buffer.concat(this.pieces, this.length);
    this.pieces = [];
    this.length = 0;
    this.need = undefined;
    return joined;
  }

  /** Copied: the chunk it came from is not kept alive for a few bytes. */
  keep(rest: Uint8Array): void {
    if (rest.length === 0) return;
    const copy = Buffer.from(rest);
    this.pieces = [copy];
    this.length = copy.length;
    this.need = copy.length >= LENGTH_BYTES ? messageLength(copy, 0) : undefined;
  }
}
