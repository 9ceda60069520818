/**
 * `SearchFilesByName`: the paths in a tree that match a pathspec and,
 * optionally, a regular expression, with an offset and a limit.
 *
 * @module
 */
import { RecordReader } from "../../git/lines.ts";
import { invalidArgument } from "../../server/errors.ts";
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { validateSearchRequest } from "./search_files.ts";

/** The longest filter accepted, against excessive matching costs. */
const FILTER_MAX_LENGTH = 1000;

/** Builds the handler. */
export function searchFilesByName(
  deps: ServiceDeps,
): Rpc<"gitaly.RepositoryService", "SearchFilesByName"> {
  return serverStream(async (req, ctx, send) => {
    const { repoPath, ref } = await validateSearchRequest(deps, req);
    let filter: RegExp | undefined;
    if (req.filter !== "") {
      if (req.filter.length > FILTER_MAX_LENGTH) {
        throw invalidArgument("filter exceeds maximum length");
      }
      try {
        filter = new RegExp(req.filter, "u");
      } catch (error) {
        throw invalidArgument(`filter did not compile: ${(error as Error).message}`);
      }
    }
    const git = await deps.git.start({
      gitDir: repoPath,
      command: {
        name: "ls-tree",
        flags: ["--full-tree", "--name-status", "-r", "-z"],
        args: [ref],
        postSepArgs: [req.query],
      },
      signal: ctx.signal,
    });
    const files: Uint8Array[] = [];
    const reader = new RecordReader(git.stdout);
    const decoder = new TextDecoder();
    let index = 0;
    while (true) {
      const record = await reader.next(0);
      if (record === null) break;
      const path = record.subarray(0, record.at(-1) === 0 ? record.byteLength - 1 : undefined);
      if (filter && !filter.test(decoder.decode(path))) continue;
      index++;
      if (index > req.offset) files.push(path);
      if (req.limit > 0 && files.length >= req.limit) break;
    }
    await reader.cancel().catch(() => {});
    await git.wait();
    await send({ files });
  });
}
