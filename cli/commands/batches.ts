import { readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import type { Command } from "commander";
import { type ApiResponse, toApiResponse } from "../api-client";
import { KEY_OPTION_HELP, resolveApiKey } from "../api-key";
import { apiFailure, type GlobalOptions, reach, resolveTarget, type Target } from "../context";
import { argumentError, configError } from "../errors";
import { printFields, printJson } from "../output";

interface BatchObject {
  readonly id: string;
  readonly status: string;
  readonly endpoint: string;
  readonly input_file_id: string;
  readonly output_file_id: string | null;
  readonly error_file_id: string | null;
  readonly request_counts: { total: number; completed: number; failed: number };
  readonly errors: { data: Array<{ line: number | null; code: string; message: string }> } | null;
}

const TERMINAL = ["completed", "failed", "expired", "cancelled"];

/** A tenant-key call to the API; anything but 2xx becomes a CliError. */
async function call<T>(target: Target, key: string, method: string, path: string, body?: unknown): Promise<T> {
  const url = new URL(path.replace(/^\//, ""), target.apiUrl.endsWith("/") ? target.apiUrl : `${target.apiUrl}/`);
  const res: ApiResponse<T> = await reach(target.apiUrl, async () =>
    toApiResponse<T>(
      await fetch(url, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(60_000),
      }),
    ),
  );
  if (res.status < 200 || res.status > 299) throw apiFailure(res);
  return res.body;
}

function printBatch(b: BatchObject): void {
  printFields([
    ["batch", b.id],
    ["status", b.status],
    ["endpoint", b.endpoint],
    ["requests", `${b.request_counts.completed} completed, ${b.request_counts.failed} failed, of ${b.request_counts.total}`],
    ["output file", b.output_file_id ?? undefined],
    ["error file", b.error_file_id ?? undefined],
  ]);
  for (const e of b.errors?.data ?? []) process.stdout.write(`  line ${e.line ?? "-"}: ${e.code}: ${e.message}\n`);
}

type KeyFlags = { key?: string; keyFile?: string };

function keyOf(o: KeyFlags, target: Target): string {
  const key = resolveApiKey(o, target.defaultApiKey);
  if (!key) throw configError("no API key: pass --key, --key-file or set MODELGATE_API_KEY");
  return key;
}

async function waitFor(target: Target, key: string, id: string, intervalMs: number): Promise<BatchObject> {
  for (;;) {
    const b = await call<BatchObject>(target, key, "GET", `/v1/batches/${encodeURIComponent(id)}`);
    if (TERMINAL.includes(b.status)) return b;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function registerBatches(program: Command): void {
  const batches = program
    .command("batches")
    .description("OpenAI Batch API jobs of a tenant: submit a JSON-lines file of any size, follow it");

  batches
    .command("submit")
    .description("upload a batch input file straight to the store (a presigned URL, no size limit of the API) and start a batch")
    .argument("<file.jsonl>", "JSON lines of {custom_id, method: POST, url, body}")
    .option("--url <endpoint>", "the endpoint every line calls", "/v1/chat/completions")
    .option("--metadata <key=value...>", "metadata of the batch (up to 16 pairs)")
    .option("--wait", "wait until the batch ends, then print it")
    .option("--key <apiKey>", KEY_OPTION_HELP.key)
    .option("--key-file <path>", KEY_OPTION_HELP.keyFile)
    .action(async (file: string, o: KeyFlags & { url: string; metadata?: string[]; wait?: boolean }, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      let bytes: number;
      try {
        bytes = statSync(file).size;
      } catch (err) {
        throw argumentError(`cannot read '${file}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      const metadata = Object.fromEntries(
        (o.metadata ?? []).map((pair) => {
          const at = pair.indexOf("=");
          if (at < 1) throw argumentError(`--metadata takes key=value, got '${pair}'`);
          return [pair.slice(0, at), pair.slice(at + 1)];
        }),
      );
      const target = resolveTarget(opts);
      const key = keyOf(o, target);
      const filename = basename(file);
      const upload = await call<{ file_id: string; upload_url: string }>(target, key, "POST", "/v1/batch-uploads", { filename, bytes });
      const put = await reach(target.apiUrl, () =>
        fetch(upload.upload_url, { method: "PUT", body: readFileSync(file), signal: AbortSignal.timeout(15 * 60_000) }),
      );
      if (!put.ok) throw configError(`the upload was refused (HTTP ${put.status}): ${(await put.text()).slice(0, 200)}`);
      await call(target, key, "POST", `/v1/batch-uploads/${upload.file_id}/complete`, { filename });
      let batch = await call<BatchObject>(target, key, "POST", "/v1/batches", {
        input_file_id: upload.file_id,
        endpoint: o.url,
        completion_window: "24h",
        ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
      });
      if (o.wait) batch = await waitFor(target, key, batch.id, 1000);
      if (opts.json) printJson(batch);
      else printBatch(batch);
    });

  batches
    .command("status")
    .description("a batch's status and request counts (--wait: until it ends)")
    .argument("<batchId>", "batch id (batch_…)")
    .option("--wait", "wait until the batch ends")
    .option("--key <apiKey>", KEY_OPTION_HELP.key)
    .option("--key-file <path>", KEY_OPTION_HELP.keyFile)
    .action(async (id: string, o: KeyFlags & { wait?: boolean }, cmd: Command) => {
      const opts = cmd.optsWithGlobals<GlobalOptions>();
      const target = resolveTarget(opts);
      const key = keyOf(o, target);
      const b = o.wait
        ? await waitFor(target, key, id, 1000)
        : await call<BatchObject>(target, key, "GET", `/v1/batches/${encodeURIComponent(id)}`);
      if (opts.json) printJson(b);
      else printBatch(b);
    });
}
