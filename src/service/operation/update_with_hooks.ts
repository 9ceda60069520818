/**
 * How every OperationService RPC changes a reference, as Gitaly's
 * `updateref.UpdaterWithHooks.UpdateReference` does it:
 *
 * 1. validate the reference and both object ids;
 * 2. pre-receive (GitLab `/allowed` with the quarantine directories, the
 *    custom hooks, `/pre_receive`) against the quarantined repository;
 * 3. migrate the quarantine's objects into the repository;
 * 4. the custom update hooks;
 * 5. `git update-ref` (start, update, prepare, commit) with the hooks
 *    payload in its environment and the server's hook scripts as
 *    `core.hooksPath`, so git runs the reference-transaction hook
 *    (`prepared` once the reference is locked, `committed` after) exactly
 *    as in a push; the scripts call `ReferenceTransactionHook` only when
 *    the payload carries a transaction. A hook failing `prepared` aborts
 *    the update ({@link ReferenceTransactionHookError}); git ignores its
 *    exit status in `committed` (Gitaly, which calls the hook itself,
 *    fails the RPC then, after the update). (Deleting a reference that is
 *    packed and loose, git 2.39 first runs the hook for the packed-refs
 *    transaction with zero old and new ids: force deletions only, which
 *    Gitaly's hook handler does not vote on; a voter must skip them too.)
 * 6. post-receive (`/post_receive`, custom hooks): a failing custom
 *    post-receive hook is logged and ignored, as in Gitaly.
 *
 * The hooks of steps 2, 4 and 6 run in-process through the server's
 * {@link HookChain}, with an environment shaped like the one git gives its
 * hooks (`GITALY_HOOKS_PAYLOAD` naming the user with protocol `web`,
 * `GL_ID`, `GL_USERNAME`, `GL_REPOSITORY`, … for custom hooks), as
 * Gitaly's hook manager runs them for operations. Their output is
 * collected for the errors.
 *
 * Failures are typed so each RPC can answer as Gitaly does:
 * {@link CustomHookError} (a custom hook refused: hook type, stdout,
 * stderr), {@link NotAllowedError} (GitLab refused: its message, user id,
 * protocol, changes), {@link ReferenceUpdateError} (git could not lock or
 * update the reference: reference, old and new oid),
 * {@link ReferenceTransactionHookError} (the reference-transaction hook
 * refused the `prepared` phase, e.g. a failed vote). Everything else is a
 * `GrpcError` (`Internal` for hook failures, like Gitaly's hook
 * manager) or a plain error (`Internal` at the boundary).
 *
 * @module
 */
import { concatBytes } from "../../git/command.ts";
import { goQuote } from "../../git/goquote.ts";
import { hexProblem, readObjectFormat } from "../../git/objectid.ts";
import { RefUpdateError, RefUpdater } from "../../git/updateref.ts";
import { inheritedEnv } from "../../git/env.ts";
import type { GitConfigEntry } from "../../git/command.ts";
import {
  type CustomHookError as CustomHookErrorProto,
  CustomHookError_HookType as HookType,
  type Repository,
  type User,
} from "../../proto/types.ts";
import { internal, invalidArgument, wrapError } from "../../server/errors.ts";
import type { CallContext } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { HookFailure, NotAllowedFailure } from "../hooks/chain.ts";
import {
  encodeHooksPayload,
  HOOKS_PAYLOAD_ENV,
  type HooksPayload,
  RECEIVE_PACK_HOOKS,
  serverHooksPayload,
} from "../hooks/payload.ts";
import { hookChainFor } from "../hooks/run_hook.ts";
import { HOOKS_OFF } from "../repository/git_transfer.ts";
import { type Transaction, transactionFromContext } from "../shared/transaction.ts";
import type { Quarantine } from "./quarantine.ts";

/** The hooks whose custom hooks may refuse an operation. */
export type CustomHookName = "pre-receive" | "update" | "post-receive";

