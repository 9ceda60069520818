/**
 * `UpdateRemoteMirror` (client streaming): makes a remote mirror match the
 * repository's branches and tags, as Gitaly does: branches limited by
 * `only_branches_matching` (`*` wildcards; tags always), refs missing or
 * different on the mirror pushed (forced, unless `keep_divergent_refs`,
 * which keeps diverged mirror branches and reports up to 100 of them),
 * mirror-only refs deleted when they are merged into the default branch,
 * in pushes of at most 10 refspecs, the default branch first. The remote's
 * URL and credentials reach git through its environment, never its
 * command line or our logs.
 *
 * @module
 */
import { join } from "node:path";
import type { GitConfigEntry } from "../../git/command.ts";
import type { UpdateRemoteMirrorRequest } from "../../proto/types.ts";
import { internal, invalidArgument } from "../../server/errors.ts";
import { clientStream, type Rpc } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { firstRequest } from "../shared/git_stream.ts";
import { makeStorageTempDir } from "../shared/storage.ts";
import { configEnv, HOOKS_OFF } from "../repository/git_transfer.ts";
import { resolveConfig } from "../repository/remote_url.ts";

/** Most refspecs in one push. */
const PUSH_BATCH_SIZE = 10;
/** Most divergent refs reported. */
const MAX_DIVERGENT_REFS = 100;

/** Builds the handler. */
export function updateRemoteMirror(
  deps: ServiceDeps,
): Rpc<"gitaly.RemoteService", "UpdateRemoteMirror"> {
  return clientStream(async (requests, ctx) => {
    const { first, rest } = await firstRequest(requests);
    const repoPath = await deps.locator.repoPath(first.repository);
    if (!first.remote) throw invalidArgument("missing Remote");
    if (!first.remote.url) throw invalidArgument("remote is missing URL");
    const matchers = [...first.only_branches_matching];
    for (let next = await rest.next(); !next.done; next = await rest.next()) {
      matchers.push(...next.value.only_branches_matching);
    }
    return await mirror(deps, repoPath, first, referenceMatcher(matchers.map(text)), ctx.signal);
  });
}

