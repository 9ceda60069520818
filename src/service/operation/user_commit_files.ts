/**
 * `UserCommitFiles`: one commit made of file actions (create, create a
 * directory, update, move, delete, change mode), on a branch that exists
 * or is created, from the branch, `start_branch_name` or `start_sha`,
 * possibly of another repository (`start_repository`, whose objects are
 * fetched into the quarantine), through the hooks as the request's user.
 *
 * @module
 */
import { Base64Decoder, type Base64InputError } from "../shared/base64_stream.ts";
import {
  DisallowedCharactersError,
  signatureFromUser,
  UnknownTimezoneError,
  writeCommit,
} from "../../git/commit_writer.ts";
import { hexProblem, type ObjectHash, readObjectFormat } from "../../git/objectid.ts";
import { bytesEqual } from "../../git/tree.ts";
import { binaryString, bytesOfBinary, TreeEditor } from "../../git/tree_editor.ts";
import {
  type Repository,
  UserCommitFilesActionHeader_ActionType as ActionType,
  type UserCommitFilesRequest,
  type UserCommitFilesRequestHeader,
} from "../../proto/types.ts";
import { Code, GrpcError, invalidArgument, wrapError } from "../../server/errors.ts";
import { type CallContext, clientStream, type Rpc } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { goQuote } from "../../git/goquote.ts";
import { gitalyServers } from "../remote/gitaly_servers.ts";
import { applyAction, type CommitAction, pathText, validateActionPath } from "./commit_actions.ts";
import {
  hasBranches,
  quarantineTreeStore,
  resolveInQuarantine,
  writeBlob,
} from "./operation_tree.ts";
import { type Quarantine, withQuarantine } from "./quarantine.ts";
import {
  branchReference,
  CustomHookError,
  ReferenceUpdateError,
  updateReferenceWithHooks,
} from "./update_with_hooks.ts";

const encoder = new TextEncoder();
const EMPTY_TREE_SHA1 = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
const EMPTY_TREE_SHA256 = "6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321";

/** Gitaly's Go type of each action, which its messages name. */
const GO_ACTION_TYPES: Record<CommitAction["kind"], string> = {
  create: "operations.createFile",
  create_dir: "operations.createDirectory",
  update: "operations.updateFile",
  move: "operations.moveFile",
  delete: "operations.deleteFile",
  chmod: "operations.changeFileMode",
};

/** Gitaly's message when the signature ends up without a name or an email. */
const SIGNATURE_MISSING =
  "commit: failed to parse signature - Signature cannot have an empty name or email";

/**
 * Header checks and answers as Gitaly 16.7's: InvalidArgument for a bad
 * header, the index errors of `commit_actions.ts` (with
 * `UserCommitFilesError` details), PermissionDenied with a `custom_hook`
 * detail when a custom hook refuses (GitLab's refusal is Internal, as
 * there), FailedPrecondition when the branch moved.
 */
export function userCommitFiles(
  deps: ServiceDeps,
): Rpc<"gitaly.OperationService", "UserCommitFiles"> {
  return clientStream(async (requests, ctx) => {
    const reader = new RequestReader(requests[Symbol.asyncIterator]());
    const first = await reader.take();
    if (!first) throw new Error("EOF");
    const header = first.header;
    if (!header) throw invalidArgument("empty UserCommitFilesRequestHeader");
    const repoPath = await deps.locator.repoPath(header.repository);
    const hash = await readObjectFormat(repoPath);
    validateHeader(header, hash);
    return await withQuarantine(deps, header.repository, async (quarantine) => {
      try {
        return await commitFiles(deps, ctx, header, reader, quarantine, hash);
      } catch (error) {
        if (error instanceof CustomHookError) {
          throw new GrpcError(Code.PERMISSION_DENIED, "denied by custom hooks")
            .withDetail("gitaly.UserCommitFilesError", { custom_hook: error.detail() });
        }
        throw error;
      }
    });
  });
}

function validateHeader(header: UserCommitFilesRequestHeader, hash: ObjectHash): void {
  if (!header.user) throw invalidArgument("empty User");
  if (!header.commit_message?.length) throw invalidArgument("empty CommitMessage");
  if (!header.branch_name?.length) throw invalidArgument("empty BranchName");
  if (header.start_sha) {
    const problem = hexProblem(header.start_sha, hash);
    if (problem) throw invalidArgument(problem);
  }
}

/** The request stream with one message of lookahead. */
class RequestReader {
  #peeked?: IteratorResult<UserCommitFilesRequest>;

  constructor(private readonly iterator: AsyncIterator<UserCommitFilesRequest>) {}

