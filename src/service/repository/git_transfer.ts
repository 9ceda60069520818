/**
 * The git commands that move data between repositories for the
 * server-to-server RPCs: clone, fetch, reading a remote's HEAD, dropping
 * `origin`. Hooks are off for all of them (they are internal copies, not
 * pushes), and settings that might carry credentials travel in the
 * environment (`GIT_CONFIG_*`), never on the command line.
 *
 * @module
 */
import type { GitConfigEntry } from "../../git/command.ts";
import type { ServiceDeps } from "../deps.ts";
import type { GitRemote } from "./replication_source.ts";

/** No hooks run for internal transfers. */
export const HOOKS_OFF: GitConfigEntry = { key: "core.hooksPath", value: "/dev/null" };

/** `GIT_CONFIG_COUNT`/`KEY_n`/`VALUE_n` for `entries` (keeps secrets out of `ps`). */
export function configEnv(entries: GitConfigEntry[]): Record<string, string> {
  const env: Record<string, string> = { GIT_CONFIG_COUNT: String(entries.length) };
  entries.forEach((entry, i) => {
    env[`GIT_CONFIG_KEY_${i}`] = entry.key;
    env[`GIT_CONFIG_VALUE_${i}`] = entry.value;
  });
  return env;
}

/** Options of {@link cloneFrom}. */
export interface CloneOptions {
  /** `--bare` (default) or `--mirror`. */
  bare?: boolean;
  mirror?: boolean;
  /** Only this branch (`--single-branch --no-tags --branch`). */
  branch?: string;
  /** Settings for this command (after the remote's). */
  config?: GitConfigEntry[];
  /** Settings passed through the environment. */
  secretConfig?: GitConfigEntry[];
  signal?: AbortSignal;
}

/** `git clone` from `remote` into `target` (which must not exist). Throws on failure. */
export async function cloneFrom(
  deps: ServiceDeps,
  remote: GitRemote,
  target: string,
  options: CloneOptions = {},
): Promise<void> {
  const args = ["clone", "--quiet", options.mirror ? "--mirror" : "--bare", "--no-local"];
  if (options.branch !== undefined) {
    args.push("--no-tags", "--single-branch", `--branch=${options.branch}`);
  }
  await deps.git.runOk({
    args: [...args, "--", remote.url, target],
    config: [HOOKS_OFF, ...remote.config, ...(options.config ?? [])],
    env: { ...remote.env, ...configEnv(options.secretConfig ?? []) },
    signal: options.signal,
  });
}

/** Options of {@link fetchFrom}. */
export interface FetchOptions {
  prune?: boolean;
  /** `--no-tags` (false) or `--tags` (true); git's default when undefined. */
  tags?: boolean;
  atomic?: boolean;
  config?: GitConfigEntry[];
  signal?: AbortSignal;
}

/** `git fetch` of `refspecs` from `remote` into `repoPath`, quietly, without FETCH_HEAD. */
export async function fetchFrom(
  deps: ServiceDeps,
  repoPath: string,
  remote: GitRemote,
  refspecs: string[],
  options: FetchOptions = {},
): Promise<void> {
  const args = ["fetch", "--quiet", "--no-write-fetch-head"];
  if (options.prune) args.push("--prune");
  if (options.tags !== undefined) args.push(options.tags ? "--tags" : "--no-tags");
  if (options.atomic) args.push("--atomic");
  await deps.git.runOk({
    gitDir: repoPath,
    args: [...args, "--", remote.url, ...refspecs],
    config: [
      HOOKS_OFF,
      { key: "advice.fetchShowForcedUpdates", value: "false" },
      ...remote.config,
      ...(options.config ?? []),
    ],
    env: remote.env,
    signal: options.signal,
  });
}

/** The ref the remote's HEAD points to (`refs/heads/main`), or undefined when it does not say. */
export async function remoteHead(
  deps: ServiceDeps,
  remote: GitRemote,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const { stdout } = await deps.git.runOk({
    args: ["ls-remote", "--symref", "--", remote.url, "HEAD"],
    config: remote.config,
    env: remote.env,
    signal,
  });
  const match = /^ref: (\S+)\tHEAD$/m.exec(new TextDecoder().decode(stdout));
  return match?.[1];
}

/** `git remote remove origin`, as Gitaly does after cloning. */
export async function removeOrigin(deps: ServiceDeps, repoPath: string, signal?: AbortSignal) {
  await deps.git.runOk({ gitDir: repoPath, args: ["remote", "remove", "origin"], signal });
}
