import { configureServers, differentialTest, type Harness, type RepoRef, SIDES } from "./harness.ts";
import { fixtureGit } from "./fixtures.ts";
import { startGitlabDouble, type GitlabDouble } from "../helpers/gitlab_double.ts";

let gitlab: GitlabDouble;
configureServers(async () => {
  gitlab = await startGitlabDouble();
  return {
    ours: { extraToml: gitlab.toml() },
    referenceEnv: { REF_GITLAB_URL: gitlab.url, REF_GITLAB_SECRET_FILE: gitlab.secretFile },
    cleanup: () => gitlab.close(),
  };
});

const E = 1_700_000_000;
function stream(): string {
  let t = 0;
  const lines: string[] = [];
  const blob = (mark: number, s: string) => lines.push(`blob\nmark :${mark}\ndata ${s.length}\n${s}`);
  const commit = (ref: string, mark: number, msg: string, parents: number[], files: string[]) => {
    const when = `${E + 60 * ++t} +0100`;
    lines.push(`commit ${ref}\nmark :${mark}\nauthor Ada Author <ada@example.com> ${when}\ncommitter Carl Committer <carl@example.com> ${when}\ndata ${msg.length}\n${msg}`);
    parents.forEach((p, i) => lines.push(`${i === 0 ? "from" : "merge"} :${p}`));
    lines.push(...files, "");
  };
  blob(1, "a\n"); blob(2, "b\n"); blob(3, "a2\n"); blob(4, "b2\n"); blob(5, "c\n"); blob(6, "ax\n"); blob(7, "d\n");
  commit("refs/heads/main", 10, "c1\n", [], ["M 100644 :1 a.txt", "M 100644 :2 b.txt"]);
  commit("refs/heads/main", 11, "c2\n", [10], ["M 100644 :3 a.txt"]);
  commit("refs/heads/feature", 12, "f1\n", [10], ["M 100644 :4 b.txt"]);
  commit("refs/heads/feature", 13, "f2\n\nbody\n", [12], ["M 100644 :5 c.txt"]);
  commit("refs/heads/conflict", 14, "x1\n", [10], ["M 100644 :6 a.txt"]);
  commit("refs/heads/merged", 15, "merge\n", [11, 13], ["M 100644 :4 b.txt", "M 100644 :5 c.txt"]);
  commit("refs/heads/orphan", 16, "root2\n", [], ["M 100644 :7 d.txt"]);
  return lines.join("\n") + "\ndone\n";
}

async function pickRepo(h: Harness): Promise<RepoRef> {
  const repo = await h.repo("empty");
  for (const side of SIDES) {
    await fixtureGit(h.gitDir(side, repo), ["fast-import", "--quiet", "--done"], { stdin: stream() });
  }
  return repo;
}
const user = { gl_id: "user-1", name: "Jane Doe", email: "jane@example.com", gl_username: "jane", timezone: "Europe/Berlin" };
const timestamp = { seconds: 1_700_100_000 };

