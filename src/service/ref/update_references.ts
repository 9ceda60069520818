/**
 * `UpdateReferences`: a stream of reference updates applied atomically.
 *
 * @module
 */
import { hexProblem, type ObjectHash, readObjectFormat } from "../../git/objectid.ts";
import { referenceProblem } from "../../git/refname.ts";
import { RefUpdateError, RefUpdater } from "../../git/updateref.ts";
import type { UpdateReferencesRequest } from "../../proto/types.ts";
import { Code, GrpcError, invalidArgument, wrapError } from "../../server/errors.ts";
import type { Rpc } from "../../server/rpc.ts";
import { clientStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { refTxHook } from "../shared/ref_tx_hook.ts";
import { firstRequest } from "../shared/git_stream.ts";

const encoder = new TextEncoder();

/**
 * `UpdateReferences`: creates, updates and deletes references in one
 * transaction, as Gitaly does. Only the first request names the
 * repository; every request carries at least one update. An update with an
 * old object id applies only if the reference is at it (the zero id: does
 * not exist yet); without, it is forced; the zero new id deletes. Either
 * every update applies or none: a reference not at its expected value is
 * `Aborted` with `UpdateReferencesError.reference_state_mismatch`, a locked
 * one `Aborted` with `references_locked`, a bad name `InvalidArgument` with
 * `invalid_format`, a missing object `NotFound`.
 *
 * Where Gitaly answers `Internal`, this answers precisely: a reference that
 * should not exist but does, or should exist but does not, is a state
 * mismatch (with the actual id, zero for a missing reference); a
 * file/directory clash is `FailedPrecondition`; updates that clash with each
 * other and a branch pointed at a non-commit are `InvalidArgument`.
 */
export function updateReferences(deps: ServiceDeps): Rpc<"gitaly.RefService", "UpdateReferences"> {
  return clientStream(async (requests, ctx) => {
    const { first, rest } = await firstRequest(requests).catch((error) => {
      throw wrapError("receiving initial request", error);
    });
    const repoPath = await deps.locator.repoPath(first.repository);
    const hash = await readObjectFormat(repoPath).catch((error) => {
      throw wrapError("detecting object hash", error);
    });
    const hook = await refTxHook(deps, ctx, first.repository);
    const updater = await RefUpdater.start(deps.git, repoPath, { signal: ctx.signal, ...hook })
      .catch((error) => {
        throw wrapError("starting updater", error);
      });
    // The expected old values, by name: git does not repeat them for a missing reference.
    const expected = new Map<string, string>();
    try {
      let request: UpdateReferencesRequest = { ...first, repository: null };
      while (true) {
        if (request.repository) throw invalidArgument("repository set in subsequent request");
        if (!request.updates?.length) throw invalidArgument("no updates specified");
        for (const update of request.updates) await queue(updater, update, hash, expected);
        const next = await rest.next();
        if (next.done) break;
        request = next.value;
      }
      await updater.prepare();
      await updater.commit();
    } catch (error) {
      ctx.signal.throwIfAborted();
      if (!(error instanceof RefUpdateError)) throw error;
      throw await commitError(deps, repoPath, hash, error, expected);
    } finally {
      await updater.close();
    }
    return {};
  });
}

async function queue(
  updater: RefUpdater,
  update: UpdateReferencesRequest["updates"][number],
  hash: ObjectHash,
  expected: Map<string, string>,
): Promise<void> {
  const reference = update.reference ?? new Uint8Array();
  const name = text(reference);
  const problem = referenceProblem(name);
  if (problem) {
    throw invalidArgument(`validating reference: ${problem}`, { reference: name })
      .withDetail("gitaly.UpdateReferencesError", { invalid_format: { refs: [reference] } });
  }
  const oldOid = text(update.old_object_id);
  const oldProblem = oldOid === "" ? undefined : hexProblem(oldOid, hash);
  if (oldProblem) throw invalidArgument(`validating old object ID: ${oldProblem}`);
  const newOid = text(update.new_object_id);
  const newProblem = hexProblem(newOid, hash);
  if (newProblem) throw invalidArgument(`validating new object ID: ${newProblem}`);
  if (oldOid !== "") expected.set(name, oldOid);
  try {
    await updater.update(reference, newOid, oldOid);
  } catch (error) {
    throw wrapError("queueing update", error, Code.INVALID_ARGUMENT);
  }
}

/** The answer for a transaction git refused. */
async function commitError(
  deps: ServiceDeps,
  repoPath: string,
  hash: ObjectHash,
  error: RefUpdateError,
  expected: Map<string, string>,
): Promise<GrpcError> {
  const failure = error.failure;
  const committing = (code: Code) =>
    new GrpcError(code, `committing update: ${error.message}`, { cause: error });
  switch (failure?.kind) {
    case "locked":
      return new GrpcError(Code.ABORTED, error.message, { cause: error })
        .withDetail("gitaly.UpdateReferencesError", {
          references_locked: { refs: [encoder.encode(failure.reference)] },
        });
    case "mismatch":
      return mismatch(failure.reference, failure.expected, failure.actual, error);
    case "already-exists":
      return mismatch(
        failure.reference,
        hash.zeroOid,
        await currentValue(deps, repoPath, failure.reference),
        error,
      );
    case "unresolved":
      return mismatch(
        failure.reference,
        expected.get(failure.reference) ?? "",
        hash.zeroOid,
        error,
      );
    case "nonexistent-object":
      return new GrpcError(Code.NOT_FOUND, error.message, { cause: error });
    case "file-directory-conflict":
      return committing(Code.FAILED_PRECONDITION);
    case "in-transaction-conflict":
    case "multiple-updates":
    case "non-commit-object":
    case "invalid-format":
      return committing(Code.INVALID_ARGUMENT);
    default:
      return committing(Code.INTERNAL);
  }
}

function mismatch(reference: string, expected: string, actual: string, cause: unknown): GrpcError {
  return new GrpcError(Code.ABORTED, "reference does not point to expected object", { cause })
    .withDetail("gitaly.UpdateReferencesError", {
      reference_state_mismatch: {
        reference_name: encoder.encode(reference),
        expected_object_id: encoder.encode(expected),
        actual_object_id: encoder.encode(actual),
      },
    });
}

/** The object id `reference` points at now ("" if it cannot be read). */
async function currentValue(
  deps: ServiceDeps,
  repoPath: string,
  reference: string,
): Promise<string> {
  const result = await deps.git.run({
    gitDir: repoPath,
    command: {
      name: "for-each-ref",
      flags: ["--count=1", "--format=%(objectname)"],
      args: [reference],
    },
  }).catch(() => undefined);
  return result?.code === 0 ? new TextDecoder().decode(result.stdout).trim() : "";
}
