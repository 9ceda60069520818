/**
 * OperationService branch RPCs on both servers: UserCreateBranch,
 * UserUpdateBranch, UserDeleteBranch — results, resulting refs, and
 * refusals by GitLab's `/allowed` and by custom hooks.
 *
 * @module
 */
import { assertEquals } from "../helpers/assert.ts";
import { differentialTest } from "./harness.ts";
import {
  compareBetterCode,
  compareGitlabRequests,
  compareOperation,
  configureOperationServers,
  denyAccess,
  installCustomHook,
  user,
  withGlRepository,
} from "./operation_harness.ts";

configureOperationServers();

differentialTest("UserCreateBranch: creates a branch", async (h) => {
  const repo = await h.repo("rich");
  const repository = withGlRepository(repo);
  await compareOperation(h, repo, "UserCreateBranch", {
    repository,
    branch_name: "new-branch",
    start_point: "main",
    user: user(),
  });
  await compareOperation(h, repo, "UserCreateBranch", {
    repository,
    branch_name: "from-tag",
    start_point: "v1.0.0",
    user: user(),
  });
});

differentialTest("UserCreateBranch: refusals", async (h) => {
  const repo = await h.repo("rich");
  const repository = withGlRepository(repo);
  const base = { repository, branch_name: "x", start_point: "main", user: user() };
  const refused = (request: Record<string, unknown>) =>
    compareOperation(h, repo, "UserCreateBranch", { ...base, ...request }, { rejected: true });
  await refused({ branch_name: "main" }); // exists
  await refused({ start_point: "nope" });
  await refused({ start_point: "main^{tree}" });
  await refused({ branch_name: "" });
  await refused({ start_point: "" });
  await refused({ user: null });
  await refused({ user: user({ gl_id: "" }) });
  await refused({ branch_name: "a..b" });
  await refused({ branch_name: "a b" });
  await refused({ branch_name: "feature" }); // feature/… exist
  await refused({ branch_name: "main/sub" });
  await refused({ repository: repo }); // no gl_repository
  await refused({ repository: { ...repository, relative_path: "missing.git" } });
  await refused({ repository: null });
  await denyAccess("You are not allowed to create branches", () => refused({}));
  for (
    const [hook, body] of [
      ["pre-receive", 'echo "out $GL_ID $GL_PROTOCOL $GL_USERNAME"; echo "no way" >&2; exit 1'],
      ["pre-receive", "exit 3"],
      ["update", 'echo "update says no: $1" >&2; exit 1'],
    ]
  ) {
    const remove = await installCustomHook(h, repo, hook, body);
    await refused({});
    await remove();
  }
});

differentialTest("UserUpdateBranch: moves a branch", async (h) => {
  const repo = await h.repo("rich");
  const repository = withGlRepository(repo);
  const refs = await h.compareRefs(repo);
  const main = refs["refs/heads/main"];
  const merged = refs["refs/heads/feature/merged"];
  await compareOperation(h, repo, "UserUpdateBranch", {
    repository,
    branch_name: "feature/merged",
    newrev: main,
    oldrev: merged,
    user: user(),
  });
  // a branch that does not exist yet is created from the zero id
  await compareOperation(h, repo, "UserUpdateBranch", {
    repository,
    branch_name: "created",
    newrev: main,
    oldrev: "0".repeat(40),
    user: user(),
  });
});