const HOOK_TYPES: Record<CustomHookName, HookType> = {
  "pre-receive": HookType.HOOK_TYPE_PRERECEIVE,
  "update": HookType.HOOK_TYPE_UPDATE,
  "post-receive": HookType.HOOK_TYPE_POSTRECEIVE,
};

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * A custom hook exited non-zero. `message` is Gitaly's wrapped error
 * (`running pre-receive hooks: <text>`), {@link text} Gitaly's
 * `CustomHookError.Error()`: the hook's stderr, else its stdout (when not
 * blank), else `executing custom hooks: error executing "<file>": exit
 * status N`. {@link detail} is the `gitaly.CustomHookError` message.
 */
export class CustomHookError extends Error {
  constructor(
    /** Which hook refused. */
    readonly hook: CustomHookName,
    /** Everything the hooks of this stage wrote to stdout. */
    readonly stdout: string,
    /** Everything the hooks of this stage wrote to stderr. */
    readonly stderr: string,
    /** What Gitaly's `CustomHookError.Error()` says. */
    readonly text: string,
  ) {
    super(`running ${hook} hooks: ${text}`);
    this.name = "CustomHookError";
  }

  /** The `gitaly.CustomHookError` for structured error details. */
  detail(): CustomHookErrorProto {
    return {
      hook_type: HOOK_TYPES[this.hook],
      stdout: encoder.encode(this.stdout),
      stderr: encoder.encode(this.stderr),
    };
  }
}

/**
 * GitLab's `/allowed` refused the change (or failed). `message` is
 * Gitaly's wrapped error, `running pre-receive hooks: GitLab: <reason>`;
 * {@link detail} the `gitaly.AccessCheckError`.
 */
export class NotAllowedError extends Error {
  constructor(
    /** GitLab's message (Gitaly's `NotAllowedError.Message`). */
    readonly reason: string,
    /** The `gl_id` checked. */
    readonly userId: string,
    /** `web`. */
    readonly protocol: string,
    /** The `old new ref\n` line checked. */
    readonly changes: Uint8Array,
  ) {
    super(`running pre-receive hooks: GitLab: ${reason}`);
    this.name = "NotAllowedError";
  }

  /** The `gitaly.AccessCheckError` for structured error details. */
  detail(): { error_message: string; protocol: string; user_id: string; changes: Uint8Array } {
    return {
      error_message: this.reason,
      protocol: this.protocol,
      user_id: this.userId,
      changes: this.changes,
    };
  }
}

/**
 * `git update-ref` could not lock or update the reference (it exists, moved,
 * is locked, clashes with another, has a bad name, …). `message` is Gitaly
 * 16.7's `reference update: <why>` (`reference already exists`, `file
 * directory conflict`, `invalid reference format`, `reference does not
 * point to expected object`, …, see `RefUpdateError`); {@link detail} the
 * `gitaly.ReferenceUpdateError`. Some RPCs answer with their own message
 * (UserUpdateBranch: {@link couldNotUpdate}).
 */
export class ReferenceUpdateError extends Error {
  constructor(
    /** The full reference name. */
    readonly reference: Uint8Array,
    readonly oldOid: string,
    readonly newOid: string,
    /** What git said (a `RefUpdateError`, usually). */
    override readonly cause?: unknown,
  ) {
    super(`reference update: ${(cause as Error | undefined)?.message ?? "unknown error"}`);
    this.name = "ReferenceUpdateError";
  }

  /** Gitaly's older wording: `Could not update <reference>. Please refresh and try again.` */
  get couldNotUpdate(): string {
    return `Could not update ${decoder.decode(this.reference)}. Please refresh and try again.`;
  }

  /** The `gitaly.ReferenceUpdateError` for structured error details. */
  detail(): { reference_name: Uint8Array; old_oid: string; new_oid: string } {
    return { reference_name: this.reference, old_oid: this.oldOid, new_oid: this.newOid };
  }
}

/** `refs/heads/<name>` as bytes (branch names may be any bytes). */
export function branchReference(name: Uint8Array): Uint8Array {
  return concatBytes([encoder.encode("refs/heads/"), name]);
}

