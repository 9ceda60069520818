/**
 * Pushes through the hook chain on both servers, each pointed at the same
 * GitLab internal API double: the same push gives the same refs, the same
 * `remote:` output (GitLab's refusal, `/post_receive`'s messages), and the
 * double sees equivalent `/allowed`, `/pre_receive` and `/post_receive`
 * requests (paths that differ between the servers normalized).
 *
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals } from "../helpers/assert.ts";
import {
  type GitlabDouble,
  normalizedRequest,
  startGitlabDouble,
} from "../helpers/gitlab_double.ts";
import { gitalySshEnv } from "../helpers/gitaly_ssh.ts";
import { git, gitOk } from "../helpers/gitrepo.ts";
import {
  assertSame,
  configureServers,
  differentialTest,
  type Harness,
  type RepoRef,
  type Side,
  SIDES,
} from "./harness.ts";

let gitlab: GitlabDouble;

configureServers(async () => {
  gitlab = await startGitlabDouble();
  return {
    ours: { extraToml: gitlab.toml() },
    referenceEnv: { REF_GITLAB_URL: gitlab.url, REF_GITLAB_SECRET_FILE: gitlab.secretFile },
    cleanup: () => gitlab.close(),
  };
});

/** The first request of a push to `repo` as user-1 (gitaly-ssh's payload). */
function defaultPayload(repo: RepoRef): Record<string, unknown> {
  return {
    repository: {
      storageName: repo.storage_name,
      relativePath: repo.relative_path,
      glRepository: "project-1",
      glProjectPath: "group/project",
    },
    glId: "user-1",
    glUsername: "alice",
  };
}

/** What git showed from the remote side, trailing padding removed. */
function remoteLines(stderr: string): string[] {
  return stderr.split("\n").filter((line) => line.startsWith("remote:")).map((line) =>
    line.trimEnd()
  );
}

/**
 * Runs `git push pushArgs` from `work` against each side in turn over
 * gitaly-ssh; returns each side's git output and API requests.
 */
async function pushBoth(
  h: Harness,
  repo: RepoRef,
  work: string,
  pushArgs: string[],
  payload: Record<string, unknown> = defaultPayload(repo),
) {
  const results = {} as Record<Side, { code: number; remote: string[]; requests: unknown[] }>;
  for (const side of SIDES) {
    gitlab.requests.length = 0;
    const env = gitalySshEnv({ command: "receive-pack", address: h.addresses[side], payload });
    const out = await git(["push", ...pushArgs], { cwd: work, env });
    results[side] = {
      code: out.code,
      remote: remoteLines(out.stderr),
      requests: gitlab.requests.map((r) => normalizedRequest(r)),
    };
  }
  return results;
}

differentialTest("push: allowed, with push options and post-receive messages", async (h) => {
  const repo = await h.repo("rich");
  const work = join(h.dir, "work-allowed");
  await gitOk(["clone", "--quiet", h.gitDir("ours", repo), work]);
  await gitOk(["commit", "--quiet", "--allow-empty", "-m", "pushed"], { cwd: work });
  gitlab.behaviour.allowed = { allow: true };
  gitlab.behaviour.postReceiveMessages = [
    { type: "basic", message: "To create a merge request for topic, visit:\n  http://gl/mr" },
    {
      type: "alert",
      message: "A rather long alert message that has to be wrapped over more than one line " +
        "because it does not fit into seventy-six characters",
    },
  ];
  const results = await pushBoth(h, repo, work, [
    "-o",
    "ci.skip",
    "-o",
    "merge_request.create",
    "ssh://gitaly/x.git",
    "HEAD:refs/heads/topic",
  ]);
  assertEquals(results.reference.code, 0, JSON.stringify(results.reference));
  assertSame(results.ours, results.reference, "push");
  const endpoints = (results.reference.requests as { endpoint: string }[]).map((r) => r.endpoint);
  assertEquals(endpoints, ["/allowed", "/pre_receive", "/post_receive"]);
  await h.compareRefs(repo);
});

differentialTest("push: denied by /allowed leaves the refs alone", async (h) => {
  const repo = await h.repo("rich");
  const work = join(h.dir, "work-denied");
  await gitOk(["clone", "--quiet", h.gitDir("ours", repo), work]);
  await gitOk(["commit", "--quiet", "--allow-empty", "-m", "denied"], { cwd: work });
  const before = await h.refs(repo);
  gitlab.behaviour.allowed = {
    allow: false,
    message: "You are not allowed to push code to protected branches on this project.",
  };
  try {
    const results = await pushBoth(h, repo, work, ["ssh://gitaly/x.git", "HEAD:refs/heads/main"]);
    assert(results.reference.code !== 0, "the reference refused");
    assertSame(results.ours, results.reference, "denied push");
    assertEquals(await h.refs(repo), before);
  } finally {
    gitlab.behaviour.allowed = { allow: true };
  }
});

