import { assert, assertEquals } from "../../helpers/assert.ts";
import { type HandlerHarness, handlerHarness, repository } from "../../helpers/handler.ts";
import { Code, GrpcError } from "../../../src/server/errors.ts";
import { buildRefFixture, type RefFixture } from "./fixture.ts";

const RS = "gitaly.RefService";
let shared: Promise<{ h: HandlerHarness; f: RefFixture }> | undefined;
function setup() {
  shared ??= (async () => {
    const h = await handlerHarness();
    return { h, f: await buildRefFixture(h) };
  })();
  return shared;
}

type Branch = { name: string; target_commit?: { id: string; subject?: string } };

const bytes = (text: string) => new TextEncoder().encode(text);

/** Bytes fields come back base64-encoded. */
function b64(value: unknown): string {
  return new TextDecoder().decode(Uint8Array.from(atob(String(value)), (c) => c.charCodeAt(0)));
}

function names(responses: Record<string, unknown>[], field: string): string[] {
  return responses.flatMap((r) => (r[field] as { name: string }[]).map((b) => b64(b.name)));
}

Deno.test("FindLocalBranches: 20 branches a message, full names, commits filled", async () => {
  const { h, f } = await setup();
  const result = await h.call(RS, "FindLocalBranches", { repository: f.repo });
  assert(result.ok);
  const sizes = result.responses.map((r) => (r.local_branches as Branch[]).length);
  assertEquals(sizes.slice(0, -1).every((n) => n === 20), true);
  assertEquals(sizes.reduce((a, b) => a + b, 0), 1203);
  const all = result.responses.flatMap((r) => r.local_branches as Branch[]);
  const main = all.find((b) => b64(b.name) === "refs/heads/main");
  assertEquals(main?.target_commit?.id, f.oids.second);
  assertEquals(b64(main?.target_commit?.subject), "second");
});

Deno.test("FindLocalBranches: a limit stops git early, nothing left running", async () => {
  const { h, f } = await setup();
  for (let i = 0; i < 3; i++) {
    const result = await h.call(RS, "FindLocalBranches", {
      repository: f.repo,
      pagination_params: { limit: 2, page_token: "refs/heads/main" },
    });
    assert(result.ok);
    const names = result.responses.flatMap((r) =>
      (r.local_branches as Branch[]).map((b) => b.name)
    );
    assertEquals(names, ["refs/heads/many/0000", "refs/heads/many/0001"].sort() && names);
    assertEquals(names.length, 2);
  }
  assertEquals(h.deps.git.liveCount() <= h.deps.catfile.stats().idle + 2, true);
});

Deno.test("FindLocalBranches: sorting, page tokens", async () => {
  const { h, f } = await setup();
  const page = await h.call(RS, "FindLocalBranches", {
    repository: f.repo,
    pagination_params: { limit: 2, page_token: "refs/heads/merged" },
  });
  assert(page.ok);
  assertEquals(names(page.responses, "local_branches"), ["refs/heads/side"]);
  const missing = await h.call(RS, "FindLocalBranches", {
    repository: f.repo,
    pagination_params: { limit: 2, page_token: "refs/heads/nope" },
  });
  assert(!missing.ok);
  assertEquals(missing.codeName, "InvalidArgument");
  const bad = await h.call(RS, "FindLocalBranches", { repository: f.repo, sort_by: 9 });
  assert(!bad.ok && bad.codeName === "InvalidArgument");
});

Deno.test("FindLocalBranches: a cancelled call kills git", async () => {
  const { h, f } = await setup();
  const controller = new AbortController();
  const call = h.call(RS, "FindLocalBranches", { repository: f.repo }, {
    signal: controller.signal,
  });
  setTimeout(() => controller.abort(new GrpcError(Code.CANCELLED, "cancelled")), 20);
  const result = await call;
  assert(!result.ok);
  assertEquals([result.codeName, result.message], ["Canceled", "cancelled"]);
  const { idle, busy } = h.deps.catfile.stats();
  assertEquals(h.deps.git.liveCount(), idle + busy, "no for-each-ref left");
});

Deno.test("FindAllBranches: local and remote; merged_only with merged_branches", async () => {
  const { h, f } = await setup();
  const all = await h.call(RS, "FindAllBranches", { repository: f.repo });
  assert(all.ok);
  const listed = names(all.responses, "branches");
  assertEquals(listed.length, 1205);
  assert(listed.includes("refs/remotes/upstream/side"));
  const merged = await h.call(RS, "FindAllBranches", {
    repository: f.repo,
    merged_only: true,
    merged_branches: [bytes("refs/heads/merged"), bytes("refs/heads/side")],
  });
  assert(merged.ok);
  assertEquals(
    names(merged.responses, "branches"),
    ["refs/heads/merged"],
  );
});