/** `refs/tags/<name>` as bytes. */
export function tagReference(name: Uint8Array): Uint8Array {
  return concatBytes([encoder.encode("refs/tags/"), name]);
}

/** A deletion, as UserDeleteBranch and UserDeleteTag request it. */
export interface ReferenceDeletion {
  /** The request's repository. */
  repository: Partial<Repository> | null | undefined;
  user: Partial<User> | null | undefined;
  /** The full reference name. */
  reference: Uint8Array;
  /** The request's `expected_old_oid` (may be empty). */
  expectedOldOid?: string;
  /** The error for a reference that does not exist (without `expectedOldOid`). */
  notFound: () => Error;
}

/**
 * The change that deletes a reference, as Gitaly's UserDeleteBranch and
 * UserDeleteTag find it (pass it to {@link updateReferenceWithHooks}): the
 * old value is `expectedOldOid` when given (it must be a full object id,
 * InvalidArgument `invalid expected old object ID: …`, of an object the
 * repository has, InvalidArgument `cannot resolve expected old object ID:
 * reference not found`), else where the reference points now
 * (`notFound()` when it does not exist).
 */
export async function resolveDeletion(
  deps: ServiceDeps,
  deletion: ReferenceDeletion,
  signal: AbortSignal,
): Promise<ReferenceChange> {
  const repoPath = await deps.locator.repoPath(deletion.repository);
  const hash = await readObjectFormat(repoPath);
  let oldOid: string;
  if (deletion.expectedOldOid) {
    const problem = hexProblem(deletion.expectedOldOid, hash);
    if (problem) throw invalidArgument(`invalid expected old object ID: ${problem}`);
    const info = await deps.catfile.info(repoPath, `${deletion.expectedOldOid}^{object}`, {
      signal,
    });
    if (!info) {
      throw invalidArgument("cannot resolve expected old object ID: reference not found");
    }
    oldOid = info.oid;
  } else {
    const info = await deps.catfile.info(repoPath, deletion.reference, { signal });
    if (!info) throw deletion.notFound();
    oldOid = info.oid;
  }
  return {
    repository: deletion.repository,
    user: deletion.user,
    reference: deletion.reference,
    newOid: hash.zeroOid,
    oldOid,
  };
}

/** One reference change of an operation. */
export interface ReferenceChange {
  /** The request's repository (not quarantined). */
  repository: Partial<Repository> | null | undefined;
  /** The user the hooks and GitLab check (`gl_id`, `gl_username`). */
  user: Partial<User> | null | undefined;
  /**
   * Where the operation wrote its new objects: the pre-receive hook sees
   * them there, and they are migrated into the repository once it passed.
   * Omit when the change needs no new objects (deletions).
   */
  quarantine?: Quarantine;
  /** The full reference name (`refs/heads/main`), as bytes or text. */
  reference: Uint8Array | string;
  /** The new object id; the zero id deletes the reference. */
  newOid: string;
  /** The expected current value; the zero id: the reference must not exist. */
  oldOid: string;
  /** Push options for the hooks (`GIT_PUSH_OPTION_*`, `/post_receive`). */
  pushOptions?: string[];
}

/**
 * The hooks payload of an operation: the repository (quarantined or not),
 * the user with protocol `web`, every receive-pack hook requested, and the
 * call's Praefect transaction (see {@link operationTransaction}). The one
 * place operations build their payload.
 */
export function operationHooksPayload(
  deps: ServiceDeps,
  ctx: CallContext,
  repository: Partial<Repository>,
  user: Partial<User> | null | undefined,
): HooksPayload {
  return serverHooksPayload(deps.hooks, deps.config.auth.token, {
    requestedHooks: RECEIVE_PACK_HOOKS,
    transaction: operationTransaction(ctx),
    userDetails: {
      username: user?.gl_username ?? "",
      userid: user?.gl_id ?? "",
      protocol: "web",
    },
    repository,
  });
}

