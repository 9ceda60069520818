/**
 * `FetchRemote`: fetches from an arbitrary remote (`remote_params`) into
 * the repository under a temporary remote name, `inmemory`, configured
 * entirely through the environment (so URLs and auth headers stay off the
 * command line). Tags and pruning follow the request; `ssh_key` and
 * `known_hosts` become a throwaway SSH configuration.
 *
 * This is Gitaly's non-atomic variant: its default, atomic one needs
 * `git fetch --porcelain` (git 2.41+). Refs update as git fetch updates
 * them; `tags_changed` comes from git's verbose output.
 *
 * @module
 */
import { join } from "node:path";
import type { FetchRemoteRequest } from "../../proto/types.ts";
import type { GitConfigEntry } from "../../git/command.ts";
import { internal, invalidArgument } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { configEnv, HOOKS_OFF } from "./git_transfer.ts";
import { resolveConfig } from "./remote_url.ts";
import { refTxHook } from "../shared/ref_tx_hook.ts";

const REMOTE_NAME = "inmemory";

/** Builds the handler. */
export function fetchRemote(deps: ServiceDeps): Rpc<"gitaly.RepositoryService", "FetchRemote"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const params = req.remote_params;
    if (!params) throw invalidArgument("missing remote params");
    if (!params.url) throw invalidArgument("blank or empty remote URL");
    const signal = req.timeout > 0
      ? AbortSignal.any([ctx.signal, AbortSignal.timeout(req.timeout * 1000)])
      : ctx.signal;
    // Behind Praefect git's reference-transaction hook votes on the fetched updates.
    const hook = await refTxHook(deps, ctx, req.repository);
    const ssh = await sshCommand(req.ssh_key, req.known_hosts);
    try {
      const result = await deps.git.run({
        gitDir: repoPath,
        // In a transaction all updates go in one (as Gitaly's atomic fetch makes them): one vote.
        args: ["fetch", ...fetchFlags(req), ...hook.config.length ? ["--atomic"] : [], REMOTE_NAME],
        config: [
          HOOKS_OFF,
          { key: "advice.fetchShowForcedUpdates", value: "false" },
          ...hook.config,
        ],
        env: { ...configEnv(remoteConfig(req)), GIT_SSH_COMMAND: ssh.command, ...hook.env },
        signal,
      });
      if (result.code !== 0) {
        const stderr = result.stderr;
        const status = result.signal ? `signal: ${result.signal}` : `exit status ${result.code}`;
        throw internal(
          stderr ? `fetch remote: ${JSON.stringify(stderr)}: ${status}` : `fetch remote: ${status}`,
        );
      }
      return { tags_changed: req.check_tags_changed ? didTagsChange(result.stderr) : true };
    } finally {
      await ssh.cleanup();
    }
  });
}

/** Flags as Gitaly passes them for the request's options. */
export function fetchFlags(req: FetchRemoteRequest): string[] {
  const verbose = req.check_tags_changed;
  const flags = ["--no-write-fetch-head"];
  if (!verbose) flags.push("--quiet");
  if (!req.no_prune) flags.push("--prune");
  if (req.force) flags.push("--force");
  flags.push(req.no_tags ? "--no-tags" : "--tags");
  // git still computes forced updates only to discard them; skip that work.
  if (!verbose && req.force) flags.push("--no-show-forced-updates");
  return flags;
}

/** The `inmemory` remote: refspecs, URL (pinned when asked) and auth header. */
export function remoteConfig(req: FetchRemoteRequest): GitConfigEntry[] {
  const params = req.remote_params!;
  const config: GitConfigEntry[] = refspecs(params.mirror_refmaps ?? []).map((value) => ({
    key: `remote.${REMOTE_NAME}.fetch`,
    value,
  }));
  let url = params.url;
  if (params.resolved_address) {
    const resolved = resolveConfig(url, params.resolved_address);
    url = resolved.url;
    config.push(...resolved.config);
  }
  config.push({ key: `remote.${REMOTE_NAME}.url`, value: url });
  if (params.http_authorization_header) {
    config.push({
      key: `http.${params.url}.extraHeader`,
      value: `Authorization: ${params.http_authorization_header}`,
    });
  }
  return config;
}

/** Gitaly's refmap shorthands: `all_refs`, `heads`, `tags`, or literal refspecs. */
export function refspecs(refmaps: readonly string[]): string[] {
  if (refmaps.length === 0) return ["refs/*:refs/*"];
  return refmaps.map((refmap) =>
    ({
      all_refs: "refs/*:refs/*",
      heads: "refs/heads/*:refs/heads/*",
      tags: "refs/tags/*:refs/tags/*",
    })[
      refmap
    ] ?? refmap
  );
}

/**
 * Whether git's verbose fetch output shows a tag added (`* [new tag]`) or
 * updated (`t`); status lines look like ` <flag> <summary> <from> -> <to>`.
 */
export function didTagsChange(stderr: string): boolean {
  for (const line of stderr.split("\n")) {
    const match = /^ (.) (\[[^\]]*\]|\S+)\s+\S+\s+->\s+\S+/.exec(line);
    if (!match) continue;
    const [, flag, summary] = match;
    if (flag === "t" || (flag === "*" && summary === "[new tag]")) return true;
  }
  return false;
}

/** `ssh` with the request's key and known hosts in a private temp dir (removed by `cleanup`). */
async function sshCommand(
  key: string,
  knownHosts: string,
): Promise<{ command: string; cleanup: () => Promise<void> }> {
  if (!key && !knownHosts) return { command: "ssh", cleanup: async () => {} };
  const dir = await Deno.makeTempDir({ prefix: "gitaly-ssh-invocation" });
  const args = ["ssh"];
  if (key) {
    await Deno.writeTextFile(join(dir, "ssh-key"), key, { mode: 0o400 });
    args.push("-oIdentitiesOnly=yes", `-oIdentityFile=${join(dir, "ssh-key")}`);
  }
  if (knownHosts) {
    await Deno.writeTextFile(join(dir, "known-hosts"), knownHosts, { mode: 0o400 });
    args.push(
      "-oStrictHostKeyChecking=yes",
      "-oCheckHostIP=no",
      `-oUserKnownHostsFile=${join(dir, "known-hosts")}`,
    );
  }
  return {
    command: args.join(" "),
    cleanup: () => Deno.remove(dir, { recursive: true }).catch(() => {}),
  };
}
