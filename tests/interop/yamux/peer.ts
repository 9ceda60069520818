/**
 * Builds and starts the hashicorp/yamux peer in this directory (main.go) and
 * connects one of our sessions to it; also serves the same stream commands
 * on our side so the Go peer can drive us.
 *
 * @module
 */

import type { YamuxConfig } from "../../../src/yamux/const.ts";
import { YamuxSession } from "../../../src/yamux/session.ts";
import type { YamuxStream } from "../../../src/yamux/stream.ts";
import { fromDenoConn } from "../../../src/yamux/transport.ts";
import { PrefixReader, UnexpectedEofError } from "../../../src/backchannel/prefix_reader.ts";
import { checkPattern, writePattern, writeText } from "../../yamux/helpers.ts";

/** Which Yamux role the Go peer plays; ours is the other one. */
export type GoRole = "server" | "client";

/** Options for the Go side. */
export interface GoPeerOptions {
  /** hashicorp's MaxStreamWindowSize (default 256 KiB). */
  maxWindow?: number;
  /** hashicorp's StreamCloseTimeout, in Go duration syntax. */
  closeTimeout?: string;
}

/** A running Go peer and our session connected to it. */
export interface GoPeer {
  /** Our session. */
  session: YamuxSession;
  /** Sends one command on a new stream, half-closes and returns the whole answer. */
  command(line: string): Promise<string>;
  /** Closes our session and waits for the Go process; returns its stderr. */
  stop(): Promise<string>;
}

/**
 * Starts the Go peer in `goRole` on a Unix socket in a temp dir, connects
 * our session in the other role and starts serving its streams.
 */
export async function startGoPeer(
  binary: string,
  goRole: GoRole,
  config: Partial<YamuxConfig>,
  options: GoPeerOptions = {},
): Promise<GoPeer> {
  const dir = await Deno.makeTempDir({ prefix: "yamux-interop-" });
  const socket = `${dir}/peer.sock`;
  const args = ["-mode", goRole, "-socket", socket];
  if (options.maxWindow) args.push("-max-window", String(options.maxWindow));
  if (options.closeTimeout) args.push("-close-timeout", options.closeTimeout);
  const command = new Deno.Command(binary, { args, stdout: "piped", stderr: "piped" });

  let child: Deno.ChildProcess;
  let conn: Deno.Conn;
  if (goRole === "server") {
    child = command.spawn();
    await waitForReady(child.stdout);
    conn = await Deno.connect({ transport: "unix", path: socket });
  } else {
    const listener = Deno.listen({ transport: "unix", path: socket });
    child = command.spawn();
    conn = await listener.accept();
    listener.close();
    child.stdout.cancel();
  }
  const stderr = new Response(child.stderr).text();
  const session = new YamuxSession(
    fromDenoConn(conn),
    goRole === "server" ? "client" : "server",
    config,
  );
  const serving = serveCommands(session);

  return {
    session,
    async command(line) {
      const stream = await session.open();
      const answer = new Response(stream.readable).text();
      await writeText(stream.writable, `${line}\n`);
      return (await answer).trim();
    },
    async stop() {
      await session.close();
      await serving;
      await child.status;
      await Deno.remove(dir, { recursive: true });
      return await stderr;
    },
  };
}

async function waitForReady(stdout: ReadableStream<Uint8Array>): Promise<void> {
  const decoder = new TextDecoder();
  let seen = "";
  const reader = stdout.getReader();
  while (!seen.includes("ready\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`Go peer exited before listening: ${seen}`);
    seen += decoder.decode(value);
  }
  await reader.cancel();
}

/** Our side of the command protocol, for streams the Go peer opens. */
function serveCommands(session: YamuxSession): Promise<void> {
  return (async () => {
    for await (const stream of session) serveStream(stream).catch(() => {});
  })();
}

async function serveStream(stream: YamuxStream): Promise<void> {
  const { line, rest } = await readCommandLine(stream.readable);
  const [name, arg] = line.split(" ");
  switch (name) {
    case "echo":
      await rest.pipeTo(stream.writable);
      return;
    case "source":
      await writePattern(stream.writable, Number(arg));
      return;
    case "sink": {
      const { count, ok } = await checkPattern(rest);
      await writeText(stream.writable, `${count} ${ok ? "ok" : "bad"}\n`);
      return;
    }
    case "reset":
      stream.reset();
      return;
    default:
      await writeText(stream.writable, `unknown command ${name}\n`);
  }
}

/** Splits off the first line; `rest` yields the bytes after it. Commands are short: read bytewise. */
async function readCommandLine(
  readable: ReadableStream<Uint8Array>,
): Promise<{ line: string; rest: ReadableStream<Uint8Array> }> {
  const reader = new PrefixReader(readable);
  const bytes: number[] = [];
  try {
    for (
      let byte = (await reader.readExactly(1))[0];
      byte !== 10;
      byte = (await reader.readExactly(1))[0]
    ) {
      bytes.push(byte);
    }
  } catch (err) {
    if (!(err instanceof UnexpectedEofError)) throw err;
  }
  return { line: new TextDecoder().decode(new Uint8Array(bytes)), rest: reader.rest() };
}
