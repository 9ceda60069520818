/**
 * Starts the server as a subprocess, the way the README does
 * (`deno run -A main.ts serve --config FILE`), in a temp dir of its own.
 *
 * @module
 */
import { join } from "node:path";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** Options for {@link startTestServer}. */
export interface TestServerOptions {
  token?: string;
  transitioning?: boolean;
  /** Storage names (default: ["default"]). */
  storages?: string[];
  tls?: { certificatePath: string; keyPath: string };
  /** Extra TOML appended to the generated config. */
  extraToml?: string;
  gracefulRestartTimeout?: string;
  /** Use this config text verbatim instead of generating one. */
  configText?: string;
  /**
   * Run the server in a session of its own (`setsid`), as `refgitaly`
   * runs the reference: with the kernel's autogroup scheduling a session
   * is what shares the CPU, so a benchmark gives both servers the same
   * footing instead of counting ours in with its own clients.
   */
  ownSession?: boolean;
  /**
   * Run in this directory instead of a new temp dir, and leave it on stop:
   * a server started again on it finds its config, socket path and storages.
   */
  dir?: string;
}

/** A running server subprocess. */
export interface TestServer {
  dir: string;
  configPath: string;
  storagePaths: Record<string, string>;
  socketPath: string;
  /** `unix:/…` address. */
  unixAddress: string;
  /** `127.0.0.1:port`. */
  tcpAddress: string;
  /** `127.0.0.1:port` when TLS is configured. */
  tlsAddress?: string;
  metricsAddress: string;
  process: Deno.ChildProcess;
  /** Everything the server wrote to stderr so far (its log). */
  stderr(): string;
  /**
   * Sends `signal` and waits for exit. Throws when the server had already
   * died, or did not exit 0 on SIGTERM: the server must stay up.
   */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/** Writes a config into a new temp dir, starts the server and waits for `SERVING`. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: "gitaly-test-" });
  const storages = options.storages ?? ["default"];
  const storagePaths: Record<string, string> = {};
  for (const name of storages) {
    storagePaths[name] = join(dir, "storages", name);
    await Deno.mkdir(storagePaths[name], { recursive: true });
  }
  const socketPath = join(dir, "gitaly.socket");
  const configPath = join(dir, "config.toml");
  await Deno.writeTextFile(
    configPath,
    options.configText ?? configToml(options, socketPath, storagePaths),
  );
  const argv = [
    Deno.execPath(),
    "run",
    "-A",
    ...(Deno.env.get("BENCH_SERVER_DENO_FLAGS")?.split(" ").filter(Boolean) ?? []),
    MAIN,
    "serve",
    "--config",
    configPath,
  ];
  if (options.ownSession) argv.unshift("setsid");
  const process = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  let stderrText = "";
  const stderrDone = collect(process.stderr, (text) => stderrText += text);
  const lines = await readUntilServing(process.stdout, () => stderrText);
  const address = (scheme: string) =>
    lines.find((l) => l.startsWith(`listening on ${scheme}`))?.split("://")[1];
  const server: TestServer = {
    dir,
    configPath,
    storagePaths,
    socketPath,
    unixAddress: `unix:${socketPath}`,
    tcpAddress: address("tcp") ?? "",
    tlsAddress: address("tls"),
    metricsAddress: (address("http") ?? "").replace(/\/metrics$/, ""),
    process,
    stderr: () => stderrText,
    stop: async (signal = "SIGTERM") => {
      let crashed = false;
      try {
        process.kill(signal);
      } catch {
        crashed = true; // it exited before we asked it to
      }
      const status = await process.status;
      await stderrDone;
      if (!options.dir) await Deno.remove(dir, { recursive: true }).catch(() => {});
      if (crashed || (signal === "SIGTERM" && status.code !== 0)) {
        throw new Error(
          `server ${crashed ? "died on its own" : "did not exit cleanly"}: code ${status.code}` +
            ` signal ${status.signal}\n${stderrText.slice(-4000)}`,
        );
      }
      return status;
    },
  };
  return server;
}

function configToml(
  options: TestServerOptions,
  socketPath: string,
  storagePaths: Record<string, string>,
): string {
  const lines = [
    `socket_path = ${JSON.stringify(socketPath)}`,
    `listen_addr = "127.0.0.1:0"`,
    `prometheus_listen_addr = "127.0.0.1:0"`,
    `graceful_restart_timeout = ${JSON.stringify(options.gracefulRestartTimeout ?? "10s")}`,
  ];
  if (options.tls) lines.push(`tls_listen_addr = "127.0.0.1:0"`);
  for (const [name, path] of Object.entries(storagePaths)) {
    lines.push(`[[storage]]`, `name = ${JSON.stringify(name)}`, `path = ${JSON.stringify(path)}`);
  }
  if (options.tls) {
    lines.push(
      `[tls]`,
      `certificate_path = ${JSON.stringify(options.tls.certificatePath)}`,
      `key_path = ${JSON.stringify(options.tls.keyPath)}`,
    );
  }
  if (options.token) {
    lines.push(
      `[auth]`,
      `token = ${JSON.stringify(options.token)}`,
      `transitioning = ${!!options.transitioning}`,
    );
  }
  lines.push(`[logging]`, `format = "json"`, `level = "info"`);
  // Like the reference's test config: no housekeeping window opening in the middle of a test.
  if (!options.extraToml?.includes("[daily_maintenance]")) {
    lines.push(`[daily_maintenance]`, `disabled = true`);
  }
  if (options.extraToml) lines.push(options.extraToml);
  return lines.join("\n") + "\n";
}

async function readUntilServing(
  stdout: ReadableStream<Uint8Array>,
  stderr: () => string,
): Promise<string[]> {
  const lines: string[] = [];
  const reader = stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  while (true) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`server exited before SERVING:\n${lines.join("\n")}\n${stderr()}`);
    buffer += value;
    const parts = buffer.split("\n");
    buffer = parts.pop()!;
    lines.push(...parts);
    if (parts.includes("SERVING")) break;
  }
  // Keep draining stdout in the background so the server never blocks on it.
  (async () => {
    while (!(await reader.read()).done);
  })().catch(() => {});
  return lines;
}

async function collect(
  stream: ReadableStream<Uint8Array>,
  onText: (t: string) => void,
): Promise<void> {
  for await (const text of stream.pipeThrough(new TextDecoderStream())) onText(text);
}