differentialTest("push: a branch deleted and a tag created in one push", async (h) => {
  const repo = await h.repo("rich");
  const work = join(h.dir, "work-delete");
  await gitOk(["clone", "--quiet", h.gitDir("ours", repo), work]);
  await gitOk(["tag", "v-new"], { cwd: work });
  gitlab.behaviour.postReceiveMessages = [];
  const branches = (await gitOk(["branch", "-r"], { cwd: work })).split("\n")
    .map((b) => b.trim()).filter((b) =>
      b.startsWith("origin/") && !b.includes("HEAD") &&
      b !== "origin/main"
    );
  assert(branches.length > 0, "the fixture has a branch besides main");
  const branch = branches[0].slice("origin/".length);
  const results = await pushBoth(h, repo, work, [
    "ssh://gitaly/x.git",
    `:refs/heads/${branch}`,
    "refs/tags/v-new:refs/tags/v-new",
  ]);
  assertEquals(results.reference.code, 0, JSON.stringify(results.reference));
  assertSame(results.ours, results.reference, "delete and tag");
  await h.compareRefs(repo);
});

/** Installs `body` as `repo`'s custom `hook` on both sides. */
async function installCustomHook(h: Harness, repo: RepoRef, hook: string, body: string) {
  for (const side of SIDES) {
    const path = join(h.gitDir(side, repo), "custom_hooks", hook);
    await Deno.mkdir(join(path, ".."), { recursive: true });
    await Deno.writeTextFile(path, `#!/bin/sh\n${body}\n`);
    await Deno.chmod(path, 0o755);
  }
}

/** A clone of `repo` (ours) in `name` under the harness dir with one new empty commit. */
async function checkoutWithCommit(h: Harness, repo: RepoRef, name: string): Promise<string> {
  const work = join(h.dir, name);
  await gitOk(["clone", "--quiet", h.gitDir("ours", repo), work]);
  await gitOk(["commit", "--quiet", "--allow-empty", "-m", name], { cwd: work });
  return work;
}

differentialTest("push: a custom hook refuses after /allowed", async (h) => {
  const repo = await h.repo("rich");
  await installCustomHook(
    h,
    repo,
    "pre-receive",
    'while read old new ref; do echo "no pushes to $ref ($GL_ID, $GL_PROTOCOL)" >&2; done\nexit 7',
  );
  const work = await checkoutWithCommit(h, repo, "work-custom");
  const results = await pushBoth(h, repo, work, ["ssh://gitaly/x.git", "HEAD:refs/heads/main"]);
  assert(results.reference.code !== 0, "the reference refused");
  assertSame(results.ours, results.reference, "custom hook");
  await h.compareRefs(repo);
});

differentialTest("push: gl_repository only beside the repository", async (h) => {
  const repo = await h.repo("rich");
  const work = join(h.dir, "work-glrepo");
  await gitOk(["clone", "--quiet", h.gitDir("ours", repo), work]);
  await gitOk(["commit", "--quiet", "--allow-empty", "-m", "gl_repository"], { cwd: work });
  const results = await pushBoth(h, repo, work, ["ssh://gitaly/x.git", "HEAD:refs/heads/gl"], {
    repository: { storageName: repo.storage_name, relativePath: repo.relative_path },
    glRepository: "project-1",
    glId: "user-1",
  });
  assert(results.reference.code !== 0, "the reference refused");
  assertSame(results.ours, results.reference, "top-level gl_repository");
  await h.compareRefs(repo);
});

differentialTest("HookService: bad requests", async (h) => {
  const repo = await h.repo("rich", { shared: true });
  await h.compare("gitaly.HookService", "PreReceiveHook", [{ environment_variables: [] }]);
  await h.compare("gitaly.HookService", "PreReceiveHook", [{
    repository: repo,
    environment_variables: [],
    stdin: "0 1 refs/heads/x\n",
  }], { join: "none" });
  await h.compare("gitaly.HookService", "PostReceiveHook", [{
    repository: repo,
    environment_variables: [],
  }], { join: "none" });
  await h.compare("gitaly.HookService", "UpdateHook", {
    repository: repo,
    environment_variables: [],
    ref: "refs/heads/x",
    old_value: "0".repeat(40),
    new_value: "1".repeat(40),
  }, { join: "none" });
  await h.compare("gitaly.HookService", "ReferenceTransactionHook", [{
    repository: repo,
    environment_variables: [],
    state: 7 as never,
  }]);
  await h.compare("gitaly.HookService", "ReferenceTransactionHook", [{
    repository: repo,
    environment_variables: [],
    state: "PREPARED" as never,
  }]);
});

differentialTest("push: a custom update hook refuses one of two refs", async (h) => {
  const repo = await h.repo("rich");
  await installCustomHook(
    h,
    repo,
    "update",
    'case "$1" in refs/heads/blocked) echo "no $1 for $GL_USERNAME" >&2; exit 1;; esac',
  );
  const work = await checkoutWithCommit(h, repo, "work-update");
  const results = await pushBoth(h, repo, work, [
    "ssh://gitaly/x.git",
    "HEAD:refs/heads/blocked",
    "HEAD:refs/heads/open",
  ]);
  assert(results.reference.code !== 0, "the reference refused a ref");
  assertSame(results.ours, results.reference, "update hook");
  await h.compareRefs(repo);
});
