/**
 * `ListFiles`: the paths of every blob in `revision`'s tree (default: the
 * branch HEAD points to), from `git ls-tree -z -r --full-tree
 * --full-name`, batched by message size. A revision that names no object
 * answers one empty message, as in Gitaly.
 *
 * @module
 */
import { validateRevision } from "../../git/revision.ts";
import { LsTreeParser } from "../../git/tree.ts";
import { failedPrecondition, internal } from "../../server/errors.ts";
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { SizeChunker } from "../shared/chunker.ts";
import { runStreamed } from "../shared/git_stream.ts";
import { defaultBranch } from "./revisions.ts";

/** Encoded size of one path in a `ListFilesResponse`. */
function pathSize(path: Uint8Array): number {
  const n = path.byteLength;
  return 1 + (n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4) + n;
}

/** Builds the handler. */
export function listFiles(deps: ServiceDeps): Rpc<"gitaly.CommitService", "ListFiles"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    let revision = text(req.revision);
    validateRevision(revision, { allowEmpty: true });
    if (revision === "") {
      revision = await defaultBranch(deps, repoPath, ctx.signal);
      if (revision === "") throw failedPrecondition("repository does not have a default branch");
    }
    const object = await deps.catfile.info(repoPath, revision, { signal: ctx.signal });
    if (!object) return await send({});

    const chunker = new SizeChunker<Uint8Array>(pathSize, (paths) => send({ paths }));
    const parser = new LsTreeParser();
    const exit = await runStreamed(deps.git, {
      gitDir: repoPath,
      command: {
        name: "ls-tree",
        flags: ["-z", "-r", "--full-tree", "--full-name"],
        args: [object.oid],
      },
      signal: ctx.signal,
    }, {
      stdout: async (chunk) => {
        for (const entry of parser.push(chunk)) {
          if (entry.type === "blob") await chunker.add(entry.path);
        }
      },
    });
    parser.end();
    // A revision naming a blob lists nothing, as in Gitaly (which never looks at ls-tree's exit).
    if (exit.code !== 0 && !exit.stderr.includes("not a tree object")) {
      throw internal(`ls-tree: ${exit.stderr.trim()}`);
    }
    await chunker.flush();
  });
}
