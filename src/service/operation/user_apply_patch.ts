/**
 * `UserApplyPatch`: applies a mailbox of patches (`git format-patch`
 * output, streamed) to a branch, one commit per patch, through the hooks as
 * the request's user.
 *
 * Gitaly runs `git am --quiet --3way` in a temporary worktree. We do what
 * `git am` does without one: `git mailsplit` and `git mailinfo` split the
 * mailbox and read each mail's author, date, subject and message; the patch
 * is applied to a temporary index (`git apply --cached`, falling back as
 * `git am --3way` does to a three-way merge of trees, the base made of the
 * blobs the patch names); the commit gets
 * the mail's author and date, the request's user as committer at the
 * request's timestamp, and `git am`'s message (subject, blank line, body,
 * cleaned up like `git stripspace`). Hence the same commits as Gitaly's.
 *
 * @module
 */
import { join } from "node:path";
import {
  type Signature,
  signatureFromUser,
  UnknownTimezoneError,
  writeCommit,
} from "../../git/commit_writer.ts";
import { goQuote } from "../../git/goquote.ts";
import { mergeTree, MergeTreeConflictError } from "../../git/merge_tree.ts";
import { hexProblem, readObjectFormat } from "../../git/objectid.ts";
import { binaryString, bytesOfBinary } from "../../git/tree_editor.ts";
import type { UserApplyPatchRequest, UserApplyPatchRequest_Header } from "../../proto/types.ts";
import {
  failedPrecondition,
  type GrpcError,
  internal,
  invalidArgument,
  wrapError,
} from "../../server/errors.ts";
import { type CallContext, clientStream, type Rpc } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { defaultBranch } from "../ref/for_each_ref.ts";
import { makeStorageTempDir } from "../shared/storage.ts";
import { resolveInQuarantine } from "./operation_tree.ts";
import { type Quarantine, withQuarantine } from "./quarantine.ts";
import { branchReference, updateReferenceWithHooks } from "./update_with_hooks.ts";

const decoder = new TextDecoder();

/**
 * Gitaly's answers: InvalidArgument for a bad header; FailedPrecondition
 * with `git am`'s "Patch failed at …" text when a patch does not apply;
 * Internal otherwise, a custom hook's refusal included.
 */
export function userApplyPatch(
  deps: ServiceDeps,
): Rpc<"gitaly.OperationService", "UserApplyPatch"> {
  return clientStream(async (requests, ctx) => {
    const iterator = requests[Symbol.asyncIterator]();
    const first = await iterator.next();
    if (first.done) throw new Error("EOF");
    const header = first.value.header;
    if (!header) throw invalidArgument("empty UserApplyPatch_Header");
    await deps.locator.repoPath(header.repository);
    if (!header.user) throw invalidArgument("missing User");
    if (!header.target_branch?.length) throw invalidArgument("missing Branch");
    return await withQuarantine(
      deps,
      header.repository,
      (quarantine) => applyPatches(deps, ctx, header, iterator, quarantine),
    );
  });
}

