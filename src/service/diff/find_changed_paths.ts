/**
 * `FindChangedPaths`: the paths changed by commits (against their parents,
 * or named parents) or between trees, from `git diff-tree --stdin`, batched
 * by size. Merge commits: against each parent (`-m`, the default) or only
 * paths changed against all parents (`-c`).
 *
 * @module
 */
import { RecordReader } from "../../git/lines.ts";
import {
  type ChangedPaths,
  ChangedPaths_Status,
  FindChangedPathsRequest_MergeCommitDiffMode,
  type FindChangedPathsRequest_Request,
  type Init,
} from "../../proto/types.ts";
import {
  Code,
  GrpcError,
  internal,
  invalidArgument,
  notFound,
  wrapError,
} from "../../server/errors.ts";
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { SizeChunker } from "../shared/chunker.ts";
import { describeExit } from "../shared/git_stream.ts";

const STATUS: Record<string, ChangedPaths_Status> = {
  M: ChangedPaths_Status.MODIFIED,
  D: ChangedPaths_Status.DELETED,
  T: ChangedPaths_Status.TYPE_CHANGE,
  C: ChangedPaths_Status.COPIED,
  A: ChangedPaths_Status.ADDED,
};

/** Builds the handler. */
export function findChangedPaths(
  deps: ServiceDeps,
): Rpc<"gitaly.DiffService", "FindChangedPaths"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    let requests: FindChangedPathsRequest_Request[] = req.requests;
    if (req.commits.length > 0) {
      if (req.requests.length > 0) {
        throw invalidArgument("cannot specify both commits and requests");
      }
      requests = req.commits.map((commit) => ({
        type: "commit_request",
        commit_request: { commit_revision: commit, parent_commit_revisions: [] },
      }));
    }
    const lines: string[] = [];
    for (const request of requests) {
      if (request.commit_request) {
        const commit = await resolve(
          deps,
          repoPath,
          request.commit_request.commit_revision,
          "commit",
          "resolving commit",
        );
        const parents: string[] = [];
        for (const parent of request.commit_request.parent_commit_revisions) {
          parents.push(await resolve(deps, repoPath, parent, "commit", "resolving commit parent"));
        }
        lines.push([commit, ...parents].join(" "));
      } else if (request.tree_request) {
        const left = await resolve(
          deps,
          repoPath,
          request.tree_request.left_tree_revision,
          "tree",
          "resolving left tree",
        );
        const right = await resolve(
          deps,
          repoPath,
          request.tree_request.right_tree_revision,
          "tree",
          "resolving right tree",
        );
        lines.push(`${left} ${right}`);
      } else {
        throw internal("unknown FindChangedPathsRequest type");
      }
    }
    const flags = ["-z", "--stdin", "-r", "--no-renames", "--no-commit-id", "--diff-filter=AMDTC"];
    flags.push(
      req.merge_commit_diff_mode ===
          FindChangedPathsRequest_MergeCommitDiffMode.MERGE_COMMIT_DIFF_MODE_ALL_PARENTS
        ? "-c"
        : "-m",
    );
    const git = await deps.git.start({
      gitDir: repoPath,
      command: { name: "diff-tree", flags },
      stdin: new TextEncoder().encode(lines.join("\n") + "\n"),
      signal: ctx.signal,
    });
    const chunker = new SizeChunker<Init<ChangedPaths>>(
      "gitaly.ChangedPaths",
      (paths) => send({ paths }),
    );
    try {
      const reader = new RecordReader(git.stdout);
      while (true) {
        const paths = await nextPaths(reader);
        if (paths === null) break;
        for (const path of paths) await chunker.add(path);
      }
    } catch (error) {
      git.kill();
      await git.wait();
      throw wrapError("parsing err", error);
    }
    const exit = await git.wait();
    ctx.signal.throwIfAborted();
    if (exit.code !== 0) {
      throw new GrpcError(Code.FAILED_PRECONDITION, `cmd wait err: ${describeExit(exit)}`, {
        fields: { "git.stderr": exit.stderr },
      });
    }
    await chunker.flush();
  });
}

/** `revision^{type}` as an object id, or Gitaly's errors. */
async function resolve(
  deps: ServiceDeps,
  repoPath: string,
  revision: string,
  type: "commit" | "tree",
  context: string,
): Promise<string> {
  if (revision === "") {
    throw wrapError(context, invalidArgument("revision cannot be empty"));
  }
  const info = await deps.catfile.info(repoPath, `${revision}^{${type}}`).catch((error) => {
    throw wrapError(context, error);
  });
  if (info === null) {
    throw wrapError(context, notFound(`revision can not be found: ${JSON.stringify(revision)}`));
  }
  return info.oid;
}

/**
 * One `diff-tree -z` record: `:` (one per parent) modes, ids and statuses,
 * then the path; one ChangedPaths per parent. Whatever diff-tree prints
 * before the first `:` (the tree ids of a tree pair) is skipped.
 */
async function nextPaths(reader: RecordReader): Promise<Init<ChangedPaths>[] | null> {
  let head: Uint8Array | null;
  do {
    head = await reader.next(0);
    if (head === null) return null;
  } while (!head.includes(0x3a)); // tree ids diff-tree echoes for tree pairs come first
  const text = new TextDecoder().decode(head.subarray(0, head.byteLength - 1));
  const start = text.indexOf(":");
  const fields = text.slice(start).split(" ");
  const colons = /^:+/.exec(fields[0])![0].length;
  fields[0] = fields[0].slice(colons);
  const statuses = fields[fields.length - 1];
  if (fields.length !== 2 * colons + 3 || statuses.length !== colons) {
    throw new Error(`git diff-tree parsing failed on: ${text}`);
  }
  const pathRecord = await reader.next(0);
  if (pathRecord === null) throw new Error("EOF");
  const path = pathRecord.subarray(0, pathRecord.byteLength - 1);
  const newMode = parseInt(fields[colons], 8);
  const out: Init<ChangedPaths>[] = [];
  for (let i = 0; i < colons; i++) {
    const status = STATUS[statuses[i]];
    if (status === undefined) throw internal(`unknown changed paths returned: ${statuses}`);
    out.push({ status, path, old_mode: parseInt(fields[i], 8), new_mode: newMode });
  }
  return out;
}
