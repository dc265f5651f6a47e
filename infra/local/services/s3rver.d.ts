// s3rver ships no type declarations; this covers the parts the local host uses.
declare module "s3rver" {
  import type { AddressInfo } from "node:net";

  interface S3rverOptions {
    address?: string;
    port?: number;
    directory: string;
    silent?: boolean;
    configureBuckets?: Array<{ name: string; configs?: Array<string | Buffer> }>;
  }
  export default class S3rver {
    constructor(options: S3rverOptions);
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
    /** The object store every request reaches through the server's context. */
    store: import("s3rver/lib/stores/filesystem.js").default;
    context: { store: import("s3rver/lib/stores/filesystem.js").default };
  }
}

declare module "s3rver/lib/stores/filesystem.js" {
  import type { Readable } from "node:stream";
  import type S3Object from "s3rver/lib/models/object.js";

  /** What s3rver hands its store to write (an S3Object). */
  export interface StoredObject {
    bucket: string;
    key: string;
    content: Readable | Buffer;
    metadata: Record<string, unknown>;
  }
  export default class FilesystemStore {
    constructor(rootDirectory: string);
    getResourcePath(bucket: string, key: string | undefined, resource: string): string;
    getMetadata(bucket: string, key: string): Promise<Record<string, unknown>>;
    getObject(bucket: string, key: string, options?: { start?: number; end?: number }): Promise<S3Object | null>;
    putMetadata(bucket: string, key: string, metadata: Record<string, unknown>, md5?: string): Promise<void>;
    putObject(object: StoredObject): Promise<{ size: number; md5: string }>;
    copyObject(
      srcBucket: string,
      srcKey: string,
      destBucket: string,
      destKey: string,
      replacementMetadata?: Record<string, string>,
    ): Promise<Record<string, unknown>>;
  }
}

declare module "s3rver/lib/models/object.js" {
  import type { Readable } from "node:stream";

  /** An object as s3rver's store returns it: its bytes (none for an unsatisfiable range) and metadata. */
  export default class S3Object {
    constructor(bucket: string, key: string, content: Readable | null, metadata: Record<string, unknown>);
    content: Readable | null;
    range?: { start: number; end: number };
  }
}