  async peek(): Promise<UserCommitFilesRequest | undefined> {
    this.#peeked ??= await this.iterator.next();
    return this.#peeked.done ? undefined : this.#peeked.value;
  }

  async take(): Promise<UserCommitFilesRequest | undefined> {
    const next = await this.peek();
    this.#peeked = undefined;
    return next;
  }
}

function sameRepository(a: Partial<Repository> | null | undefined, b: Partial<Repository>) {
  return (a?.storage_name ?? "") === (b.storage_name ?? "") &&
    (a?.relative_path ?? "") === (b.relative_path ?? "");
}

async function commitFiles(
  deps: ServiceDeps,
  ctx: CallContext,
  header: UserCommitFilesRequestHeader,
  reader: RequestReader,
  quarantine: Quarantine,
  hash: ObjectHash,
) {
  const signal = ctx.signal;
  let remote: Partial<Repository> | undefined = header.start_repository ?? undefined;
  if (remote && sameRepository(header.repository, remote)) remote = undefined;

  const targetRef = branchReference(header.branch_name);
  const targetName = binaryString(targetRef);
  const targetRevision = `${pathText(targetName)}^{commit}`;
  const targetCommit = await resolveInQuarantine(deps, quarantine, targetRevision, signal) ?? "";

  let parent: string;
  if (!header.start_sha) {
    try {
      parent = await resolveParentCommit(
        deps,
        ctx,
        quarantine,
        remote,
        targetRevision,
        targetCommit,
        header,
      );
    } catch (error) {
      throw wrapError("resolve parent commit", error);
    }
  } else {
    parent = header.start_sha;
  }

  if (parent !== targetCommit) {
    try {
      await fetchMissingCommit(deps, quarantine, remote, parent, signal);
    } catch (error) {
      throw wrapError("fetch missing commit", error);
    }
  }

  const actions = await receiveActions(deps, quarantine, reader, signal);

  let signature;
  try {
    signature = signatureFromUser(header.user, header.timestamp);
  } catch (error) {
    if (error instanceof UnknownTimezoneError) {
      throw invalidArgument(error.message);
    }
    throw error;
  }

  let rootTree: string | undefined;
  if (parent) {
    const tree = await resolveInQuarantine(deps, quarantine, `${parent}^{tree}`, signal);
    if (!tree) throw new Error("getting tree id: reference not found");
    rootTree = tree;
  }
  const editor = new TreeEditor(quarantineTreeStore(deps, quarantine, signal), rootTree);
  let emptyBlob: string | undefined;
  const emptyBlobId = async () =>
    emptyBlob ??= await writeBlob(deps, quarantine, undefined, new Uint8Array(), signal);
  for (const action of actions) {
    try {
      await applyAction(editor, action, emptyBlobId);
    } catch (error) {
      if (error instanceof GrpcError) throw error;
      throw new Error(
        `performing action ${GO_ACTION_TYPES[action.kind]}: ${(error as Error).message}`,
      );
    }
  }
  let treeId: string | undefined;
  try {
    treeId = await editor.write();
  } catch (error) {
    throw new Error(`writing tree ${(error as Error).message}`);
  }
  treeId ??= hash.hexLength === 40 ? EMPTY_TREE_SHA1 : EMPTY_TREE_SHA256;

  // As the commit writer will have them: no line feeds, no angle brackets (Gitaly's sanitizing).
  const clean = (value: Uint8Array | undefined) => text(value).replace(/[\n<>]/g, "").trim();
  const committerName = clean(header.user!.name);
  const committerEmail = clean(header.user!.email);
  const authorName = clean(header.commit_author_name) || committerName;
  const authorEmail = clean(header.commit_author_email) || committerEmail;
  if (!authorName || !authorEmail) throw invalidArgument(SIGNATURE_MISSING);
  let commitId: string;
  try {
    commitId = await writeCommit(deps.git, quarantine.repoPath, {
      tree: treeId,
      parents: parent ? [parent] : [],
      author: { ...signature, name: authorName, email: authorEmail },
      committer: { ...signature, name: committerName, email: committerEmail },
      message: header.commit_message,
      env: quarantine.env,
      signal,
    });
  } catch (error) {
    if (error instanceof DisallowedCharactersError) throw invalidArgument(SIGNATURE_MISSING);
    throw error;
  }

  const repoCreated = !await hasBranches(deps, quarantine.repoPath, signal);

  let oldRevision: string;
  if (header.expected_old_oid) {
    const problem = hexProblem(header.expected_old_oid, hash);
    if (problem) {
      throw invalidArgument(`invalid expected old object ID: ${problem}`, {
        old_object_id: header.expected_old_oid,
      });
    }
    const info = await deps.catfile.info(
      quarantine.repoPath,
      `${header.expected_old_oid}^{object}`,
      {
        signal,
      },
    );
    if (!info) {
      throw invalidArgument("cannot resolve expected old object ID: reference not found", {
        old_object_id: header.expected_old_oid,
      });
    }
    oldRevision = info.oid;
  } else {
    oldRevision = parent;
    if (targetCommit === "") oldRevision = hash.zeroOid;
    else if (header.force) oldRevision = targetCommit;
  }

  try {
    await updateReferenceWithHooks(deps, ctx, {
      repository: header.repository,
      user: header.user,
      quarantine,
      reference: targetRef,
      newOid: commitId,
      oldOid: oldRevision,
    });
  } catch (error) {
    if (error instanceof ReferenceUpdateError) {
      throw new GrpcError(Code.FAILED_PRECONDITION, error.message);
    }
    if (error instanceof CustomHookError) throw error;
    throw wrapError("update reference", error);
  }

  return {
    branch_update: {
      commit_id: commitId,
      repo_created: repoCreated,
      branch_created: oldRevision === hash.zeroOid,
    },
  };
}

