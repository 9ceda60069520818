/**
 * OperationService branch RPCs on both servers: UserCreateBranch,
 * UserUpdateBranch, UserDeleteBranch — results, resulting refs, and
 * refusals by GitLab's `/allowed` and by custom hooks.
 *
 * @module
 */
import { differentialTest } from "./harness.ts";
import {
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
