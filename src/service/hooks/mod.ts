/**
 * Server-side hooks for pushes. Every `git receive-pack` runs with
 * `core.hooksPath` pointing at the server's own hooks directory (so hooks
 * inside a repository's `hooks/` never run, as with Gitaly); those scripts
 * run the repository's `custom_hooks/` and the global `[hooks]
 * custom_hooks_dir` with the same input and a GitLab-style environment.
 *
 * @module
 */
import type { GitConfigEntry } from "../../git/command.ts";
import type { ServiceDeps } from "../deps.ts";
import { HooksRuntime } from "./runtime.ts";
import { GLOBAL_DIR_ENV, REPO_PATH_ENV } from "./script.ts";

export { HooksRuntime } from "./runtime.ts";
export { FORWARDED_HOOKS, HOOK_SCRIPT } from "./script.ts";

/** Who pushes, and how; becomes the `GL_*` variables hooks see. */
export interface PushIdentity {
  /** `GL_ID`, e.g. `user-123` or `key-42`. */
  glId: string;
  /** `GL_USERNAME`. */
  glUsername: string;
  /** `GL_REPOSITORY`, e.g. `project-7`. */
  glRepository: string;
  /** `GL_PROJECT_PATH`, e.g. `group/project`. */
  glProjectPath: string;
  /** `GL_PROTOCOL`: `ssh` or `http`. */
  protocol: "ssh" | "http";
}

/** The extra `-c` entries and environment of one receive-pack. */
export interface ReceivePackHooks {
  config: GitConfigEntry[];
  env: Record<string, string>;
}

const runtimes = new WeakMap<ServiceDeps, HooksRuntime>();

/** The hooks runtime of one server (one per {@link ServiceDeps}). */
export function hooksRuntimeFor(deps: ServiceDeps): HooksRuntime {
  let runtime = runtimes.get(deps);
  if (!runtime) {
    runtime = new HooksRuntime();
    runtimes.set(deps, runtime);
  }
  return runtime;
}

/**
 * Sets a receive-pack up to run the custom hooks of `repoPath` (and of
 * `customHooksDir`, the global directory, when configured) with
 * `identity` in their environment. The `core.hooksPath` entry must be
 * passed after any request-supplied config so it wins.
 */
export async function receivePackHooks(
  runtime: HooksRuntime,
  repoPath: string,
  customHooksDir: string | undefined,
  identity: PushIdentity,
): Promise<ReceivePackHooks> {
  const env: Record<string, string> = {
    GL_ID: identity.glId,
    GL_USERNAME: identity.glUsername,
    GL_REPOSITORY: identity.glRepository,
    GL_PROJECT_PATH: identity.glProjectPath,
    GL_PROTOCOL: identity.protocol,
    [REPO_PATH_ENV]: repoPath,
  };
  if (customHooksDir) env[GLOBAL_DIR_ENV] = customHooksDir;
  return { config: [{ key: "core.hooksPath", value: await runtime.dir() }], env };
}
