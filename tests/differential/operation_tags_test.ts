/**
 * OperationService tag RPCs on both servers: UserCreateTag (lightweight and
 * annotated tag objects, byte-identical ids) and UserDeleteTag — results,
 * resulting refs, and refusals by GitLab's `/allowed` and custom hooks.
 *
 * @module
 */
import { differentialTest } from "./harness.ts";
import {
  compareGitlabRequests,
  compareOperation,
  configureOperationServers,
  denyAccess,
  installCustomHook,
  refOid,
  timestamp,
  user,
  withGlRepository,
} from "./operation_harness.ts";
import { assert } from "../helpers/assert.ts";

configureOperationServers();

differentialTest("UserCreateTag: lightweight and annotated tags", async (h) => {
  const repo = await h.repo("rich");
  const repository = withGlRepository(repo);
  const base = { repository, target_revision: "main", user: user(), timestamp };
  const cases: Record<string, unknown>[] = [
    { tag_name: "light" },
    { tag_name: "annotated", message: "Release\n\nWith a body.\n" },
    { tag_name: "no-newline", message: "no trailing newline" },
    { tag_name: "crlf", message: "line\r\n\n\n" },
    { tag_name: "blank-message", message: "  \n\t" }, // whitespace only: lightweight
    { tag_name: "of-a-tag", target_revision: "v1.0.0", message: "tags a tag" },
    { tag_name: "light-of-a-tag", target_revision: "v1.0.0" }, // peeled
    { tag_name: "of-a-blob", target_revision: "main:README.md" },
    { tag_name: "of-a-tree", target_revision: "main^{tree}", message: "a tree" },
    { tag_name: "ünicode/nested", message: "nested" },
    { tag_name: "utc", message: "x", user: user({ timezone: "" }) },
    { tag_name: "st-johns", message: "x", user: user({ timezone: "America/St_Johns" }) },
    { tag_name: "nanos", message: "x", timestamp: { seconds: 1_700_000_000, nanos: 999 } },
    { tag_name: "odd-ident", message: "x", user: user({ name: "a\nb<>", email: "a>b" }) },
    { tag_name: "empty-ident", message: "x", user: user({ name: "", email: "" }) },
    { tag_name: "spaced-ident", message: "x", user: user({ name: " spaced ", email: " e@x " }) },
  ];
  for (const request of cases) {
    await compareOperation(h, repo, "UserCreateTag", { ...base, ...request });
  }
  assert(await refOid(h, repo, "refs/tags/annotated"), "the annotated tag exists");
});

differentialTest("UserCreateTag: refusals", async (h) => {
  const repo = await h.repo("rich");
  const repository = withGlRepository(repo);
  const base = {
    repository,
    tag_name: "new-tag",
    target_revision: "main",
    user: user(),
    timestamp,
  };
  const refused = (request: Record<string, unknown>) =>
    compareOperation(h, repo, "UserCreateTag", { ...base, ...request }, { rejected: true });
  await refused({ tag_name: "v1.0.0" }); // exists
  await refused({ tag_name: "v1.0.0", message: "annotated, exists" });
  await refused({ tag_name: "a..b" });
  await refused({ tag_name: "-x" });
  await refused({ tag_name: "a b" });
  await refused({ tag_name: "v1.0.0/x" }); // file/directory conflict
  await refused({ tag_name: "" });
  await refused({ user: null });
  await refused({ target_revision: "" });
  await refused({ target_revision: "nope" });
  await refused({ message: "a\0b" });
  await refused({ user: user({ timezone: "Mars/Base" }) });
  await refused({ repository: { ...repository, relative_path: "missing.git" } });
  await refused({ tag_name: "", repository: { ...repository, relative_path: "missing.git" } });
  await refused({ repository: repo }); // no gl_repository
  await refused({ repository: null });
  await denyAccess("Denied tag", () => refused({}));
  await denyAccess("Denied tag", () => refused({ message: "annotated" }));
  for (const hook of ["pre-receive", "update"]) {
    const remove = await installCustomHook(h, repo, hook, 'echo "no tag" >&2; exit 1');
    await refused({});
    await refused({ message: "annotated" });
    await remove();
  }
});

differentialTest("UserDeleteTag: deletes tags", async (h) => {
  const repo = await h.repo("rich");
  const repository = withGlRepository(repo);
  const refs = await h.compareRefs(repo);
  await compareOperation(h, repo, "UserDeleteTag", {
    repository,
    tag_name: "v1.1.0",
    user: user(),
  });
  await compareOperation(h, repo, "UserDeleteTag", {
    repository,
    tag_name: "v2.0.0",
    expected_old_oid: refs["refs/tags/v2.0.0"],
    user: user(),
  });
});

differentialTest("UserDeleteTag: refusals", async (h) => {
  const repo = await h.repo("rich");
  const repository = withGlRepository(repo);
  const refs = await h.compareRefs(repo);
  const base = { repository, tag_name: "v1.1.0", user: user() };
  const refused = (request: Record<string, unknown>) =>
    compareOperation(h, repo, "UserDeleteTag", { ...base, ...request }, { rejected: true });
  await refused({ user: null });
  await refused({ tag_name: "" });
  await refused({ tag_name: "nope" });
  await refused({ expected_old_oid: "xyz" });
  await refused({ expected_old_oid: "1".repeat(40) });
  await refused({ expected_old_oid: refs["refs/heads/main"] });
  await refused({ repository: repo });
  await refused({ repository: { ...repository, relative_path: "missing.git" } });
  await refused({ repository: null });
  await denyAccess("Denied tag deletion", () => refused({}));
  // a custom hook's refusal is an answer (pre_receive_error), not an error
  const remove = await installCustomHook(h, repo, "pre-receive", 'echo "keep it" >&2; exit 1');
  await compareOperation(h, repo, "UserDeleteTag", base);
  await remove();
  await h.compareRefs(repo);
});

differentialTest(
  "UserCreateTag: hooks see the quarantined tag; the same API requests",
  async (h) => {
    const repo = await h.repo("rich");
    const repository = withGlRepository(repo);
    const request = {
      repository,
      tag_name: "seen",
      target_revision: "main",
      message: "Checked by hooks\n",
      user: user(),
      timestamp,
    };
    // the custom hook reads the new tag object from the quarantine
    const remove = await installCustomHook(
      h,
      repo,
      "pre-receive",
      'read old new ref; git cat-file -t "$new" >&2; git cat-file -p "$new" | head -3 >&2; exit 1',
    );
    await compareOperation(h, repo, "UserCreateTag", request, { rejected: true });
    await remove();
    await compareGitlabRequests(h, repo, "UserCreateTag", request);
  },
);
