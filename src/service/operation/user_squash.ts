/**
 * `UserSquash`: one commit whose tree is `end_sha` merged onto `start_sha`
 * and whose only parent is `start_sha`, by `author` and committed by the
 * user. It writes the commit into the repository (through the quarantine)
 * and updates no reference. Unresolvable revisions are `InvalidArgument`
 * and conflicts `FailedPrecondition`, each with a `UserSquashError`, as in
 * Gitaly.
 *
 * @module
 */
import { writeCommit } from "../../git/commit_writer.ts";
import { mergeTree, MergeTreeConflictError } from "../../git/merge_tree.ts";
import { failedPrecondition, internal, invalidArgument, wrapError } from "../../server/errors.ts";
import { Code } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { UserSquashRequest } from "../../proto/types.ts";
import type { ServiceDeps } from "../deps.ts";
import { concatBytes } from "../../git/command.ts";
import { userSignature } from "./signature.ts";
import { resolveRevision } from "./start_revision.ts";
import { withQuarantine } from "./quarantine.ts";

const ERROR_TYPE = "gitaly.UserSquashError";
const encoder = new TextEncoder();
const NEWLINE = new Uint8Array([0x0a]);

/** Gitaly's `validateUserSquashRequest` (after the repository's own checks). */
function validate(req: UserSquashRequest): void {
  if (!req.user) throw invalidArgument("empty User");
  if (req.user.name.length === 0) throw invalidArgument("empty user name");
  if (req.user.email.length === 0) throw invalidArgument("empty user email");
  if (!req.start_sha) throw invalidArgument("empty StartSha");
  if (!req.end_sha) throw invalidArgument("empty EndSha");
  if (req.commit_message.length === 0) throw invalidArgument("empty CommitMessage");
  if (!req.author) throw invalidArgument("empty Author");
  if (req.author.name.length === 0) throw invalidArgument("empty author name");
  if (req.author.email.length === 0) throw invalidArgument("empty author email");
}

/** Builds the handler. */
export function userSquash(deps: ServiceDeps): Rpc<"gitaly.OperationService", "UserSquash"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    validate(req);
    const signal = ctx.signal;
    return await withQuarantine(deps, req.repository, async (quarantine) => {
      const env = quarantine.env;
      const resolve = async (revision: string, what: string) => {
        try {
          return await resolveRevision(deps, repoPath, `${revision}^{commit}`, { env, signal });
        } catch (err) {
          throw wrapError(`resolving ${what} revision`, err, Code.INVALID_ARGUMENT)
            .withDetail(ERROR_TYPE, { resolve_revision: { revision: encoder.encode(revision) } });
        }
      };
      const start = await resolve(req.start_sha, "start");
      const end = await resolve(req.end_sha, "end");
      // One moment for both: the committer's, shown in the author's time zone too.
      const now = new Date();
      const committer = userSignature(req.user, req.timestamp, now);
      const author = userSignature(req.author, req.timestamp, now);
      // Gitaly keeps what `git commit-tree -m` once did: a message ends in a newline.
      const given = req.commit_message;
      const message = given[given.length - 1] === 0x0a ? given : concatBytes([given, NEWLINE]);
      let tree: string;
      try {
        ({ tree } = await mergeTree(deps.git, repoPath, {
          ours: start,
          theirs: end,
          allowUnrelatedHistories: true,
          nameOnly: true,
          env,
          signal,
        }));
      } catch (err) {
        if (err instanceof MergeTreeConflictError) {
          // A merge conflict, under the "rebase" name Gitaly keeps for compatibility.
          throw failedPrecondition(`squashing commits: ${err.message}`).withDetail(ERROR_TYPE, {
            rebase_conflict: {
              conflicting_files: err.conflictingFiles.map((file) => encoder.encode(file.path)),
              conflicting_commit_ids: [start, end],
            },
          });
        }
        throw internal(`squashing commits: ${(err as Error).message}`);
      }
      const squashSha = await writeCommit(deps.git, repoPath, {
        tree,
        parents: [start],
        author,
        committer,
        message,
        env,
        signal,
      }).catch((err) => {
        throw internal(`create commit from tree: ${(err as Error).message}`);
      });
      await quarantine.migrate();
      return { squash_sha: squashSha };
    });
  });
}
