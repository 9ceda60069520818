/**
 * Running git through gitaly-ssh in tests: the environment that makes
 * `git clone/push/archive ssh://gitaly/…` go to a test server, with our
 * gitaly-ssh (`deno run main.ts gitaly-ssh`) or another program (Gitaly's
 * own binary) as the SSH command.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gitOk, listRefs } from "./gitrepo.ts";

/** Our entry point. */
export const MAIN_TS: string = fileURLToPath(new URL("../../main.ts", import.meta.url));

/** The command line of our gitaly-ssh under `deno run` (git appends the SSH arguments). */
export function ourGitalySsh(): string {
  return `'${Deno.execPath()}' run -A '${MAIN_TS}' gitaly-ssh`;
}

/** What one gitaly-ssh call needs. */
export interface GitalySshCall {
  /** `upload-pack`, `receive-pack` or `upload-archive`. */
  command: string;
  address: string;
  token?: string;
  /** The first request as protobuf JSON (an object, stringified here). */
  payload: Record<string, unknown>;
  /** The program; default {@link ourGitalySsh}. */
  program?: string;
  /** More environment (GITALY_FEATUREFLAGS, GITALY_WD, …). */
  extra?: Record<string, string>;
}

/** The environment for git (see tests/helpers/gitrepo.ts `git()`), gitaly-ssh as SSH command. */
export function gitalySshEnv(call: GitalySshCall): Record<string, string> {
  const env: Record<string, string> = {
    GIT_SSH_COMMAND: `${call.program ?? ourGitalySsh()} ${call.command}`,
    GIT_SSH_VARIANT: "simple",
    GITALY_ADDRESS: call.address,
    GITALY_PAYLOAD: JSON.stringify(call.payload),
    DENO_NO_UPDATE_CHECK: "1",
    ...call.extra,
  };
  if (call.token) env.GITALY_TOKEN = call.token;
  const denoDir = Deno.env.get("DENO_DIR");
  if (denoDir) env.DENO_DIR = denoDir;
  return env;
}

/** The payload naming `relativePath` on `storage` (lowerCamelCase, as Gitaly writes it). */
export function repoPayload(
  storage: string,
  relativePath: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { repository: { storageName: storage, relativePath }, ...extra };
}

/** What {@link pushThroughGitalySsh} needs. */
export interface PushCall {
  /** Bare repository the server serves as `default/project.git`, to clone and check. */
  source: string;
  /** Scratch directory for the checkout. */
  work: string;
  address: string;
  token?: string;
  /** Branch the new commit is pushed to. */
  branch: string;
  /** The gitaly-ssh program; default ours. */
  program?: string;
}

/**
 * Clones `source`, commits, pushes through gitaly-ssh (`receive-pack`) as
 * `user-1`, and returns the pushed commit and the ref the repository has
 * for the branch afterwards.
 */
export async function pushThroughGitalySsh(
  call: PushCall,
): Promise<{ pushed: string; ref: string }> {
  const checkout = join(call.work, `checkout-${call.branch}`);
  await gitOk(["clone", "--quiet", call.source, checkout]);
  await gitOk(["commit", "--allow-empty", "-m", `push to ${call.branch}`], { cwd: checkout });
  const env = gitalySshEnv({
    program: call.program,
    command: "receive-pack",
    address: call.address,
    token: call.token,
    payload: {
      repository: {
        storageName: "default",
        relativePath: "project.git",
        glRepository: "project-1",
      },
      glId: "user-1",
      glRepository: "project-1",
    },
  });
  await gitOk(["push", "ssh://gitaly/project.git", `HEAD:refs/heads/${call.branch}`], {
    cwd: checkout,
    env,
  });
  const pushed = await gitOk(["rev-parse", "HEAD"], { cwd: checkout });
  return { pushed, ref: (await listRefs(call.source))[`refs/heads/${call.branch}`] };
}