async function mirror(
  deps: ServiceDeps,
  repoPath: string,
  req: UpdateRemoteMirrorRequest,
  matcher: RegExp,
  signal: AbortSignal,
) {
  const remoteName = `inmemory-${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const config: GitConfigEntry[] = [];
  let url = req.remote!.url;
  if (req.remote!.resolved_address) {
    const resolved = resolveConfig(url, req.remote!.resolved_address);
    url = resolved.url;
    config.push(...resolved.config);
  }
  config.push({ key: `remote.${remoteName}.url`, value: url });
  if (req.remote!.http_authorization_header) {
    config.push({
      key: `http.${req.remote!.url}.extraHeader`,
      value: `Authorization: ${req.remote!.http_authorization_header}`,
    });
  }
  const ssh = await sshInvocation(deps, req);
  try {
    const env = { ...configEnv(config), ...ssh.env };
    const remoteRefs = await listRemote(deps, repoPath, remoteName, env, signal);
    const localRefs = await listLocal(deps, repoPath, signal);
    const head = await deps.git.run({
      gitDir: repoPath,
      command: { name: "symbolic-ref", flags: ["--quiet"], args: ["HEAD"] },
      signal,
    });
    const defaultBranch = new TextDecoder().decode(head.stdout).trim();
    const isAncestor = async (ancestor: string, descendant: string) => {
      const result = await deps.git.run({
        gitDir: repoPath,
        command: { name: "merge-base", flags: ["--is-ancestor"], args: [ancestor, descendant] },
        signal,
      });
      return result.code === 0;
    };

    let defaultBranchExists = false;
    const divergent: Uint8Array[] = [];
    const toUpdate = new Map<string, string>();
    for (const [name, target] of localRefs) {
      if (name === defaultBranch) defaultBranchExists = true;
      const remoteTarget = remoteRefs.get(name);
      remoteRefs.delete(name);
      if (remoteTarget === target) continue;
      if (
        remoteTarget !== undefined && req.keep_divergent_refs &&
        !await isAncestor(remoteTarget, target)
      ) {
        if (matcher.test(name) && divergent.length < MAX_DIVERGENT_REFS) {
          divergent.push(new TextEncoder().encode(name));
        }
        continue;
      }
      toUpdate.set(name, target);
    }
    const toDelete = new Map<string, string>();
    if (defaultBranchExists && !req.keep_divergent_refs) {
      for (const [name, target] of remoteRefs) {
        // Keep mirror-only work that the default branch does not contain.
        if (await isAncestor(target, defaultBranch)) toDelete.set(name, target);
      }
    }
    const refspecs: string[] = [];
    for (const [prefix, refs] of [["", toUpdate], [":", toDelete]] as const) {
      for (const name of refs.keys()) {
        if (!matcher.test(name)) continue;
        refspecs.push(prefix + name);
        if (name === defaultBranch) {
          const last = refspecs.length - 1;
          [refspecs[0], refspecs[last]] = [refspecs[last], refspecs[0]];
        }
      }
    }
    for (let i = 0; i < refspecs.length; i += PUSH_BATCH_SIZE) {
      const batch = refspecs.slice(i, i + PUSH_BATCH_SIZE);
      const push = await deps.git.run({
        gitDir: repoPath,
        command: {
          name: "push",
          flags: ["--porcelain", ...(req.keep_divergent_refs ? [] : ["--force"])],
          args: [remoteName],
          postSepArgs: batch,
        },
        config: [HOOKS_OFF],
        env,
        signal,
      });
      if (push.code !== 0) throw internal(`push to mirror: exit status ${push.code}`);
    }
    return { divergent_refs: divergent };
  } finally {
    await ssh.clean();
  }
}

/** The mirror's branches and tags (peeled entries and symbolic refs left out). */
async function listRemote(
  deps: ServiceDeps,
  repoPath: string,
  remoteName: string,
  env: Record<string, string>,
  signal: AbortSignal,
): Promise<Map<string, string>> {
  const result = await deps.git.run({
    gitDir: repoPath,
    command: {
      name: "ls-remote",
      flags: ["--symref"],
      args: [remoteName],
      postSepArgs: ["refs/heads/*", "refs/tags/*"],
    },
    config: [HOOKS_OFF],
    env,
    signal,
  });
  if (result.code !== 0) throw internal(`get remote references: exit status ${result.code}`);
  const refs = new Map<string, string>();
  for (const line of new TextDecoder().decode(result.stdout).split("\n")) {
    if (line === "" || line.startsWith("ref: ")) continue;
    const [oid, name] = line.split("\t");
    if (name && !name.endsWith("^{}")) refs.set(name, oid);
  }
  return refs;
}

/** The repository's own branches and tags, symbolic ones left out. */
async function listLocal(deps: ServiceDeps, repoPath: string, signal: AbortSignal) {
  const out = await deps.git.runText({
    gitDir: repoPath,
    command: {
      name: "for-each-ref",
      flags: ["--format=%(objectname) %(symref) %(refname)"],
      args: ["refs/heads/", "refs/tags/"],
    },
    signal,
  });
  const refs: [string, string][] = [];
  for (const line of out.split("\n")) {
    if (line === "") continue;
    const [oid, symref, ...name] = line.split(" ");
    if (symref === "") refs.push([name.join(" "), oid]);
  }
  return refs;
}

/** `GIT_SSH_COMMAND` with the request's key and known hosts in files of their own. */
async function sshInvocation(
  deps: ServiceDeps,
  req: UpdateRemoteMirrorRequest,
): Promise<{ env: Record<string, string>; clean: () => Promise<void> }> {
  if (!req.ssh_key && !req.known_hosts) return { env: {}, clean: () => Promise.resolve() };
  const dir = await makeStorageTempDir(
    deps.locator.storagePath(req.repository!.storage_name),
    "ssh-",
  );
  const options = ["-oIdentitiesOnly=yes"];
  if (req.ssh_key) {
    await Deno.writeTextFile(join(dir, "ssh-key"), req.ssh_key, { mode: 0o400 });
    options.push(`-oIdentityFile=${join(dir, "ssh-key")}`);
  }
  if (req.known_hosts) {
    await Deno.writeTextFile(join(dir, "known-hosts"), req.known_hosts, { mode: 0o400 });
    options.push("-oStrictHostKeyChecking=yes", "-oCheckHostIP=no");
    options.push(`-oUserKnownHostsFile=${join(dir, "known-hosts")}`);
  }
  return {
    env: { GIT_SSH_COMMAND: `ssh ${options.join(" ")}` },
    clean: () => Deno.remove(dir, { recursive: true }).catch(() => {}),
  };
}

/** Tags always; branches named by the patterns (`*` any run), or all without patterns. */
function referenceMatcher(patterns: string[]): RegExp {
  const quote = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const branches = patterns.length === 0
    ? ".+"
    : patterns.map((p) => p.split("*").map(quote).join(".*")).join("|");
  return new RegExp(`^refs/tags/.+$|^refs/heads/(${branches})$`);
}
