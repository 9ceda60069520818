/**
 * `ResolveConflicts`: merges their commit into ours with the conflicts
 * resolved as GitLab's JSON says (per file: a side per conflict section,
 * or the whole content), commits the result (parents ours and theirs, the
 * user as author and committer at the request's time) and moves the
 * source branch from our commit to it through the hooks, as Gitaly does.
 * The target branch's commit is fetched from the target repository (over
 * its Gitaly, `gitaly-servers` metadata) when the repository lacks it.
 * Resolution mistakes GitLab shows to its user (a missing section or
 * file, content without changes) come back as `resolution_error`; other
 * failures are errors with Gitaly's codes and messages.
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import { dial } from "../../client/dial.ts";
import { describeError, isCallError } from "../../client/errors.ts";
import { commitService } from "../../client/services.ts";
import { concatBytes } from "../../git/command.ts";
import {
  type Signature,
  signatureFromUser,
  UnknownTimezoneError,
  writeCommit,
} from "../../git/commit_writer.ts";
import { mergeTree, MergeTreeConflictError } from "../../git/merge_tree.ts";
import type { ResolveConflictsRequestHeader } from "../../proto/types.ts";
import { Code, GrpcError, internal, invalidArgument } from "../../server/errors.ts";
import { type CallContext, clientStream, type Rpc } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { Quarantine } from "../operation/quarantine.ts";
import { updateReferenceWithHooks } from "../operation/update_with_hooks.ts";
import { type GitalyServerInfo, gitalyServers } from "../remote/gitaly_servers.ts";
import { INTERNAL_GITALY_URL, internalFetchEnv } from "../remote/internal_fetch.ts";
import { text } from "../shared/bytes.ts";
import { contentChunks } from "../shared/object_content.ts";
import { labelWithPaths } from "./labels.ts";
import {
  FILE_LIMIT,
  parseResolutions,
  type Resolution,
  resolveConflictedFile,
  ResolveError,
} from "./resolution.ts";
import { type Lookup as RevisionLookup, peelCommit, treeEntry } from "./revisions.ts";

/** Messages that are the user's to fix: answered as `resolution_error`. */
const RESOLUTION_ERRORS = [
  "Missing resolution for section ID:",
  "Resolved content has no changes for file",
  "Missing resolutions for the following files:",
];

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Builds the handler. */
export function resolveConflicts(
  deps: ServiceDeps,
): Rpc<"gitaly.ConflictsService", "ResolveConflicts"> {
  return clientStream(async (requests, ctx) => {
    const iterator = requests[Symbol.asyncIterator]();
    const first = await iterator.next();
    const header = first.done ? null : first.value.header;
    if (!header) throw invalidArgument("empty ResolveConflictsRequestHeader");
    await validateHeader(deps, header);
    let signature: Signature;
    try {
      // Unset bytes fields may decode as empty arrays: pass text.
      const user = header.user!;
      signature = signatureFromUser(
        { name: text(user.name), email: text(user.email), timezone: user.timezone },
        header.timestamp,
      );
    } catch (error) {
      if (error instanceof UnknownTimezoneError) throw invalidArgument(error.message);
      throw error;
    }
    const parts: Uint8Array[] = [];
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      if (next.value.files_json?.byteLength) parts.push(next.value.files_json);
    }
    try {
      await resolve(deps, ctx, header, signature, parseResolutions(concatBytes(parts)));
    } catch (error) {
      const message = (error as Error).message.replace(/^resolve: /, "").trim();
      if (RESOLUTION_ERRORS.some((prefix) => message.startsWith(prefix))) {
        deps.logger.error("ResolveConflicts: unable to resolve conflict", { error: message });
        return { resolution_error: message };
      }
      throw error;
    }
    return {};
  });
}

async function validateHeader(deps: ServiceDeps, header: ResolveConflictsRequestHeader) {
  if (!header.our_commit_oid) throw invalidArgument("empty OurCommitOid");
  await deps.locator.repoPath(header.repository);
  if (!header.target_repository) throw invalidArgument("empty TargetRepository");
  if (!header.their_commit_oid) throw invalidArgument("empty TheirCommitOid");
  if (!header.source_branch?.byteLength) throw invalidArgument("empty SourceBranch");
  if (!header.target_branch?.byteLength) throw invalidArgument("empty TargetBranch");
  if (!header.commit_message?.byteLength) throw invalidArgument("empty CommitMessage");
  if (!header.user) throw invalidArgument("empty User");
}