/** Gitaly's `resolveParentCommit`: the commit the new one builds on ("" for none). */
async function resolveParentCommit(
  deps: ServiceDeps,
  ctx: CallContext,
  quarantine: Quarantine,
  remote: Partial<Repository> | undefined,
  targetRevision: string,
  targetCommit: string,
  header: UserCommitFilesRequestHeader,
): Promise<string> {
  const signal = ctx.signal;
  const startBranch = header.start_branch_name?.length ? header.start_branch_name : undefined;
  if (!remote && !startBranch) return targetCommit;
  let repoPath = quarantine.repoPath;
  let env: Record<string, string> | undefined = quarantine.env;
  let kind = "*localrepo.Repo";
  if (remote) {
    // Like Gitaly, reach the other repository only as the caller says where it lives.
    const servers = gitalyServers(ctx.metadata);
    if (!servers) {
      throw new Error("remote repository: remote repository: empty gitaly-servers metadata");
    }
    if (!servers[remote.storage_name ?? ""]) {
      throw new Error(
        `remote repository: remote repository: no storage info for ${
          goQuote(remote.storage_name ?? "")
        }`,
      );
    }
    try {
      repoPath = await deps.locator.repoPath(remote);
    } catch (error) {
      throw wrapError("remote repository", error);
    }
    env = undefined;
    kind = "*remoterepo.Repo";
  }
  if (!await hasBranches(deps, repoPath, signal)) return targetCommit;
  const revision = startBranch
    ? `${pathText(binaryString(branchReference(startBranch)))}^{commit}`
    : targetRevision;
  const info = revision.includes("\n")
    ? null
    : await deps.catfile.info(repoPath, revision, { env, signal });
  if (!info) {
    throw new Error(
      `resolving refish ${goQuote(revision)} in ${kind}: reference not found`,
    );
  }
  return info.oid;
}

/**
 * Gitaly's `fetchMissingCommit`: makes sure `commit` is in the quarantined
 * repository, fetching it (without tags) from `remote` when it is not.
 */
async function fetchMissingCommit(
  deps: ServiceDeps,
  quarantine: Quarantine,
  remote: Partial<Repository> | undefined,
  commit: string,
  signal: AbortSignal,
): Promise<void> {
  const found = await resolveInQuarantine(deps, quarantine, `${commit}^{commit}`, signal);
  if (found) return;
  if (!remote) throw new Error("lookup parent commit: reference not found");
  const remotePath = await deps.locator.repoPath(remote);
  const result = await deps.git.run({
    gitDir: quarantine.repoPath,
    command: {
      name: "fetch",
      flags: [
        "--quiet",
        "--no-tags",
        "--no-write-fetch-head",
        "--no-auto-maintenance",
        // upload-pack runs in the other repository, which must serve any commit.
        "--upload-pack=git -c uploadpack.allowAnySHA1InWant=true upload-pack",
      ],
      args: [remotePath, commit],
    },
    env: quarantine.env,
    signal,
  });
  if (result.code !== 0) {
    throw new Error(`fetch parent commit: exit status ${result.code}: ${result.stderr.trim()}`);
  }
}

/** How each action type reads its content, and what it is called in messages. */
const BLOB_ERROR_PREFIX: Partial<Record<ActionType, string>> = {
  [ActionType.CREATE]: "write created blob: writing blob: ",
  [ActionType.UPDATE]: "write updated blob: writing blob: ",
  [ActionType.MOVE]: "writing blob: ",
};