differentialTest("probe", async (h) => {
  const repo = await pickRepo(h);
  const ref = async (r: string) => (await h.git("reference", repo, ["rev-parse", r])).trim();
  const f2 = await ref("feature"); const f1 = await ref("feature^"); const m = await ref("merged"); const c2 = await ref("main"); const c1 = await ref("main^"); const x1 = await ref("conflict"); const r2 = await ref("orphan");
  const show = async (name: string, service: any, method: any, req: any) => {
    const r = await h.callSide("reference", service, method, req);
    console.log(name, JSON.stringify(r));
  };
  const base = { repository: { ...repo, gl_repository: "project-1" }, user, timestamp };
  const P = "gitaly.OperationService";
  await show("cp ok", P, "UserCherryPick", { ...base, commit: { id: f1 }, branch_name: "main", message: "cherry f1" });
  console.log(await h.git("reference", repo, ["cat-file", "-p", "main"]));
  await show("cp already", P, "UserCherryPick", { ...base, commit: { id: f1 }, branch_name: "main", message: "cherry f1" });
  await show("cp conflict", P, "UserCherryPick", { ...base, commit: { id: x1 }, branch_name: "main", message: "m" });
  await show("cp missing", P, "UserCherryPick", { ...base, commit: { id: "1".repeat(40) }, branch_name: "main", message: "m" });
  await show("cp merge", P, "UserCherryPick", { ...base, commit: { id: m, parent_ids: [c2, f2] }, branch_name: "conflict", message: "m" });
  await show("cp merge noparents", P, "UserCherryPick", { ...base, commit: { id: m }, branch_name: "orphan", message: "m" });
  await show("cp newbranch", P, "UserCherryPick", { ...base, commit: { id: f2 }, branch_name: "nb", start_branch_name: "conflict", message: "m" });
  await show("cp diverged", P, "UserCherryPick", { ...base, commit: { id: f2 }, branch_name: "main", start_branch_name: "conflict", message: "m" });
  await show("cp dry", P, "UserCherryPick", { ...base, commit: { id: f2 }, branch_name: "conflict", dry_run: true, message: "m" });
  await show("cp nostart", P, "UserCherryPick", { ...base, commit: { id: f2 }, branch_name: "conflict", start_branch_name: "nope", message: "m" });
  await show("cp nobranch", P, "UserCherryPick", { ...base, commit: { id: f2 }, branch_name: "nope", message: "m" });
  await show("cp empty user", P, "UserCherryPick", { ...base, user: null, commit: { id: f2 }, branch_name: "nope", message: "m" });
  await show("cp empty commit", P, "UserCherryPick", { ...base, branch_name: "nope", message: "m" });
  await show("cp empty branch", P, "UserCherryPick", { ...base, commit: { id: f2 }, message: "m" });
  await show("cp empty msg", P, "UserCherryPick", { ...base, commit: { id: f2 }, branch_name: "x" });
  await show("cp expected bad", P, "UserCherryPick", { ...base, commit: { id: f2 }, branch_name: "conflict", message: "m", expected_old_oid: "xyz" });
  await show("cp expected missing", P, "UserCherryPick", { ...base, commit: { id: f2 }, branch_name: "conflict", message: "m", expected_old_oid: "2".repeat(40) });
  await show("cp expected old", P, "UserCherryPick", { ...base, commit: { id: f2 }, branch_name: "conflict", message: "m", expected_old_oid: c1 });
  await show("cp root", P, "UserCherryPick", { ...base, commit: { id: r2 }, branch_name: "conflict", message: "m" });
  await show("cp badtz", P, "UserCherryPick", { ...base, user: { ...user, timezone: "Mars/X" }, commit: { id: f2 }, branch_name: "conflict", message: "m" });
  gitlab.behaviour.allowed = { allow: false, message: "nope, denied" };
  await show("cp denied", P, "UserCherryPick", { ...base, commit: { id: f2 }, branch_name: "conflict", message: "m" });
  await show("rv denied", P, "UserRevert", { ...base, commit: { id: c2 }, branch_name: "main", message: "m" });
  await show("rb denied", P, "UserRebaseConfirmable", [{ header: { repository: base.repository, user, timestamp, branch: "feature", branch_sha: f2, remote_repository: base.repository, remote_branch: "main", rebase_id: "1" } }, { apply: true }]);
  gitlab.behaviour.allowed = { allow: true };
  await show("rv ok", P, "UserRevert", { ...base, commit: { id: c2 }, branch_name: "main", message: "revert c2" });
  console.log(await h.git("reference", repo, ["cat-file", "-p", "main"]));
  await show("rv empty", P, "UserRevert", { ...base, commit: { id: c2 }, branch_name: "main", message: "revert c2" });
  await show("rv conflict", P, "UserRevert", { ...base, commit: { id: c2 }, branch_name: "conflict", message: "m" });
  await show("rv missing", P, "UserRevert", { ...base, commit: { id: "1".repeat(40) }, branch_name: "conflict", message: "m" });
  await show("rv root", P, "UserRevert", { ...base, commit: { id: r2 }, branch_name: "orphan", message: "m" });
  await show("rv diverged", P, "UserRevert", { ...base, commit: { id: f2 }, branch_name: "main", start_branch_name: "feature", message: "m" });
  await show("rv nostart", P, "UserRevert", { ...base, commit: { id: f2 }, branch_name: "x", start_branch_name: "nope", message: "m" });
  await show("rv merge", P, "UserRevert", { ...base, commit: { id: m, parent_ids: [c2, f2] }, branch_name: "merged", message: "m" });
  await show("sq ok", P, "UserSquash", { ...base, start_sha: c1, end_sha: f2, author: { ...user, name: "Auth Or", email: "a@b.c", timezone: "Asia/Tokyo" }, commit_message: "squash" });
  await show("sq conflict", P, "UserSquash", { ...base, start_sha: c2, end_sha: x1, author: user, commit_message: "squash" });
  await show("sq badstart", P, "UserSquash", { ...base, start_sha: "nope", end_sha: x1, author: user, commit_message: "squash" });
  await show("sq badend", P, "UserSquash", { ...base, start_sha: c1, end_sha: "nope", author: user, commit_message: "squash" });
  await show("sq unrelated", P, "UserSquash", { ...base, start_sha: c1, end_sha: r2, author: user, commit_message: "squash\n" });
  await show("sq noauthor", P, "UserSquash", { ...base, start_sha: c1, end_sha: r2, commit_message: "squash\n" });
  await show("sq badtz", P, "UserSquash", { ...base, start_sha: c1, end_sha: f2, author: { ...user, timezone: "Mars/X" }, commit_message: "squash" });
  const hdr = { repository: base.repository, user, timestamp, branch: "feature", branch_sha: f2, remote_repository: base.repository, remote_branch: "main", rebase_id: "1", git_push_options: ["ci.skip"] };
  await show("rb noapply", P, "UserRebaseConfirmable", [{ header: hdr }, { apply: false }]);
  await show("rb halfclose", P, "UserRebaseConfirmable", [{ header: hdr }]);
  await show("rb ok", P, "UserRebaseConfirmable", [{ header: hdr }, { apply: true }]);
  console.log(await h.git("reference", repo, ["log", "--format=raw", "main..feature"]));
  await show("rb conflict", P, "UserRebaseConfirmable", [{ header: { ...hdr, branch: "conflict", branch_sha: x1 } }, { apply: true }]);
  await show("rb stale sha", P, "UserRebaseConfirmable", [{ header: { ...hdr, branch: "conflict", branch_sha: c1 } }, { apply: true }]);
  await show("rb bad sha", P, "UserRebaseConfirmable", [{ header: { ...hdr, branch_sha: "xyz" } }, { apply: true }]);
  await show("rb missing remote", P, "UserRebaseConfirmable", [{ header: { ...hdr, remote_branch: "nope" } }, { apply: true }]);
  await show("rb bad remote", P, "UserRebaseConfirmable", [{ header: { ...hdr, remote_branch: "-x" } }, { apply: true }]);
  await show("rb noheader", P, "UserRebaseConfirmable", [{ apply: true }]);
  await show("rb ff", P, "UserRebaseConfirmable", [{ header: { ...hdr, branch: "conflict", branch_sha: c1 } }, { apply: true }]);
  console.log(JSON.stringify(gitlab.requests.map((r) => [r.endpoint, r.body])).slice(-3000));
});
