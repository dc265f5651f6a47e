import { createHash } from "node:crypto";
import { createReadStream, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { c as createTar, x as extractTar } from "tar";
import { readOnnxSignature } from "../infra/local/model-host";
import { argumentError, CliError, EXIT } from "./errors";

/** A file ready to upload, with what the registry records about it. */
export interface PreparedArtifact {
  readonly file: string;
  readonly fileName: string;
  readonly sha256: string;
  readonly size: number;
  readonly inputs?: ReadonlyArray<{ name: string; datatype: string; shape: number[] }>;
  readonly outputs?: ReadonlyArray<{ name: string; datatype: string; shape: number[] }>;
  /** Removes temporary files (a packed directory). */
  cleanup(): void;
}

export async function sha256File(file: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).byteLength;
  }
  return { sha256: hash.digest("hex"), size };
}

function findOnnx(dir: string): string | undefined {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isFile() && e.name.endsWith(".onnx")) return p;
    if (e.isDirectory()) {
      const inner = findOnnx(p);
      if (inner) return inner;
    }
  }
  return undefined;
}

/**
 * Packs a model directory into `model.tar.gz` (or takes a `.onnx` / `.tar.gz` as it is), and
 * for ONNX proves onnxruntime can load it, reading its input/output signature on the way:
 * an artifact that cannot be served is refused here, before a byte is uploaded.
 */
export async function prepareArtifact(path: string, runtime: string): Promise<PreparedArtifact> {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(path);
  } catch {
    throw argumentError(`no such file or directory: ${path}`);
  }
  const temp = mkdtempSync(join(tmpdir(), "modelgate-upload-"));
  const cleanup = () => rmSync(temp, { recursive: true, force: true });
  try {
    let file = path;
    let onnx: string | undefined;
    if (stat.isDirectory()) {
      file = join(temp, "model.tar.gz");
      await createTar({ gzip: true, file, cwd: path, portable: true }, readdirSync(path));
      onnx = findOnnx(path);
    } else if (path.endsWith(".onnx")) {
      onnx = path;
    } else if (path.endsWith(".tar.gz")) {
      const unpacked = join(temp, "unpacked");
      mkdirSync(unpacked);
      await extractTar({ file: path, cwd: unpacked, strict: true });
      onnx = findOnnx(unpacked);
    } else {
      throw argumentError(`upload a model directory, a .onnx file or a model.tar.gz, got '${basename(path)}'`);
    }
    let signature: Awaited<ReturnType<typeof readOnnxSignature>> | undefined;
    if (runtime === "onnx") {
      if (!onnx) throw new CliError(`${path} holds no .onnx file, but the runtime is onnx`, EXIT.badArguments);
      try {
        signature = await readOnnxSignature(onnx);
      } catch (err) {
        const cause = (err as { cause?: Error }).cause?.message ?? (err as Error).message;
        throw new CliError(`onnxruntime cannot load ${basename(onnx)}: ${cause.split("\n")[0]}`, EXIT.badArguments);
      }
    }
    const { sha256, size } = await sha256File(file);
    return {
      file,
      fileName: stat.isDirectory() ? "model.tar.gz" : basename(file),
      sha256,
      size,
      ...(signature
        ? {
            inputs: signature.inputs.map((t) => ({ ...t, shape: [...t.shape] })),
            outputs: signature.outputs.map((t) => ({ ...t, shape: [...t.shape] })),
          }
        : {}),
      cleanup,
    };
  } catch (err) {
    cleanup();
    throw err;
  }
}
