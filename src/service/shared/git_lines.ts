/**
 * A started git command's stdout, line by line.
 *
 * @module
 */
import { BufferedReader } from "../../git/bufreader.ts";
import { GitCommandError, type GitProcess } from "../../git/command.ts";

/**
 * Hands each line of `git`'s stdout (raw bytes, without the LF) to `each`,
 * awaiting it (backpressure), then reaps git. A failing `each` or read
 * stops git and rethrows; a non-zero exit is a {@link GitCommandError}
 * naming `args`.
 */
export async function forEachGitLine(
  git: GitProcess,
  args: string[],
  each: (line: Uint8Array) => Promise<void>,
): Promise<void> {
  const lines = new BufferedReader(git.stdout);
  try {
    for (let line = await lines.readLine(); line !== null; line = await lines.readLine()) {
      await each(line);
    }
  } catch (error) {
    await lines.cancel().catch(() => {});
    await git.wait();
    throw error;
  }
  const exit = await git.wait();
  if (exit.code !== 0) throw new GitCommandError(args, exit.code, exit.stderr, exit.signal);
}