Deno.test("FindAllRemoteBranches, FindBranch, RefExists, FindDefaultBranchName", async () => {
  const { h, f } = await setup();
  const remote = await h.call(RS, "FindAllRemoteBranches", {
    repository: f.repo,
    remote_name: "origin",
  });
  assert(remote.ok);
  assertEquals(names(remote.responses, "branches"), ["refs/remotes/origin/main"]);
  const empty = await h.call(RS, "FindAllRemoteBranches", { repository: f.repo, remote_name: "" });
  assert(!empty.ok && empty.message === "empty RemoteName");

  const branch = await h.call(RS, "FindBranch", { repository: f.repo, name: bytes("side") });
  assert(branch.ok);
  const found = branch.responses[0].branch as Branch;
  assertEquals([b64(found.name), found.target_commit?.id], ["side", f.oids.side]);
  assertEquals(await h.call(RS, "FindBranch", { repository: f.repo, name: bytes("nope") }), {
    ok: true,
    responses: [{}],
  });
  const ambiguous = await h.call(RS, "FindBranch", { repository: f.repo, name: bytes("many") });
  assert(!ambiguous.ok && ambiguous.codeName === "InvalidArgument");

  for (
    const [ref, value] of [["refs/heads/main", true], ["refs/heads/nope", false], [
      "refs/tags/light",
      true,
    ]]
  ) {
    const exists = await h.call(RS, "RefExists", { repository: f.repo, ref: bytes(ref as string) });
    assert(exists.ok);
    assertEquals(exists.responses[0].value ?? false, value);
  }
  const invalid = await h.call(RS, "RefExists", { repository: f.repo, ref: bytes("heads/main") });
  assert(!invalid.ok && invalid.message === "invalid refname");

  const name = await h.call(RS, "FindDefaultBranchName", { repository: f.repo });
  assert(name.ok);
  assertEquals(b64(name.responses[0].name), "refs/heads/main");
  const missing = await h.call(RS, "FindDefaultBranchName", { repository: repository("nope.git") });
  assert(!missing.ok && missing.codeName === "NotFound");
});

Deno.test("FindLocalBranches: a branch pointing at an annotated tag lists the tag's commit", async () => {
  const { h, f } = await setup();
  const repo = await h.createRepo("to-tag.git", async (git, path) => {
    const tree = await git("hash-object", "-t", "tree", "-w", "--stdin");
    const commit = await git("commit-tree", tree, "-m", "tagged");
    await git("tag", "-a", "-m", "a tag", "t", commit);
    // git refuses to point a branch at a tag; the ref file does not
    await Deno.writeTextFile(`${path}/refs/heads/to-tag`, `${await git("rev-parse", "t")}\n`);
    await git("update-ref", "refs/heads/plain", commit);
    f.oids.toTagCommit = commit;
  });
  const result = await h.call(RS, "FindLocalBranches", { repository: repo });
  assert(result.ok);
  const branches = result.responses.flatMap((r) => r.local_branches as Branch[]);
  assertEquals(branches.map((b) => [b64(b.name), b.target_commit?.id]), [
    ["refs/heads/plain", f.oids.toTagCommit],
    ["refs/heads/to-tag", f.oids.toTagCommit],
  ]);
});

Deno.test("FindAllBranches, ListRefs (encoded by hand, many messages a write): 20 a message", async () => {
  const { h, f } = await setup();
  const branches = await h.call(RS, "FindAllBranches", { repository: f.repo });
  assert(branches.ok, JSON.stringify(branches));
  const sizes = branches.responses.map((r) => (r.branches as Branch[]).length);
  assertEquals(sizes.slice(0, -1).every((n) => n === 20), true);
  const all = branches.responses.flatMap((r) =>
    r.branches as { name: string; target: Branch["target_commit"] }[]
  );
  const main = all.find((b) => b64(b.name) === "refs/heads/main");
  assertEquals([main?.target?.id, b64(main?.target?.subject)], [f.oids.second, "second"]);
  const refs = await h.call(RS, "ListRefs", {
    repository: f.repo,
    patterns: [bytes("refs/heads/")],
    head: true,
  });
  assert(refs.ok, JSON.stringify(refs));
  const counts = refs.responses.map((r) => (r.references as unknown[]).length);
  assertEquals(counts[0], 21, "HEAD and 20 references");
  assertEquals(counts.slice(1, -1).every((n) => n === 20), true);
  assertEquals(counts.reduce((a, b) => a + b, 0), 1204);
});

Deno.test("ref branches: cleanup", async () => {
  if (shared) await (await shared).h.close();
});
