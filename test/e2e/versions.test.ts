import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { describe, expect, it } from "@jest/globals";
import { readCredentials } from "../../infra/local/bootstrap/credentials";
import { cli, recorded } from "./cli-run";
import { admin, call, e2ePlatform, eventually, inferBody, newTenant } from "./helpers";

const IRIS_2 = "models/iris/2/model.onnx";
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
/** Set MODELGATE_VERSIONS_TRANSCRIPT=<file> to record the upload → canary → rollback session. */
const transcript = process.env.MODELGATE_VERSIONS_TRANSCRIPT;

function localS3(): S3Client {
  const s3 = readCredentials(e2ePlatform().dataDir)?.s3;
  if (!s3) throw new Error("credentials.json has no s3");
  return new S3Client({
    endpoint: s3.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

/** Uploads bytes to a fresh staging key through the API, as the CLI does, without registering. */
async function stage(model: string, bytes: Buffer, fileName = "model.onnx"): Promise<string> {
  const ticket = await admin().request<{ bucket: string; key: string }>("POST", `/admin/models/${model}/uploads`, { fileName });
  expect(ticket.status).toBe(201);
  await localS3().send(new PutObjectCommand({ Bucket: ticket.body.bucket, Key: ticket.body.key, Body: bytes }));
  return ticket.body.key;
}

async function versions(model: string): Promise<Array<{ version: number; status: string; statusReason?: string; sha256?: string }>> {
  const res = await admin().request<{ versions: Array<{ version: number; status: string; sha256?: string }> }>(
    "GET",
    `/admin/models/${model}/versions`,
  );
  return res.body.versions;
}

describe("versions: upload, registration, status", () => {
  it("the CLI uploads a version that the running platform serves without a restart; sha256 checked end to end", async () => {
    const bytes = readFileSync(IRIS_2);
    const up = await recorded(["--json", "models", "upload", "iris-up", IRIS_2], transcript);
    expect(up.stderr).toMatch(/uploading model\.onnx/);
    expect(up.code).toBe(0);
    const out = JSON.parse(up.stdout) as { model: string; version: number; sha256: string; size: number; status: string };
    expect(out).toMatchObject({ model: "iris-up", sha256: sha256(bytes), size: bytes.length, status: "ready" });

    const v = await admin().request<{ sha256: string; status: string; inputs: Array<{ name: string }>; artifactUri: string }>(
      "GET",
      `/admin/models/iris-up/versions/${out.version}`,
    );
    expect(v.body).toMatchObject({ sha256: sha256(bytes), status: "ready" });
    expect(v.body.inputs[0]?.name).toBe("input");
    expect(v.body.artifactUri).toBe(`s3://mge2e-models/models/iris-up/${out.version}/model.onnx`);

    const res = await eventually(
      () => call(`/v2/models/iris-up/versions/${out.version}/infer`, { key: e2ePlatform().apiKey, body: inferBody() }),
      (r) => r.status === 200,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("x-model-version")).toBe(String(out.version));

    const listed = await cli(["versions", "list", "iris-up"]);
    expect(listed.stdout).toMatch(new RegExp(`^${out.version}\\s+ready\\s+onnx`, "m"));
    expect(listed.stdout).toMatch(/input:FP32\[-1,4\]/);
  });

  it("refuses to overwrite an existing version number", async () => {
    const r = await cli(["models", "upload", "iris-up", IRIS_2, "--version", "1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/version 1 of 'iris-up' already exists.*HTTP 409/);
  });

  it("a corrupted or partial upload never becomes a version", async () => {
    const good = readFileSync(IRIS_2);
    const before = await versions("iris-up");
    const corrupted = Buffer.from(good);
    corrupted[100] = (corrupted[100] ?? 0) ^ 0xff;
    const key = await stage("iris-up", corrupted);
    const bad = await admin().request("POST", "/admin/models/iris-up/versions", { upload: key, sha256: sha256(good), size: good.length });
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/corrupted or partial upload refused/);

    const partial = await stage("iris-up", good.subarray(0, 1000));
    const cut = await admin().request("POST", "/admin/models/iris-up/versions", {
      upload: partial,
      sha256: sha256(good),
      size: good.length,
    });
    expect(cut.status).toBe(400);
    // The refused upload was deleted: registering it again finds nothing.
    const again = await admin().request("POST", "/admin/models/iris-up/versions", {
      upload: partial,
      sha256: sha256(good),
      size: good.length,
    });
    expect(again.status).toBe(400);
    expect(again.text).toMatch(/nothing was uploaded/);
    expect((await versions("iris-up")).map((v) => v.version)).toEqual(before.map((v) => v.version));
  });

  it("an artifact onnxruntime cannot load is refused by the CLI with a clear error, and never becomes ready", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mg-bad-model-"));
    const file = join(dir, "model.onnx");
    writeFileSync(file, "this is not an ONNX graph");
    const r = await cli(["models", "upload", "iris-up", file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/onnxruntime cannot load model\.onnx/);

    // Past the CLI's check (the raw API): the host cannot load it, so it stays registered with the reason.
    const bytes = readFileSync(file);
    const key = await stage("iris-up", bytes);
    const reg = await admin().request<{ version: number; status: string }>("POST", "/admin/models/iris-up/versions", {
      upload: key,
      sha256: sha256(bytes),
      size: bytes.length,
    });
    expect(reg.status).toBe(201);
    expect(reg.body.status).toBe("registered");
    const failed = await eventually(
      async () => (await versions("iris-up")).find((v) => v.version === reg.body.version),
      (v) => v?.statusReason !== undefined,
      20_000,
    );
    expect(failed).toMatchObject({ status: "registered", statusReason: expect.stringMatching(/could not be served/) });
    const alias = await admin().request<{ revision: number }>("GET", "/admin/models/iris-up/aliases/prod");
    const move = await admin().request("PUT", "/admin/models/iris-up/aliases/prod", {
      target: reg.body.version,
      expectedRevision: alias.body.revision,
    });
    expect(move.status).toBe(400);
    expect(move.text).toMatch(/is registered, not ready/);
  });
});

describe("aliases: weighted canary, rollback, history, retire (CLI)", () => {
  it("uploads a version, splits prod 90/10, sees both answer across keys, rolls back, and reads the history", async () => {
    const up = await recorded(["--json", "models", "upload", "iris-up", IRIS_2], transcript);
    expect(up.code).toBe(0);
    const v = (JSON.parse(up.stdout) as { version: number }).version;
    const before = await admin().request<{ targets: unknown }>("GET", "/admin/models/iris-up/aliases/prod");

    const set = await recorded(["aliases", "set", "iris-up", "prod", "1=90", `${v}=10`], transcript);
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(new RegExp(`v1=90 v${v}=10`));

    const tenant = await newTenant(["iris-up"]);
    const seen = new Map<string, number>();
    let round = 0;
    await eventually(
      async () => {
        round++;
        const batch = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            call("/v2/models/iris-up/infer", {
              key: tenant.apiKey,
              body: inferBody(),
              headers: { "x-routing-key": `user-${round}-${i}` },
            }),
          ),
        );
        for (const r of batch) {
          const ver = r.headers.get("x-model-version") ?? "?";
          seen.set(ver, (seen.get(ver) ?? 0) + 1);
        }
        return seen;
      },
      (s) => s.has("1") && s.has(String(v)),
    );
    expect([...seen.keys()].sort()).toEqual(["1", String(v)].sort());

    const rb = await recorded(["aliases", "rollback", "iris-up", "prod"], transcript);
    expect(rb.code).toBe(0);
    const after = await admin().request<{ targets: unknown; revision: number }>("GET", "/admin/models/iris-up/aliases/prod");
    expect(after.body.targets).toEqual(before.body.targets);

    const history = await recorded(["aliases", "history", "iris-up", "prod"], transcript);
    expect(history.code).toBe(0);
    expect(history.stdout).toMatch(new RegExp(`^${after.body.revision} \\(rollback\\)\\s.*v1=90 v${v}=10\\s+v1\\s*$`, "m"));
    expect(history.stdout).toMatch(new RegExp(`^${after.body.revision - 1}\\s.*v1=90 v${v}=10\\s*$`, "m"));

    // Retiring a version an alias routes to is refused; once unused it retires.
    const json = await cli(["--json", "aliases", "set", "iris-up", "prod", "1", "--fallback", String(v)]);
    expect(json.code).toBe(0);
    expect((await cli(["versions", "retire", "iris-up", String(v)])).stderr).toMatch(/still used by alias\(es\) prod/);
    expect((await cli(["aliases", "set", "iris-up", "prod", "1"])).code).toBe(0);
    const retired = await cli(["versions", "retire", "iris-up", String(v)]);
    expect(retired.stdout).toMatch(/is retired/);
    const gone = await eventually(
      () => call(`/v2/models/iris-up/versions/${v}/infer`, { key: e2ePlatform().apiKey, body: inferBody() }),
      (r) => r.status === 404,
    );
    expect(gone.status).toBe(404);
  });
});