async function applyPatches(
  deps: ServiceDeps,
  ctx: CallContext,
  header: UserApplyPatchRequest_Header,
  patches: AsyncIterator<UserApplyPatchRequest>,
  quarantine: Quarantine,
) {
  const signal = ctx.signal;
  const hash = await readObjectFormat(quarantine.repoPath);
  const reference = branchReference(header.target_branch);
  const referenceName = decoder.decode(reference);
  let branchCreated = false;
  let parent = await resolveInQuarantine(deps, quarantine, `${referenceName}^{commit}`, signal);
  if (!parent) {
    const fallback = await defaultBranch(deps, quarantine.repoPath, signal);
    parent = fallback
      ? await resolveInQuarantine(deps, quarantine, `${fallback}^{commit}`, signal)
      : null;
    if (!parent) throw internal("no default branch");
    branchCreated = true;
  }

  let committer: Signature;
  try {
    committer = signatureFromUser(header.user, header.timestamp);
  } catch (error) {
    if (error instanceof UnknownTimezoneError) throw invalidArgument(error.message);
    throw error;
  }

  const storagePath = deps.locator.storagePath(header.repository?.storage_name);
  const dir = await makeStorageTempDir(storagePath, "apply-patch-");
  let patched: string;
  try {
    await spool(patches, join(dir, "mbox"));
    patched = await applyMailbox(deps, quarantine, dir, parent, committer, signal);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }

  let oldOid = branchCreated ? hash.zeroOid : parent;
  if (header.expected_old_oid) {
    const problem = hexProblem(header.expected_old_oid, hash);
    if (problem) throw internal(`expected old object id not expected SHA format: ${problem}`);
    const found = await resolveInQuarantine(
      deps,
      quarantine,
      `${header.expected_old_oid}^{object}`,
      signal,
    );
    if (!found) throw internal("expected old object cannot be resolved: reference not found");
    oldOid = found;
  }

  try {
    await updateReferenceWithHooks(deps, ctx, {
      repository: header.repository,
      user: header.user,
      quarantine,
      reference,
      newOid: patched,
      oldOid,
    });
  } catch (error) {
    // Gitaly 16.7 answers a custom hook's refusal as Internal too.
    throw wrapError("update reference", error);
  }
  return { branch_update: { commit_id: patched, branch_created: branchCreated } };
}

/** Writes the patches following the header to `path`, as they arrive. */
async function spool(patches: AsyncIterator<UserApplyPatchRequest>, path: string): Promise<void> {
  const file = await Deno.open(path, { write: true, createNew: true });
  try {
    while (true) {
      const next = await patches.next();
      if (next.done) break;
      const chunk = next.value.patches;
      if (chunk?.length) {
        let written = 0;
        while (written < chunk.length) written += await file.write(chunk.subarray(written));
      }
    }
  } finally {
    file.close();
  }
}

/** One mail's metadata as `git mailinfo` prints it. */
interface MailInfo {
  author: string;
  email: string;
  subject: string;
  date: string;
}

function parseMailInfo(info: string): MailInfo {
  const out: MailInfo = { author: "", email: "", subject: "", date: "" };
  const subjects: string[] = [];
  for (const line of info.split("\n")) {
    const [key, value] = [line.slice(0, line.indexOf(": ")), line.slice(line.indexOf(": ") + 2)];
    if (line.indexOf(": ") < 0) continue;
    if (key === "Subject") subjects.push(value);
    else if (key === "Author") out.author += value;
    else if (key === "Email") out.email += value;
    else if (key === "Date") out.date += value;
  }
  out.subject = subjects.join("\n");
  return out;
}

/** Git's `strbuf_stripspace` without comment stripping, on a binary string. */
export function stripspace(text: string): string {
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const out: string[] = [];
  let empty = 0;
  for (const line of lines) {
    const trimmed = line.replace(/[ \t\n\v\f\r]+$/, "");
    if (trimmed === "") {
      empty++;
      continue;
    }
    if (empty > 0 && out.length > 0) out.push("");
    empty = 0;
    out.push(trimmed);
  }
  return out.map((line) => `${line}\n`).join("");
}

/** Gitaly's answer when `git am` stops with `stderr` (and not on a patch that failed). */
function amFailed(stderr: string): GrpcError {
  return internal(`apply patch: exit status 128, stderr: ${goQuote(stderr)}`);
}

/** `git am`'s words when patch `number` (its message `message`) does not apply. */
function patchFailed(number: number, message: string): GrpcError {
  const subject = decoder.decode(bytesOfBinary(message.split("\n")[0]));
  return failedPrecondition(
    `Patch failed at ${String(number).padStart(4, "0")} ${subject}\n` +
      'When you have resolved this problem, run "git am --continue".\n' +
      'If you prefer to skip this patch, run "git am --skip" instead.\n' +
      'To restore the original branch and stop patching, run "git am --abort".\n',
  );
}

