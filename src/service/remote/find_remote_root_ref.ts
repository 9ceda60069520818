/**
 * `FindRemoteRootRef`: the branch a remote's HEAD points to, read from
 * `git remote show` on a temporary `inmemory` remote configured through the
 * environment (URL, optional auth header and pinned address).
 *
 * @module
 */
import type { FindRemoteRootRefRequest } from "../../proto/types.ts";
import type { GitConfigEntry } from "../../git/command.ts";
import { internal, invalidArgument, notFound } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { configEnv, HOOKS_OFF } from "../repository/git_transfer.ts";
import { resolveConfig } from "../repository/remote_url.ts";

const HEAD_PREFIX = "HEAD branch: ";

/** Builds the handler. */
export function findRemoteRootRef(
  deps: ServiceDeps,
): Rpc<"gitaly.RemoteService", "FindRemoteRootRef"> {
  return unary(async (req, ctx) => {
    if (!req.remote_url) throw invalidArgument("missing remote URL");
    const repoPath = await deps.locator.repoPath(req.repository);
    const result = await deps.git.run({
      gitDir: repoPath,
      args: ["remote", "show", "inmemory"],
      config: [HOOKS_OFF],
      env: configEnv(remoteConfig(req)),
      signal: ctx.signal,
    });
    for (const line of new TextDecoder().decode(result.stdout).split("\n")) {
      const trimmed = line.trim();
      if (!trimmed.startsWith(HEAD_PREFIX)) continue;
      const ref = trimmed.slice(HEAD_PREFIX.length);
      if (ref === "(unknown)") throw notFound("no remote HEAD found");
      return { ref };
    }
    if (result.code !== 0) {
      throw internal(`exit status ${result.code}`, { stderr: result.stderr });
    }
    throw notFound("couldn't query the remote HEAD");
  });
}

function remoteConfig(req: FindRemoteRootRefRequest): GitConfigEntry[] {
  const config: GitConfigEntry[] = [];
  let url = req.remote_url;
  if (req.resolved_address) {
    const resolved = resolveConfig(url, req.resolved_address);
    url = resolved.url;
    config.push(...resolved.config);
  }
  config.push({ key: "remote.inmemory.url", value: url });
  if (req.http_authorization_header) {
    config.push({
      key: `http.${req.remote_url}.extraHeader`,
      value: `Authorization: ${req.http_authorization_header}`,
    });
  }
  return config;
}