async function resolve(
  deps: ServiceDeps,
  ctx: CallContext,
  header: ResolveConflictsRequestHeader,
  signature: Signature,
  resolutions: Resolution[],
): Promise<void> {
  const target = header.target_repository!;
  const server = targetServer(ctx, target.storage_name);
  const repoPath = await deps.locator.repoPath(header.repository);
  const quarantine = await Quarantine.create(deps, header.repository);
  try {
    const lookup = { deps, repoPath, env: quarantine.env, signal: ctx.signal };
    await ensureTargetCommit(deps, ctx, lookup, server, target, header.target_branch!);

    const ours = header.our_commit_oid;
    const theirs = header.their_commit_oid;
    if (!/^[0-9a-f]{40}$/.test(ours) || !/^[0-9a-f]{40}$/.test(theirs)) {
      throw internal("Rugged::InvalidError: unable to parse OID - contains invalid characters");
    }
    const tree = await resolvedTree(deps, lookup, ours, theirs, resolutions);
    const commit = await writeCommit(deps.git, repoPath, {
      tree,
      parents: [ours, theirs],
      author: signature,
      committer: signature,
      message: header.commit_message,
      env: quarantine.env,
      signal: ctx.signal,
    }).catch((error) => {
      throw internal(`writing commit: ${(error as Error).message}`);
    });
    await updateReferenceWithHooks(deps, ctx, {
      repository: header.repository,
      user: header.user,
      quarantine,
      reference: concatBytes([encoder.encode("refs/heads/"), header.source_branch]),
      newOid: commit,
      oldOid: ours,
    });
  } finally {
    await quarantine.cleanup();
  }
}

/** The target storage's server from the `gitaly-servers` metadata, with Gitaly's messages. */
function targetServer(ctx: CallContext, storage: string): GitalyServerInfo {
  let servers;
  try {
    servers = gitalyServers(ctx.metadata);
  } catch (error) {
    throw internal(`remote repository: ${(error as Error).message}`);
  }
  if (!servers) throw internal("remote repository: empty gitaly-servers metadata");
  const server = servers[storage];
  if (!server) throw internal("remote repository: storage name not found");
  return server;
}

/** A lookup in the quarantined repository. */
type Lookup = Required<RevisionLookup>;

/**
 * Makes sure the repository has the target branch's commit: resolved in
 * the target repository through its server, fetched from there when
 * missing here.
 */
async function ensureTargetCommit(
  deps: ServiceDeps,
  ctx: CallContext,
  lookup: Lookup,
  server: GitalyServerInfo,
  target: NonNullable<ResolveConflictsRequestHeader["target_repository"]>,
  branch: Uint8Array,
): Promise<void> {
  const revision = `refs/heads/${text(branch)}^{commit}`;
  let client: grpc.Client | undefined;
  let oid: string | undefined;
  try {
    client = dial(server.address, { token: server.token });
    const response = await commitService(client).findCommit(
      { repository: target, revision: encoder.encode(revision) },
      { signal: ctx.signal },
    );
    oid = response.commit?.id || undefined;
  } catch (error) {
    const message = `could not resolve target revision ${JSON.stringify(revision)}: ${
      describeError(error)
    }`;
    // The target server's status code is kept, as Go's error wrapping keeps it.
    throw isCallError(error) ? new GrpcError(error.code, message) : new Error(message);
  } finally {
    client?.close();
  }
  if (!oid) {
    throw new Error(
      `could not resolve target revision ${JSON.stringify(revision)}: reference not found`,
    );
  }
  if (await peelCommit(lookup, oid)) return;
  const env = {
    ...lookup.env,
    ...internalFetchEnv(server, {
      repository: target,
      gitConfigOptions: ["uploadpack.allowAnySHA1InWant=true"],
    }, ctx.metadata),
  };
  const result = await deps.git.run({
    gitDir: lookup.repoPath,
    command: {
      name: "fetch",
      flags: ["--quiet", "--no-tags", "--no-write-fetch-head", "--atomic"],
      args: [INTERNAL_GITALY_URL, oid],
    },
    env,
    signal: ctx.signal,
  });
  if (result.code !== 0) {
    throw new Error(`could not fetch target commit: exit status ${result.code}`);
  }
}

/** The merged tree with every conflict resolved. */
async function resolvedTree(
  deps: ServiceDeps,
  lookup: Lookup,
  ours: string,
  theirs: string,
  resolutions: Resolution[],
): Promise<string> {
  let conflict: MergeTreeConflictError;
  try {
    const { tree } = await mergeTree(deps.git, lookup.repoPath, {
      ours,
      theirs,
      allowUnrelatedHistories: true,
      env: lookup.env,
      signal: lookup.signal,
    });
    return tree;
  } catch (error) {
    if (!(error instanceof MergeTreeConflictError)) {
      // Gitaly's message for a failed merge-tree is empty.
      throw new GrpcError(Code.INTERNAL, "", { cause: error });
    }
    conflict = error;
  }

  const checked = new Map(conflict.conflictedFiles().map((path) => [path, false]));
  const updates: string[] = [];
  for (const resolution of resolutions) {
    const path = resolution.oldPath;
    if (!checked.has(path)) {
      throw internal("NoMethodError: undefined method `resolve_lines' for nil:NilClass");
    }
    checked.set(path, true);
    const entry = await treeEntry(lookup, conflict.tree, path);
    if (!entry) throw internal("path not found in merged-tree: entry not found");
    if (entry.type !== "blob") {
      throw internal("entry should be of type blob").withField("path", path).withField(
        "type",
        entry.type,
      );
    }
    if (
      resolution.content !== "" &&
      await unchanged(deps, lookup, entry.oid, ours, theirs, resolution)
    ) {
      throw invalidArgument(`Resolved content has no changes for file ${path}`);
    }
    const needsNewline = await endsWithNewline(deps, lookup, `${ours}:${path}`);
    const conflicted = await readPrefix(deps, lookup, entry.oid, 2 * FILE_LIMIT + 1);
    let resolved: Uint8Array;
    try {
      resolved = resolveConflictedFile(conflicted, ours, theirs, path, resolution, needsNewline);
    } catch (error) {
      if (error instanceof ResolveError) throw internal(error.message);
      throw error;
    }
    const blob = await writeBlob(deps, lookup, path, resolved);
    updates.push(`${entry.mode} ${blob}\t${path}\0`);
  }
  for (const [path, done] of checked) {
    if (!done) throw internal(`Missing resolutions for the following files: ${path}`);
  }
  return await writeTree(deps, lookup, conflict.tree, updates.join(""));
}