/**
 * The Praefect transaction an operation votes in, read from the call's
 * metadata (`null`: no voting). With a transaction in the payload, git's
 * reference-transaction hook calls `ReferenceTransactionHook`, which votes
 * on the prepared and committed phases (git ignores the hook's answer in
 * the committed phase, so only a failed prepared vote stops the update);
 * the in-process pre-receive and update hooks synchronize on it.
 */
export function operationTransaction(ctx: CallContext): Transaction | null {
  try {
    return transactionFromContext(ctx) ?? null;
  } catch (error) {
    throw wrapError("getting transaction", error);
  }
}

/**
 * Updates one reference through the hooks; see the module documentation.
 * Resolves once the reference changed (post-receive included); throws
 * {@link CustomHookError}, {@link NotAllowedError},
 * {@link ReferenceUpdateError} or another error, and then the reference
 * is unchanged (except for a post-receive failure other than a custom
 * hook's, which Gitaly reports after the update, as here).
 */
export async function updateReferenceWithHooks(
  deps: ServiceDeps,
  ctx: CallContext,
  change: ReferenceChange,
): Promise<void> {
  const repository = { ...change.repository };
  const repoPath = change.quarantine?.repoPath ?? await deps.locator.repoPath(repository);
  const hash = await readObjectFormat(repoPath);
  const reference = typeof change.reference === "string"
    ? encoder.encode(change.reference)
    : change.reference;
  if (reference.length === 0) throw new Error("reference cannot be empty");
  const oldProblem = hexProblem(change.oldOid, hash);
  if (oldProblem) throw new Error(`validating old value: ${oldProblem}`);
  const newProblem = hexProblem(change.newOid, hash);
  if (newProblem) throw new Error(`validating new value: ${newProblem}`);
  const changes = concatBytes([
    encoder.encode(`${change.oldOid} ${change.newOid} `),
    reference,
    encoder.encode("\n"),
  ]);
  const pushOptions = change.pushOptions ?? [];
  await deps.hooks?.prepare();

  const hookRepo = change.quarantine?.repository ?? repository;
  const chain = hookChainFor(deps);
  const call = (repo: Partial<Repository>, output: CollectedOutput) => ({
    repository: repo,
    repoPath,
    env: hookEnv(encodeHooksPayload(operationHooksPayload(deps, ctx, repo, change.user))),
    pushOptions,
    output: output.sink,
    signal: ctx.signal,
  });

  const preOutput = new CollectedOutput();
  await runStage(
    "pre-receive",
    preOutput,
    ctx.signal,
    () => chain.preReceive(call(hookRepo, preOutput), changes),
  );

  if (change.quarantine) await change.quarantine.migrate();

  const updateOutput = new CollectedOutput();
  await runStage("update", updateOutput, ctx.signal, () =>
    chain.update(
      call(repository, updateOutput),
      decoder.decode(reference),
      change.oldOid,
      change.newOid,
    ));

  await updateRef(deps, ctx, repoPath, repository, change.user, {
    reference,
    oldOid: change.oldOid,
    newOid: change.newOid,
  });

  const postOutput = new CollectedOutput();
  try {
    await runStage(
      "post-receive",
      postOutput,
      ctx.signal,
      () => chain.postReceive(call(repository, postOutput), changes),
    );
  } catch (error) {
    if (!(error instanceof CustomHookError)) throw error;
    deps.logger.error("custom post-receive hook returned an error", {
      error: error.text,
      grpc_method: ctx.path,
    });
  }
}

/**
 * Runs `git update-ref` with the reference-transaction hook (step 5 of the
 * module documentation) and nothing else: what {@link updateReferenceWithHooks}
 * does between update and post-receive, and, alone, how UserMergeToRef and
 * UserRebaseToRef write their target as Gitaly's `UpdateRef` does. Throws
 * {@link ReferenceTransactionHookError} or {@link ReferenceUpdateError}.
 */
