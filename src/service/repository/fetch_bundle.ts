/**
 * `FetchBundle`: fetches everything from a bundle the client streams
 * (spooled to the storage's temp dir, as git reads bundles only from files)
 * into the repository with the mirror refspec `+refs/*:refs/*`, without
 * pruning. With `update_head`, HEAD then points at the branch the bundle's
 * HEAD names (as Gitaly guesses it: the default branch, then `master`,
 * then the first branch at the same commit).
 *
 * @module
 */
import { internal, wrapError } from "../../server/errors.ts";
import { clientStream, type Rpc } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { goQuote } from "../shared/git_options.ts";
import { describeExit, firstRequest, requestBytes } from "../shared/git_stream.ts";
import { spoolBundle } from "./bundle.ts";
import { HOOKS_OFF } from "./git_transfer.ts";

const MIRROR_REFSPEC = "+refs/*:refs/*";

/** Builds the handler. */
export function fetchBundle(deps: ServiceDeps): Rpc<"gitaly.RepositoryService", "FetchBundle"> {
  return clientStream(async (requests, ctx) => {
    const { first, rest } = await firstRequest(requests).catch((err) => {
      throw wrapError("first request", err);
    });
    const repoPath = await deps.locator.repoPath(first.repository);
    const storagePath = deps.locator.storagePath(first.repository!.storage_name);
    const bundle = await spoolBundle(storagePath, requestBytes(rest, (r) => r.data, first));
    try {
      await fetchFromBundleFile(deps, repoPath, bundle.path, !!first.update_head, ctx.signal);
    } finally {
      await bundle.remove();
    }
    return {};
  });
}

/**
 * Fetches everything from the bundle file at `bundlePath` into the
 * repository (mirror refspec, no pruning); with `updateHead`, HEAD then
 * names the branch the bundle's HEAD stands for.
 */
export async function fetchFromBundleFile(
  deps: ServiceDeps,
  repoPath: string,
  bundlePath: string,
  updateHeadFromBundle: boolean,
  signal: AbortSignal,
): Promise<void> {
  const fetch = await deps.git.run({
    gitDir: repoPath,
    command: {
      name: "fetch",
      flags: ["--quiet", "--no-write-fetch-head"],
      postSepArgs: [bundlePath, MIRROR_REFSPEC],
    },
    config: [HOOKS_OFF, { key: "advice.fetchShowForcedUpdates", value: "false" }],
    signal,
  });
  if (fetch.code !== 0) {
    throw internal(
      `fetch bundle: ${describeExit({ ...fetch, stderrDropped: 0 })}, stderr: ${
        goQuote(fetch.stderr)
      }`,
    );
  }
  if (updateHeadFromBundle) await updateHead(deps, repoPath, bundlePath, signal);
}

/** Points HEAD at the branch the bundle's HEAD stands for; nothing when the bundle has no HEAD. */
async function updateHead(
  deps: ServiceDeps,
  repoPath: string,
  bundlePath: string,
  signal: AbortSignal,
): Promise<void> {
  const heads = await deps.git.runText({
    gitDir: repoPath,
    args: ["bundle", "list-heads", bundlePath, "HEAD"],
    signal,
  });
  const head = heads.split("\n").map((line) => line.split(" ")).find(([, name]) => name === "HEAD");
  if (!head) return;
  const branch = await guessHead(deps, repoPath, head[0], signal);
  if (!branch) {
    throw internal("fetch bundle: update head from bundle: guess head: reference not found");
  }
  await deps.git.runOk({
    gitDir: repoPath,
    command: { name: "symbolic-ref", args: ["HEAD", branch] },
    signal,
  });
}

/** The branch HEAD most likely named: main, then master, then the first branch at `oid`. */
async function guessHead(
  deps: ServiceDeps,
  repoPath: string,
  oid: string,
  signal: AbortSignal,
): Promise<string | undefined> {
  const listing = await deps.git.runText({
    gitDir: repoPath,
    command: {
      name: "for-each-ref",
      flags: ["--format=%(objectname) %(refname)"],
      args: ["refs/heads/"],
    },
    signal,
  });
  const branches = listing.split("\n").filter(Boolean).map((line) => {
    const at = line.indexOf(" ");
    return { oid: line.slice(0, at), name: line.slice(at + 1) };
  });
  for (const preferred of ["refs/heads/main", "refs/heads/master"]) {
    if (branches.some((b) => b.name === preferred && b.oid === oid)) return preferred;
  }
  return branches.find((b) => b.oid === oid)?.name;
}
