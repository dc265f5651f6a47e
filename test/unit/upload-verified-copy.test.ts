import { Readable } from "node:stream";
import { CopyObjectCommand, GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { describe, expect, it } from "@jest/globals";
import { S3ArtifactStore } from "../../functions/aws/artifact-store";
import { ConflictError } from "../../functions/core/errors";
import type { ArtifactStore, RegistryAdmin } from "../../functions/core/ports";
import type { ModelRecord, ModelVersion, VersionStatus } from "../../functions/core/registry";
import { registerVersion } from "../../functions/core/versions";

const sha = "a".repeat(64);
const record: ModelRecord = { model: "up", defaultAlias: "prod", versions: new Map(), aliases: new Map() };

function registry() {
  const versions: ModelVersion[] = [];
  const statuses: Array<[VersionStatus, VersionStatus]> = [];
  const r = {
    versions,
    statuses,
    getModel: async () => record,
    registerVersion: async (v: ModelVersion) => {
      versions.push(v);
    },
    setVersionStatus: async (_m: string, _v: number, from: VersionStatus, to: VersionStatus) => {
      statuses.push([from, to]);
    },
  };
  return r as typeof r & RegistryAdmin;
}

/** A store that remembers which revision each copy was pinned to. */
function racyStore(): ArtifactStore & { copied: Array<string | undefined> } {
  const copied: Array<string | undefined> = [];
  return {
    bucket: "store",
    copied,
    digest: async () => ({ sha256: sha, size: 3, revision: 'e:"etag-1"' }),
    copy: async (_from, _to, revision) => {
      copied.push(revision);
    },
    delete: async () => undefined,
  };
}

const input = {
  model: "up",
  upload: "uploads/up/abc/model.onnx",
  sha256: sha,
  size: 3,
  runtime: "onnx",
  endpointName: "mg-up",
  variantName: (v: number) => `v${v}`,
};

describe("registration copies the bytes it verified", () => {
  it("passes the revision read while hashing to the copy", async () => {
    const store = racyStore();
    await registerVersion(registry(), store, input);
    expect(store.copied).toEqual(['e:"etag-1"']);
  });

  it("retires the version when the upload changed before the copy (409)", async () => {
    const reg = registry();
    const store: ArtifactStore = { ...racyStore(), copy: async () => Promise.reject(new ConflictError("changed after verify")) };
    await expect(registerVersion(reg, store, input)).rejects.toBeInstanceOf(ConflictError);
    expect(reg.statuses).toEqual([["registered", "retired"]]);
  });
});

describe("S3ArtifactStore", () => {
  function s3(answer: (cmd: unknown) => unknown) {
    const sent: unknown[] = [];
    const client = {
      send: async (cmd: unknown) => {
        sent.push(cmd);
        return answer(cmd);
      },
    } as unknown as S3Client;
    return { client, sent };
  }

  it("copies with CopySourceIfMatch on the ETag hashed, or the exact version id", async () => {
    const plain = s3((cmd) => (cmd instanceof GetObjectCommand ? { Body: Readable.from([Buffer.from("abc")]), ETag: '"e1"' } : {}));
    const store = new S3ArtifactStore(plain.client, "store");
    const digest = await store.digest("uploads/up/x/model.onnx");
    await store.copy("uploads/up/x/model.onnx", "models/up/1/model.onnx", digest?.revision);
    const copy = plain.sent.find((c) => c instanceof CopyObjectCommand) as CopyObjectCommand;
    expect(copy.input).toMatchObject({ CopySource: "store/uploads/up/x/model.onnx", CopySourceIfMatch: '"e1"' });

    const versioned = s3((cmd) =>
      cmd instanceof GetObjectCommand ? { Body: Readable.from([Buffer.from("abc")]), ETag: '"e1"', VersionId: "v 1" } : {},
    );
    const vstore = new S3ArtifactStore(versioned.client, "store");
    await vstore.copy("uploads/up/x/model.onnx", "models/up/1/model.onnx", (await vstore.digest("uploads/up/x/model.onnx"))?.revision);
    const vcopy = versioned.sent.find((c) => c instanceof CopyObjectCommand) as CopyObjectCommand;
    expect(vcopy.input.CopySource).toBe("store/uploads/up/x/model.onnx?versionId=v%201");
  });

  it("turns S3's 412 into a ConflictError", async () => {
    const failing = s3(() =>
      Promise.reject(
        Object.assign(new Error("At least one of the pre-conditions you specified did not hold"), { name: "PreconditionFailed" }),
      ),
    );
    const store = new S3ArtifactStore(failing.client, "store");
    await expect(store.copy("uploads/up/x/model.onnx", "models/up/1/model.onnx", 'e:"e1"')).rejects.toBeInstanceOf(ConflictError);
  });
});