differentialTest("UserUpdateBranch: refusals", async (h) => {
  const repo = await h.repo("rich");
  const repository = withGlRepository(repo);
  const refs = await h.compareRefs(repo);
  const main = refs["refs/heads/main"];
  const merged = refs["refs/heads/feature/merged"];
  const base = {
    repository,
    branch_name: "feature/merged",
    newrev: main,
    oldrev: merged,
    user: user(),
  };
  const refused = (request: Record<string, unknown>) =>
    compareOperation(h, repo, "UserUpdateBranch", { ...base, ...request }, { rejected: true });
  await refused({ user: null });
  await refused({ branch_name: "" });
  await refused({ oldrev: "" });
  await refused({ newrev: "" });
  await refused({ oldrev: main }); // not where the branch is
  await refused({ branch_name: "nope" });
  await refused({ newrev: "1".repeat(40) }); // no such object
  await refused({ repository: repo });
  await refused({ repository: { ...repository, relative_path: "missing.git" } });
  await refused({ repository: null });
  await denyAccess("Denied update", () => refused({}));
  for (const [field, value] of [["newrev", "xyz"], ["oldrev", "abc"]]) {
    await compareBetterCode(h, repo, "UserUpdateBranch", { ...base, [field]: value }, {
      ours: "InvalidArgument",
      reference: "Internal",
    });
  }
  // custom hooks refuse with an answer, not an error
  for (
    const body of [
      'echo "GitLab: hook says no" >&2; exit 1',
      'echo "stdout only"; exit 1',
      "exit 1",
    ]
  ) {
    const before = await h.compareRefs(repo);
    const remove = await installCustomHook(h, repo, "pre-receive", body);
    await compareOperation(h, repo, "UserUpdateBranch", base);
    await remove();
    assertEquals(await h.compareRefs(repo), before);
  }
});

differentialTest("UserDeleteBranch: deletes branches", async (h) => {
  const repo = await h.repo("rich");
  const repository = withGlRepository(repo);
  const refs = await h.compareRefs(repo);
  await compareOperation(h, repo, "UserDeleteBranch", {
    repository,
    branch_name: "orphan",
    user: user(),
  });
  await compareOperation(h, repo, "UserDeleteBranch", {
    repository,
    branch_name: "feature/stale",
    expected_old_oid: refs["refs/heads/feature/stale"],
    user: user(),
  });
  // a packed branch (the fixture's refs are packed) that also exists loose
  await h.git("ours", repo, ["update-ref", "refs/heads/feature/merged", refs["refs/heads/main"]]);
  await h.git("reference", repo, [
    "update-ref",
    "refs/heads/feature/merged",
    refs["refs/heads/main"],
  ]);
  await compareOperation(h, repo, "UserDeleteBranch", {
    repository,
    branch_name: "feature/merged",
    user: user(),
  });
});

differentialTest("UserDeleteBranch: refusals", async (h) => {
  const repo = await h.repo("rich");
  const repository = withGlRepository(repo);
  const refs = await h.compareRefs(repo);
  const base = { repository, branch_name: "feature/stale", user: user() };
  const refused = (request: Record<string, unknown>) =>
    compareOperation(h, repo, "UserDeleteBranch", { ...base, ...request }, { rejected: true });
  await refused({ user: null });
  await refused({ branch_name: "" });
  await refused({ branch_name: "nope" });
  await refused({ expected_old_oid: "xyz" });
  await refused({ expected_old_oid: "1".repeat(40) });
  await refused({ expected_old_oid: refs["refs/heads/main"] });
  // Gitaly (git 2.42) says only "exit status 128" here; we name the cause
  // ("reference does not exist"): code and details must still agree.
  await compareOperation(h, repo, "UserDeleteBranch", {
    ...base,
    branch_name: "nope",
    expected_old_oid: refs["refs/heads/main"],
  }, { rejected: true, message: "ignore" });
  await refused({ repository: repo });
  await refused({ repository: { ...repository, relative_path: "missing.git" } });
  await refused({ repository: null });
  await denyAccess("Denied delete", () => refused({}));
  for (const hook of ["pre-receive", "update"]) {
    const remove = await installCustomHook(h, repo, hook, 'echo "no delete" >&2; exit 1');
    await refused({});
    await remove();
  }
});

differentialTest("branch operations: the same GitLab API requests", async (h) => {
  const repo = await h.repo("rich");
  const repository = withGlRepository(repo);
  const requests = await compareGitlabRequests(h, repo, "UserCreateBranch", {
    repository,
    branch_name: "via-api",
    start_point: "main",
    user: user(),
  });
  assertEquals(
    requests.map((r) => (r as { endpoint: string }).endpoint),
    ["/allowed", "/pre_receive", "/post_receive"],
  );
  await compareGitlabRequests(h, repo, "UserDeleteBranch", {
    repository,
    branch_name: "via-api",
    user: user(),
  });
  await denyAccess("Not you", () =>
    compareGitlabRequests(h, repo, "UserDeleteBranch", {
      repository,
      branch_name: "feature/stale",
      user: user(),
    }));
});
