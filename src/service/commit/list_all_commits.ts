/**
 * `ListAllCommits`: every commit in the object database, reachable or not,
 * in the order `git cat-file --batch-all-objects --unordered` lists
 * objects (pack order), after the page token and up to the page limit,
 * batched by size.
 *
 * @module
 */
import type { GitCommit, Init } from "../../proto/types.ts";
import { wrapError } from "../../server/errors.ts";
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { SizeChunker } from "../shared/chunker.ts";
import { describeExit } from "../shared/git_stream.ts";
import { parseCommit } from "../../git/commit_parser.ts";
import { chomp, recordSource } from "./history.ts";
import { type PipedRequest, pipeObjects } from "./object_pipe.ts";

const decoder = new TextDecoder();

/** Builds the handler. */
export function listAllCommits(deps: ServiceDeps): Rpc<"gitaly.CommitService", "ListAllCommits"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const token = req.pagination_params?.page_token ?? "";
    const limit = req.pagination_params?.limit ?? 0;
    const chunker = new SizeChunker<Init<GitCommit>>(
      "gitaly.GitCommit",
      (commits) => send({ commits }),
    );
    const source = recordSource(deps, {
      gitDir: repoPath,
      command: {
        name: "cat-file",
        flags: [
          "--batch-all-objects",
          "--batch-check=%(objectname) %(objecttype)",
          "--buffer",
          "--unordered",
        ],
      },
      signal: ctx.signal,
    });
    async function* commits(): AsyncGenerator<PipedRequest<null>[], void, undefined> {
      let waitingForToken = token !== "";
      for await (const batch of source.batches) {
        const requests: PipedRequest<null>[] = [];
        for (const record of batch) {
          const [oid, type] = decoder.decode(chomp(record)).split(" ");
          if (waitingForToken) {
            waitingForToken = oid !== token;
            continue;
          }
          if (type === "commit") requests.push({ id: oid, extra: null });
        }
        yield requests;
      }
    }
    let sent = 0;
    let stopped = false;
    await pipeObjects(deps, repoPath, ctx.signal, commits(), async (object) => {
      if (limit > 0 && sent >= limit) {
        stopped = true;
        return false;
      }
      if (object === null) throw new Error("a listed commit is missing");
      await chunker.add(parseCommit(object.oid, object.data));
      sent++;
    });
    const exit = stopped ? null : await source.exit;
    if (exit && !exit.stopped && exit.code !== 0) {
      throw wrapError(
        "iterating objects",
        new Error(`cat-file: ${describeExit(exit)}, stderr: ${JSON.stringify(exit.stderr)}`),
      );
    }
    await chunker.flush();
  });
}
