/**
 * The system `tar`, as Gitaly uses it for custom hooks and snapshots:
 * creating an archive as a stream and extracting a streamed archive, both
 * cancelled by the call's signal.
 *
 * @module
 */
import { TailBuffer } from "../../git/stderr.ts";

/** Options of {@link extractTar}. */
export interface ExtractOptions {
  /** Extra arguments after `-xf -` (members, `--strip-components`, …). */
  args?: string[];
  signal?: AbortSignal;
}

/** `tar` exited non-zero; `stderr` holds its complaint. */
export class TarError extends Error {
  constructor(readonly code: number, readonly stderr: string) {
    super(`tar failed with exit status ${code}${stderr.trim() ? `: ${stderr.trim()}` : ""}`);
    this.name = "TarError";
  }
}

/** Extracts the archive `source` into `dir`. */
export async function extractTar(
  dir: string,
  source: AsyncIterable<Uint8Array>,
  options: ExtractOptions = {},
): Promise<void> {
  const child = new Deno.Command("tar", {
    args: ["-C", dir, "-xf", "-", ...(options.args ?? [])],
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
    signal: options.signal,
  }).spawn();
  const stderr = collect(child.stderr);
  const writer = child.stdin.getWriter();
  let feedError: unknown;
  try {
    for await (const chunk of source) await writer.write(chunk);
    await writer.close();
  } catch (err) {
    feedError = err;
    writer.abort(err).catch(() => {});
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  const status = await child.status;
  const text = await stderr;
  if (feedError) throw feedError;
  if (!status.success) throw new TarError(status.code, text);
}

/**
 * Archives `members` of `dir` with `tar -c`; the stream errors with
 * {@link TarError} if tar fails.
 */
export function createTar(
  dir: string,
  members: string[],
  signal?: AbortSignal,
): ReadableStream<Uint8Array> {
  const child = new Deno.Command("tar", {
    args: ["-c", "-f", "-", "-C", dir, ...members],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal,
  }).spawn();
  const stderr = collect(child.stderr);
  const reader = child.stdout.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await reader.read();
      if (!done) return controller.enqueue(value);
      const status = await child.status;
      if (status.success) controller.close();
      else controller.error(new TarError(status.code, await stderr));
    },
    cancel(reason) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
      return reader.cancel(reason);
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<string> {
  const tail = new TailBuffer(16 * 1024);
  for await (const chunk of stream) tail.push(chunk);
  return tail.text();
}