/** Applies every mail of `dir/mbox` on top of `parent`; returns the last commit. */
async function applyMailbox(
  deps: ServiceDeps,
  quarantine: Quarantine,
  dir: string,
  parent: string,
  committer: Signature,
  signal: AbortSignal,
): Promise<string> {
  const git = (args: string[], stdin?: Uint8Array | ReadableStream<Uint8Array>) =>
    deps.git.run({
      gitDir: quarantine.repoPath,
      args,
      env: { ...quarantine.env, GIT_INDEX_FILE: join(dir, "index") },
      stdin,
      signal,
    });
  const mails = join(dir, "mails");
  await Deno.mkdir(mails);
  // On stdin, as git am gives it: an empty mailbox is no error there.
  const mbox = await Deno.open(join(dir, "mbox"));
  const split = await git(["mailsplit", "-d4", `-o${mails}`, "-b", "--"], mbox.readable);
  if (split.code !== 0) {
    throw amFailed(split.stderr);
  }
  const count = Number(decoder.decode(split.stdout).trim());
  const run = async (args: string[], stdin?: Uint8Array) => {
    const result = await git(args, stdin);
    if (result.code !== 0) {
      throw new Error(`git ${args[0]}: exit status ${result.code}: ${result.stderr.trim()}`);
    }
    return decoder.decode(result.stdout).trim();
  };
  await run(["read-tree", parent]);
  let current = parent;
  let currentTree = await run(["write-tree"]);
  for (let number = 1; number <= count; number++) {
    const mail = await Deno.readFile(join(mails, String(number).padStart(4, "0")));
    const msgPath = join(dir, "msg");
    const patchPath = join(dir, "patch");
    const info = parseMailInfo(await run(["mailinfo", msgPath, patchPath], mail));
    if (info.author === "Mail System Internal Data") continue;
    const body = await Deno.readFile(msgPath);
    const message = stripspace(`${info.subject}\n\n${binaryString(body)}`);
    // git am prints "Patch is empty." (stdout) and stops.
    if ((await Deno.stat(patchPath)).size === 0) throw amFailed("");
    if (!info.author) throw amFailed(`fatal: empty ident name (for <${info.email}>) not allowed\n`);
    const plain = await git(["apply", "--cached", "--", patchPath]);
    if (plain.code !== 0) {
      const merged = await threeWay(deps, quarantine, dir, patchPath, currentTree, signal);
      if (!merged) throw patchFailed(number, message);
      // Merged back to what we had: git am skips the patch.
      if (merged === currentTree) continue;
      await run(["read-tree", merged]);
    }
    currentTree = await run(["write-tree"]);
    current = await writeCommit(deps.git, quarantine.repoPath, {
      tree: currentTree,
      parents: [current],
      author: {
        name: info.author,
        email: info.email,
        seconds: 0,
        offsetMinutes: 0,
        rawDate: info.date,
      },
      committer,
      message: bytesOfBinary(message),
      env: quarantine.env,
      signal,
    });
  }
  return current;
}

/**
 * `git am --3way`'s fallback: the blobs the patch names make a base tree,
 * the patch applied to that base gives theirs, and base, ours and theirs
 * are merged as trees. The merged tree, or undefined when the patch cannot
 * be placed (blobs missing, the patch does not fit its own base, conflicts).
 */
async function threeWay(
  deps: ServiceDeps,
  quarantine: Quarantine,
  dir: string,
  patchPath: string,
  ours: string,
  signal: AbortSignal,
): Promise<string | undefined> {
  const fake = join(dir, "fake-ancestor");
  await Deno.remove(fake).catch(() => {});
  const git = (args: string[]) =>
    deps.git.run({
      gitDir: quarantine.repoPath,
      args,
      env: { ...quarantine.env, GIT_INDEX_FILE: fake },
      signal,
    });
  if ((await git(["apply", `--build-fake-ancestor=${fake}`, "--", patchPath])).code !== 0) return;
  const base = await git(["write-tree"]);
  if (base.code !== 0) return;
  if ((await git(["apply", "--cached", "--", patchPath])).code !== 0) return;
  const theirs = await git(["write-tree"]);
  if (theirs.code !== 0) return;
  try {
    const { tree } = await mergeTree(deps.git, quarantine.repoPath, {
      ours,
      theirs: decoder.decode(theirs.stdout).trim(),
      mergeBase: decoder.decode(base.stdout).trim(),
      env: quarantine.env,
      signal,
    });
    return tree;
  } catch (error) {
    if (error instanceof MergeTreeConflictError) return;
    throw error;
  }
}
