/**
 * `UserUpdateSubmodule`: points the gitlink at `submodule` on `branch` to
 * `commit_sha` in a new commit, through the hooks as the request's user.
 *
 * @module
 */
import { signatureFromUser, UnknownTimezoneError, writeCommit } from "../../git/commit_writer.ts";
import { hexProblem, type ObjectHash, readObjectFormat } from "../../git/objectid.ts";
import { binaryString, TreeEditError, TreeEditor } from "../../git/tree_editor.ts";
import type { UserUpdateSubmoduleRequest } from "../../proto/types.ts";
import { GrpcError, internal, invalidArgument, wrapError } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { hasBranches, quarantineTreeStore, resolveInQuarantine } from "./operation_tree.ts";
import { withQuarantine } from "./quarantine.ts";
import {
  branchReference,
  CustomHookError,
  ReferenceUpdateError,
  updateReferenceWithHooks,
} from "./update_with_hooks.ts";

/** Gitaly's answer (in `commit_error`) when the path names no gitlink. */
const INVALID_SUBMODULE_PATH = "Invalid submodule path";

/** The submodule is already at the commit (answered in `commit_error`). */
class AlreadyAtError extends Error {}

/**
 * Gitaly's checks and answers: InvalidArgument for a bad request or a
 * missing branch; `commit_error` for an empty repository ("Repository is
 * empty"), a path that is no submodule ("Invalid submodule path"), a
 * submodule already at the commit, or a branch that moved; `pre_receive_error`
 * when a custom hook refuses.
 */
export function userUpdateSubmodule(
  deps: ServiceDeps,
): Rpc<"gitaly.OperationService", "UserUpdateSubmodule"> {
  return unary(async (req, ctx) => {
    await deps.locator.repoPath(req.repository);
    return await withQuarantine(deps, req.repository, async (quarantine) => {
      const signal = ctx.signal;
      const hash = await readObjectFormat(quarantine.repoPath);
      validateRequest(req, hash);
      if (!await hasBranches(deps, quarantine.repoPath, signal)) {
        return { commit_error: "Repository is empty" };
      }
      const reference = branchReference(req.branch);
      const referenceName = text(reference);
      let oldOid: string;
      if (req.expected_old_oid) {
        const problem = hexProblem(req.expected_old_oid, hash);
        if (problem) {
          throw invalidArgument(`invalid expected old object ID: ${problem}`, {
            old_object_id: req.expected_old_oid,
          });
        }
        const found = await resolveInQuarantine(
          deps,
          quarantine,
          `${req.expected_old_oid}^{object}`,
          signal,
        );
        if (!found) {
          throw invalidArgument("cannot resolve expected old object ID: reference not found", {
            old_object_id: req.expected_old_oid,
          });
        }
        oldOid = found;
      } else {
        const found = await resolveInQuarantine(deps, quarantine, referenceName, signal);
        if (!found) throw invalidArgument("Cannot find branch");
        oldOid = found;
      }

      let commitId: string;
      try {
        const tree = await resolveInQuarantine(deps, quarantine, `${referenceName}^{tree}`, signal);
        if (!tree) throw new Error(`submodule: ${INVALID_SUBMODULE_PATH}`);
        const editor = new TreeEditor(quarantineTreeStore(deps, quarantine, signal), tree);
        const submodule = text(req.submodule);
        try {
          await editor.modify(binaryString(req.submodule), (entry) => {
            if (entry.type !== "commit") throw new Error(`submodule: ${INVALID_SUBMODULE_PATH}`);
            if (entry.oid === req.commit_sha) {
              throw new AlreadyAtError(
                `The submodule ${submodule} is already at ${req.commit_sha}`,
              );
            }
            entry.oid = req.commit_sha;
          });
        } catch (error) {
          if (error instanceof TreeEditError && error.kind === "entry-not-found") {
            throw new Error(`submodule: ${INVALID_SUBMODULE_PATH}`);
          }
          if (error instanceof AlreadyAtError) throw error;
          throw new Error(`modifying tree: ${(error as Error).message}`);
        }
        let treeId: string | undefined;
        try {
          treeId = await editor.write();
        } catch (error) {
          throw new Error(`writing tree: ${(error as Error).message}`);
        }
        const parent = await resolveInQuarantine(deps, quarantine, text(req.branch), signal);
        if (!parent) throw new Error("resolving submodule branch: reference not found");
        let signature;
        try {
          signature = signatureFromUser(req.user, req.timestamp);
        } catch (error) {
          if (error instanceof UnknownTimezoneError) throw invalidArgument(error.message);
          throw error;
        }
        commitId = await writeCommit(deps.git, quarantine.repoPath, {
          tree: treeId!,
          parents: [parent],
          author: signature,
          committer: signature,
          message: req.commit_message,
          env: quarantine.env,
          signal,
        }).catch((error) => {
          throw new Error(`creating commit ${(error as Error).message}`);
        });
      } catch (error) {
        const message = (error as Error).message.trim();
        if (message.includes(INVALID_SUBMODULE_PATH)) {
          return { commit_error: INVALID_SUBMODULE_PATH };
        }
        if (message.includes("is already at")) return { commit_error: message };
        if (error instanceof GrpcError) throw wrapError("submodule subcommand", error);
        throw internal(`submodule subcommand: ${message}`);
      }

      try {
        await updateReferenceWithHooks(deps, ctx, {
          repository: req.repository,
          user: req.user,
          quarantine,
          reference,
          newOid: commitId,
          oldOid,
        });
      } catch (error) {
        if (error instanceof CustomHookError) return { pre_receive_error: error.text };
        if (error instanceof ReferenceUpdateError) return { commit_error: error.couldNotUpdate };
        throw internal(`updating ref with hooks: ${(error as Error).message}`);
      }
      return { branch_update: { commit_id: commitId, branch_created: false, repo_created: false } };
    });
  });
}

function validateRequest(req: UserUpdateSubmoduleRequest, hash: ObjectHash): void {
  if (!req.user) throw invalidArgument("empty User");
  if (!req.commit_sha) throw invalidArgument("empty CommitSha");
  if (hexProblem(req.commit_sha, hash)) throw invalidArgument("invalid CommitSha");
  if (!req.branch?.length) throw invalidArgument("empty Branch");
  if (!req.submodule?.length) throw invalidArgument("empty Submodule");
  if (!req.commit_message?.length) throw invalidArgument("empty CommitMessage");
}
