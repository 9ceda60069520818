/**
 * `SearchFilesByContent`: `git grep` (case-insensitive, Perl regular
 * expressions, two lines of context) over a revision; each match block,
 * as git prints it between `--` separators, is sent in chunks followed by
 * an `end_of_match` message.
 *
 * @module
 */
import { concatBytes } from "../../git/command.ts";
import { chunkBytes } from "../../git/chunk.ts";
import { RecordReader } from "../../git/lines.ts";
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { validateSearchRequest } from "./search_files.ts";

/** Builds the handler. */
export function searchFilesByContent(
  deps: ServiceDeps,
): Rpc<"gitaly.RepositoryService", "SearchFilesByContent"> {
  return serverStream(async (req, ctx, send) => {
    const { repoPath, ref } = await validateSearchRequest(deps, req);
    const git = await deps.git.start({
      gitDir: repoPath,
      command: {
        name: "grep",
        flags: [
          "--ignore-case",
          "-I",
          "--line-number",
          "--null",
          "--before-context=2",
          "--after-context=2",
          "--perl-regexp",
          `-e${req.query}`,
        ],
        args: [ref],
      },
      signal: ctx.signal,
    });
    const sendMatch = async (parts: Uint8Array[]) => {
      const block = concatBytes(parts);
      for (const match_data of chunkBytes(block)) await send({ match_data });
      await send({ end_of_match: true });
    };
    const reader = new RecordReader(git.stdout);
    let block: Uint8Array[] = [];
    while (true) {
      const line = await reader.next();
      if (line === null) break;
      const full = line.at(-1) === 0x0a ? line : concatBytes([line, new Uint8Array([0x0a])]);
      if (full.byteLength === 3 && full[0] === 0x2d && full[1] === 0x2d) {
        await sendMatch(block);
        block = [];
        continue;
      }
      block.push(full);
    }
    if (block.length > 0) await sendMatch(block);
    await git.wait(); // grep exits 1 when nothing matched: not an error
  });
}
