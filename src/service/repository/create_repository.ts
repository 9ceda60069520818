/**
 * `CreateRepository`: `git init --bare` in the storage's temp dir, then an
 * atomic move into place, so a crash never leaves a half-made repository.
 *
 * @module
 */
import { invalidArgument } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { alreadyExists } from "../../server/errors.ts";
import { exists, makeStorageTempDir, moveIntoPlace } from "../shared/storage.ts";
import { join } from "node:path";

const OBJECT_FORMATS: Record<string, string> = {
  "0": "sha1",
  "1": "sha1",
  "2": "sha256",
  OBJECT_FORMAT_UNSPECIFIED: "sha1",
  OBJECT_FORMAT_SHA1: "sha1",
  OBJECT_FORMAT_SHA256: "sha256",
};

/** Maps the `ObjectFormat` enum (name or number) to git's name, or InvalidArgument. */
export function objectFormatName(format: unknown): string {
  const name = OBJECT_FORMATS[String(format ?? 0)];
  // Gitaly quotes the value as a string, also when it is a number: `"7"`.
  if (!name) throw invalidArgument(`unknown object format: ${JSON.stringify(String(format))}`);
  return name;
}

/** Builds the handler. */
export function createRepository(
  deps: ServiceDeps,
): Rpc<"gitaly.RepositoryService", "CreateRepository"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository, { allowMissing: true });
    const format = objectFormatName(req.object_format);
    const branch = text(req.default_branch);
    if (await exists(repoPath)) {
      throw alreadyExists("creating repository: repository exists already");
    }
    await initRepository(deps, {
      storagePath: deps.locator.storagePath(req.repository!.storage_name),
      repoPath,
      format,
      branch,
      signal: ctx.signal,
    });
    return {};
  });
}

/** What {@link initRepository} needs. */
export interface InitOptions {
  storagePath: string;
  repoPath: string;
  format: string;
  branch?: string;
  signal?: AbortSignal;
}

/** Creates a bare repository at `repoPath` by way of the storage temp dir. */
export async function initRepository(deps: ServiceDeps, options: InitOptions): Promise<void> {
  const staging = await makeStorageTempDir(options.storagePath, "create-");
  try {
    const repo = join(staging, "repo.git");
    const args = ["init", "--bare", "--quiet", `--object-format=${options.format}`];
    // Without a default branch Gitaly's is `main`, whatever git's own default.
    args.push(`--initial-branch=${options.branch ? branchName(options.branch) : "main"}`);
    await deps.git.runOk({ args: [...args, repo], signal: options.signal });
    await moveIntoPlace(repo, options.repoPath);
  } finally {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
  }
}

/** Accepts `main` or `refs/heads/main`; git wants the short name. */
function branchName(branch: string): string {
  const name = branch.replace(/^refs\/heads\//, "");
  if (name.startsWith("-") || /[\s\0~^:?*[\\]/.test(name) || name.includes("..")) {
    throw invalidArgument(`invalid default branch: ${JSON.stringify(branch)}`);
  }
  return name;
}