/**
 * Whether the resolution's content is the conflicted file itself (markers
 * labelled with the paths), compared as it streams by.
 */
async function unchanged(
  deps: ServiceDeps,
  lookup: Lookup,
  oid: string,
  ours: string,
  theirs: string,
  resolution: Resolution,
): Promise<boolean> {
  const expected = encoder.encode(resolution.content);
  const object = await objectOf(deps, lookup, oid);
  let at = 0;
  const labelled = labelWithPaths(contentChunks(object, -1, lookup.signal), {
    ours,
    ourPath: resolution.oldPath,
    theirs,
    theirPath: resolution.newPath,
  });
  for await (const chunk of labelled) {
    if (at + chunk.byteLength > expected.byteLength) {
      await labelled.return(undefined);
      return false;
    }
    for (let i = 0; i < chunk.byteLength; i++) {
      if (chunk[i] !== expected[at + i]) {
        await labelled.return(undefined);
        return false;
      }
    }
    at += chunk.byteLength;
  }
  return at === expected.byteLength;
}

async function objectOf(deps: ServiceDeps, lookup: Lookup, revision: string) {
  const object = await deps.catfile.object(lookup.repoPath, revision, {
    env: lookup.env,
    signal: lookup.signal,
  });
  if (!object) throw internal("retrieving object: object not found");
  return object;
}

/** Whether the blob `revision` ends with LF (read through, not kept). */
async function endsWithNewline(deps: ServiceDeps, lookup: Lookup, revision: string) {
  const object = await objectOf(deps, lookup, revision);
  let last = -1;
  for await (const chunk of contentChunks(object, -1, lookup.signal)) {
    if (chunk.byteLength) last = chunk[chunk.byteLength - 1];
  }
  return last === 0x0a;
}

/** The first `limit` bytes of the blob `oid`. */
async function readPrefix(deps: ServiceDeps, lookup: Lookup, oid: string, limit: number) {
  const object = await objectOf(deps, lookup, oid);
  const parts: Uint8Array[] = [];
  for await (const chunk of contentChunks(object, limit, lookup.signal)) parts.push(chunk);
  return concatBytes(parts);
}

async function writeBlob(deps: ServiceDeps, lookup: Lookup, path: string, content: Uint8Array) {
  const base = path.slice(path.lastIndexOf("/") + 1);
  const result = await deps.git.run({
    gitDir: lookup.repoPath,
    command: { name: "hash-object", flags: [`--path=${base}`, "--stdin", "-w"] },
    // Gitaly runs every git command so: CRLF line endings become LF.
    config: [{ key: "core.autocrlf", value: "input" }],
    env: lookup.env,
    stdin: content,
    signal: lookup.signal,
  });
  if (result.code !== 0) throw internal(`writing blob: ${result.stderr.trim()}`);
  return decoder.decode(result.stdout).trim();
}

/** `tree` with the index-info `updates` applied, written through a temporary index. */
async function writeTree(deps: ServiceDeps, lookup: Lookup, tree: string, updates: string) {
  const indexDir = await Deno.makeTempDir({ dir: lookup.env.GIT_OBJECT_DIRECTORY });
  const env = { ...lookup.env, GIT_INDEX_FILE: `${indexDir}/index` };
  try {
    const run = async (name: string, flags: string[], args: string[], stdin?: string) => {
      const result = await deps.git.run({
        gitDir: lookup.repoPath,
        command: { name, flags, args },
        env,
        stdin: stdin === undefined ? undefined : encoder.encode(stdin),
        signal: lookup.signal,
      });
      if (result.code !== 0) throw internal(`write tree: ${result.stderr.trim()}`);
      return decoder.decode(result.stdout).trim();
    };
    await run("read-tree", [], [tree]);
    await run("update-index", ["-z", "--index-info"], [], updates);
    return await run("write-tree", [], []);
  } finally {
    await Deno.remove(indexDir, { recursive: true }).catch(() => {});
  }
}
