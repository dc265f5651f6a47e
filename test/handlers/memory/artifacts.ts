import { createHash } from "node:crypto";
import type { ArtifactStore } from "../../../functions/core/ports";

/** The model store as a map of keys to bytes; `put` is what an uploader's PUT would do. */
export class MemoryArtifactStore implements ArtifactStore {
  readonly objects = new Map<string, Uint8Array>();

  constructor(readonly bucket = "mg-models") {}

  put(key: string, bytes: Uint8Array) {
    this.objects.set(key, bytes);
  }

  async digest(key: string) {
    const bytes = this.objects.get(key);
    return bytes && { sha256: createHash("sha256").update(bytes).digest("hex"), size: bytes.byteLength };
  }

  async copy(fromKey: string, toKey: string) {
    const bytes = this.objects.get(fromKey);
    if (!bytes) throw new Error(`NoSuchKey: ${fromKey}`);
    this.objects.set(toKey, bytes);
  }

  async delete(key: string) {
    this.objects.delete(key);
  }
}
