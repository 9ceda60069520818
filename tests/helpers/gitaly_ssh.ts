/**
 * Running git through gitaly-ssh in tests: the environment that makes
 * `git clone/push/archive ssh://gitaly/…` go to a test server, with our
 * gitaly-ssh (`deno run main.ts gitaly-ssh`) or another program (Gitaly's
 * own binary) as the SSH command.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

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