/**
 * Reads the actions after the header, checking each as Gitaly does and
 * streaming its content into a blob. As Gitaly reads every request before
 * it checks the first action, an error of the stream itself (content
 * before any action, an empty request) wins over an action's error: after
 * an action failed, the rest is read (and dropped) before its error is
 * thrown.
 */
async function receiveActions(
  deps: ServiceDeps,
  quarantine: Quarantine,
  reader: RequestReader,
  signal: AbortSignal,
): Promise<CommitAction[]> {
  const repoPath = binaryString(encoder.encode(quarantine.repoPath));
  const actions: CommitAction[] = [];
  let seenAction = false;
  let failure: unknown;
  while (true) {
    const request = await reader.take();
    if (!request) break;
    const payload = request.action?.user_commit_files_action_payload;
    if (payload === "content") {
      if (!seenAction) throw new Error("content sent before action");
      continue; // content of an action that takes none, or after a failure
    }
    if (payload !== "header" || !request.action?.header) {
      throw new Error("unhandled action payload type: <nil>");
    }
    seenAction = true;
    if (failure !== undefined) continue;
    try {
      const action = await readAction(deps, quarantine, reader, repoPath, request, signal);
      actions.push(action);
    } catch (error) {
      failure = error;
    }
  }
  if (failure !== undefined) throw failure;
  return actions;
}

async function readAction(
  deps: ServiceDeps,
  quarantine: Quarantine,
  reader: RequestReader,
  repoPath: string,
  request: UserCommitFilesRequest,
  signal: AbortSignal,
): Promise<CommitAction> {
  const header = request.action!.header!;
  const type = header.action as ActionType;
  if (!(type in ActionType) || typeof ActionType[type] !== "string") {
    throw invalidArgument(`NoMethodError: undefined method \`downcase' for ${type}:Integer`);
  }
  const path = validateActionPath(repoPath, binaryString(header.file_path ?? new Uint8Array()));
  const content = () =>
    blobFrom(deps, quarantine, reader, path, header.base64_content, type, signal);
  switch (type) {
    case ActionType.CREATE:
      return { kind: "create", path, oid: await content(), executable: header.execute_filemode };
    case ActionType.CHMOD:
      return { kind: "chmod", path, executable: header.execute_filemode };
    case ActionType.MOVE: {
      const previous = validateActionPath(
        repoPath,
        binaryString(header.previous_path ?? new Uint8Array()),
      );
      const oid = header.infer_content ? undefined : await content();
      return { kind: "move", path: previous, newPath: path, oid };
    }
    case ActionType.UPDATE:
      return { kind: "update", path, oid: await content() };
    case ActionType.DELETE:
      return { kind: "delete", path };
    case ActionType.CREATE_DIR:
      return { kind: "create_dir", path };
  }
  throw new Error("unsupported action");
}

/**
 * Streams the content messages following an action header into a blob,
 * decoding base64 on the way when asked; a decoding error kills the write
 * and is answered in Gitaly's words.
 */
async function blobFrom(
  deps: ServiceDeps,
  quarantine: Quarantine,
  reader: RequestReader,
  path: string,
  base64: boolean,
  type: ActionType,
  signal: AbortSignal,
): Promise<string> {
  const decoder = base64 ? new Base64Decoder() : undefined;
  let decodeError: Base64InputError | undefined;
  const chunks = async function* () {
    while (true) {
      const next = await reader.peek();
      if (next?.action?.user_commit_files_action_payload !== "content") break;
      await reader.take();
      const chunk = next.action.content ?? new Uint8Array();
      if (!decoder) {
        if (chunk.length > 0) yield chunk;
        continue;
      }
      try {
        const decoded = decoder.push(chunk);
        if (decoded.length > 0) yield decoded;
      } catch (error) {
        decodeError = error as Base64InputError;
        throw error;
      }
    }
    if (decoder) {
      try {
        decoder.end();
      } catch (error) {
        decodeError = error as Base64InputError;
        throw error;
      }
    }
  };
  const text = pathText(path);
  // `--path` only when the path survives as a command-line argument.
  const validUtf8 = bytesEqual(encoder.encode(text), bytesOfBinary(path));
  try {
    return await writeBlob(
      deps,
      quarantine,
      validUtf8 && !text.includes("\0") ? text : undefined,
      ReadableStream.from(chunks()),
      signal,
    );
  } catch (error) {
    if (decodeError) throw new Error(`${BLOB_ERROR_PREFIX[type]}${decodeError.message}`);
    throw error;
  }
}
