/**
 * Commits and tags as Gitaly's messages, read through the cat-file cache:
 * a `GitCommit` for a revision, a `Tag` with its `target_commit` (tags of
 * tags peeled as Gitaly peels them).
 *
 * @module
 */
import { concatBytes } from "../../git/command.ts";
import { parseCommit, parseTrailers } from "../../git/commit_parser.ts";
import type { CommitFields } from "../../git/commit_parser.ts";
import { parseTag } from "../../git/tag_parser.ts";
import type { TagFields } from "../../git/tag_parser.ts";
import type { ServiceDeps } from "../deps.ts";

/** An object with its whole content. */
export interface ObjectBytes {
  oid: string;
  type: string;
  data: Uint8Array;
}

/**
 * Reads the object `revision` names whole, or null when there is none. For
 * small objects only. `env` names other object directories (a quarantine's).
 */
export async function readObjectBytes(
  deps: ServiceDeps,
  repoPath: string,
  revision: string,
  signal?: AbortSignal,
  env?: Record<string, string>,
): Promise<ObjectBytes | null> {
  const object = await deps.catfile.object(repoPath, revision, { signal, env });
  if (object === null) return null;
  const parts: Uint8Array[] = [];
  for await (const chunk of object.content) parts.push(chunk);
  return {
    oid: object.oid,
    type: object.type,
    data: concatBytes(parts),
  };
}

/**
 * The commit `revision` peels to (`revision^{commit}`), or null when it
 * names nothing or nothing that peels to a commit. `env` names other
 * object directories (a quarantine's).
 */
export async function readCommit(
  deps: ServiceDeps,
  repoPath: string,
  revision: string,
  signal?: AbortSignal,
  env?: Record<string, string>,
): Promise<CommitFields | null> {
  const object = await readObjectBytes(deps, repoPath, `${revision}^{commit}`, signal, env);
  return object === null ? null : parseCommit(object.oid, object.data);
}

/** {@link readCommit} with the message's trailers (from `git show`, as Gitaly reads them). */
export async function readCommitWithTrailers(
  deps: ServiceDeps,
  repoPath: string,
  revision: string,
  signal?: AbortSignal,
): Promise<CommitFields | null> {
  const commit = await readCommit(deps, repoPath, revision, signal);
  if (commit === null) return null;
  const result = await deps.git.runOk({
    gitDir: repoPath,
    command: {
      name: "show",
      flags: ["--format=%(trailers:unfold,separator=%x00)", "--no-patch"],
      args: [commit.id],
    },
    signal,
  });
  let output = result.stdout;
  if (output.length > 0 && output[output.length - 1] === 0x0a) output = output.subarray(0, -1);
  commit.trailers = parseTrailers(output);
  return commit;
}

/**
 * The `Tag` for the annotated tag object `oid` (content `raw`), named
 * `name` when given (the reference's name) and with `target_commit` set
 * when the tag points at a commit, directly or through other tags. The
 * message is whole; callers trim it as their RPC does.
 */
export async function buildAnnotatedTag(
  deps: ServiceDeps,
  repoPath: string,
  oid: string,
  raw: Uint8Array,
  name: Uint8Array | undefined,
  signal?: AbortSignal,
): Promise<TagFields> {
  const { tag, targetOid, targetType } = parseTag(oid, raw, name);
  if (targetType === "commit") {
    const commit = await readCommit(deps, repoPath, targetOid, signal);
    if (commit === null) throw new Error(`tag ${oid}: target commit ${targetOid} not found`);
    tag.target_commit = commit;
  } else if (targetType === "tag") {
    const peeled = await readObjectBytes(deps, repoPath, `${targetOid}^{}`, signal);
    if (peeled === null) throw new Error(`tag ${oid}: peeling ${targetOid}: not found`);
    if (peeled.type === "commit") tag.target_commit = parseCommit(peeled.oid, peeled.data);
  }
  return tag;
}

/**
 * The `Tag` for the tag object `revision` names, or null when it names no
 * object or an object that is not a tag.
 */
export async function readTag(
  deps: ServiceDeps,
  repoPath: string,
  revision: string,
  name: Uint8Array | undefined,
  signal?: AbortSignal,
): Promise<TagFields | null> {
  const object = await readObjectBytes(deps, repoPath, revision, signal);
  if (object === null || object.type !== "tag") return null;
  return await buildAnnotatedTag(deps, repoPath, object.oid, object.data, name, signal);
}
