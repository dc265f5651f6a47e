import { createHash } from "node:crypto";
import { closeSync, openSync, readSync } from "node:fs";
import { basename } from "node:path";
import type { Runtime } from "../../../functions/contract/runtimes";

/**
 * Where a version's artifact lives under `models/<model>/<version>/` and how SageMaker loads
 * it. A `model.tar.gz` is handed over compressed (`ModelDataUrl`); a single `.onnx` or TensorRT
 * plan is laid out as a Triton model repository (`<model>/1/model.onnx`) and loaded
 * uncompressed from the version prefix, so no tarball has to be built at synth.
 */
export interface ArtifactLayout {
  /** Object key of the artifact file, relative to `models/<model>/<version>/`. */
  readonly relativeKey: string;
  /** `compressed`: the file is a model.tar.gz; `prefix`: SageMaker copies the whole version prefix. */
  readonly mode: "compressed" | "prefix";
  /** Triton model name when the layout is a Triton repository made from a single file. */
  readonly tritonModelName?: string;
}

export function artifactLayout(model: string, runtime: Runtime, file: string): ArtifactLayout {
  const name = basename(file);
  if (/\.(tar\.gz|tgz)$/i.test(name)) return { relativeKey: "model.tar.gz", mode: "compressed" };
  if (runtime === "onnx" && /\.onnx$/i.test(name)) {
    return { relativeKey: `${model}/1/model.onnx`, mode: "prefix", tritonModelName: model };
  }
  if (runtime === "tensorrt" && /\.(plan|engine)$/i.test(name)) {
    return { relativeKey: `${model}/1/model.plan`, mode: "prefix", tritonModelName: model };
  }
  return { relativeKey: name, mode: "prefix" };
}

/** An `s3://bucket/key` artifact given in the config (not uploaded by the stack). */
export interface S3Location {
  readonly bucket: string;
  readonly key: string;
}

export function parseS3Uri(uri: string): S3Location | undefined {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(uri);
  return m ? { bucket: m[1] as string, key: m[2] as string } : undefined;
}

/** SHA-256 (hex) of a file, read in chunks so multi-GB artifacts do not fill memory. */
export function sha256File(path: string): string {
  const hash = createHash("sha256");
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}