export async function updateRef(
  deps: ServiceDeps,
  ctx: CallContext,
  repoPath: string,
  repository: Partial<Repository>,
  user: Partial<User> | null | undefined,
  update: { reference: Uint8Array; oldOid: string; newOid: string },
): Promise<void> {
  const runtime = deps.hooks;
  const config: GitConfigEntry[] = runtime
    ? [{ key: "core.hooksPath", value: runtime.hooksDir }]
    : [HOOKS_OFF];
  const env = {
    [HOOKS_PAYLOAD_ENV]: encodeHooksPayload(operationHooksPayload(deps, ctx, repository, user)),
  };
  let updater: RefUpdater;
  try {
    updater = await RefUpdater.start(deps.git, repoPath, { signal: ctx.signal, config, env });
  } catch (error) {
    throw new Error(`start reference transaction: ${(error as Error).message}`, { cause: error });
  }
  try {
    await updater.update(update.reference, update.newOid, update.oldOid);
    await updater.prepare();
    await updater.commit();
  } catch (error) {
    if (error instanceof RefUpdateError && error.stderr.includes(HOOK_ABORTED)) {
      throw new ReferenceTransactionHookError(error.stderr);
    }
    throw new ReferenceUpdateError(update.reference, update.oldOid, update.newOid, error);
  } finally {
    await updater.close();
  }
}

/** What git says when the reference-transaction hook refused the `prepared` phase. */
const HOOK_ABORTED = "ref updates aborted by hook";

/**
 * The reference-transaction hook refused the `prepared` phase (a failed
 * vote), so git aborted the update: Gitaly's `executing preparatory
 * reference-transaction hook: …`, with the hook's first line of output.
 * (git ignores the hook's exit status in the `committed` phase.)
 */
export class ReferenceTransactionHookError extends Error {
  constructor(
    /** git's stderr: the hook's output, then git's own `fatal:` line. */
    readonly stderr: string,
  ) {
    const first = stderr.split("\n").find((line) => line.trim() && !line.startsWith("fatal: "));
    super(`executing preparatory reference-transaction hook: ${first ?? HOOK_ABORTED}`);
    this.name = "ReferenceTransactionHookError";
  }
}

/** The hook environment: the server's inherited variables and the payload. */
function hookEnv(payload: string): string[] {
  return [
    ...Object.entries(inheritedEnv()).map(([key, value]) => `${key}=${value}`),
    `${HOOKS_PAYLOAD_ENV}=${payload}`,
  ];
}

/** Output of one hook stage, kept for the error. */
class CollectedOutput {
  readonly #stdout: Uint8Array[] = [];
  readonly #stderr: Uint8Array[] = [];
  readonly sink = {
    stdout: (chunk: Uint8Array) => {
      this.#stdout.push(chunk.slice());
      return Promise.resolve();
    },
    stderr: (chunk: Uint8Array) => {
      this.#stderr.push(chunk.slice());
      return Promise.resolve();
    },
  };

  get stdout(): string {
    return decoder.decode(concatBytes(this.#stdout));
  }

  get stderr(): string {
    return decoder.decode(concatBytes(this.#stderr));
  }
}

/**
 * Runs one hook stage and turns its refusal into Gitaly's error for it; a
 * hook stopped by a cancelled call is the cancellation, not a refusal.
 */
async function runStage(
  hook: CustomHookName,
  output: CollectedOutput,
  signal: AbortSignal,
  run: () => Promise<void>,
): Promise<void> {
  try {
    await run();
  } catch (error) {
    signal.throwIfAborted();
    if (!(error instanceof HookFailure)) throw error;
    const { stdout, stderr } = output;
    if (error instanceof NotAllowedFailure) {
      throw new NotAllowedError(error.reason, error.userId, error.protocol, error.changes);
    }
    if (error.fromCustomHook) {
      const text = stderr.trim()
        ? stderr
        : stdout.trim()
        ? stdout
        : `executing custom hooks: error executing ${
          goQuote(error.hookFile ?? "")
        }: exit status ${error.exitCode}`;
      throw new CustomHookError(hook, stdout, stderr, text);
    }
    let message = `running ${hook} hooks: ${error.message}`;
    if (stderr.trim()) message += `, stderr: ${goQuote(stderr)}`;
    else if (stdout.trim()) message += `, stdout: ${goQuote(stdout)}`;
    throw internal(message);
  }
}
