/**
 * OperationService's merges, ours against the reference Gitaly: UserMergeBranch
 * (both phases, interactively as GitLab drives it), UserMergeToRef,
 * UserFFBranch and UserRebaseToRef on fresh copies of the `merges`
 * fixture, both servers pointed at the same GitLab API double. Compared:
 * commit ids, codes, messages, error details, the refs left and the
 * objects written (none after a refusal).
 *
 * @module
 */
import { join } from "node:path";
import type * as grpc from "@grpc/grpc-js";
import { dial } from "../../src/client/mod.ts";
import { methodCodec } from "../../src/client/services.ts";
import { bidiStreamCall } from "../../src/client/stream_calls.ts";
import { type protobuf, root, serviceInfo } from "../../src/proto/mod.ts";
import { decodeStatusDetails } from "../../src/server/errors.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import {
  assertSame,
  differentialTest,
  type Harness,
  jsonable,
  type RepoRef,
  type Side,
  SIDES,
} from "./harness.ts";
import { MERGES } from "./merge_fixture.ts";
import {
  compareBetterCode,
  configureOperationServers,
  denyAccess,
  gitlab,
  installCustomHook,
  timestamp,
  user,
  withGlRepository,
} from "./operation_harness.ts";

const OS = "gitaly.OperationService";
const MISSING = "1".repeat(40);
const USER = user();

configureOperationServers();

/** A fresh copy of the `merges` fixture, as requests name it (with its GitLab project). */
async function mergesRepo(h: Harness): Promise<RepoRef> {
  return withGlRepository(await h.repo("merges"));
}

/** The object `revision` names on both sides (asserted equal). */
async function revParse(h: Harness, repo: RepoRef, revision: string): Promise<string> {
  const [ours, reference] = await Promise.all(
    SIDES.map((side) => h.git(side, repo, ["rev-parse", "--verify", revision])),
  );
  assertEquals(ours, reference, `${revision} on both sides`);
  return ours;
}

/** Asserts that `oid` is an object of neither side (a refused operation wrote nothing). */
async function assertNoObject(h: Harness, repo: RepoRef, oid: string): Promise<void> {
  for (const side of SIDES) {
    const present = await h.git(side, repo, ["cat-file", "-e", oid]).then(() => true, () => false);
    assert(!present, `${side}: ${oid} should not be in the repository`);
  }
}

/** Each side's loose and packed object counts (`git count-objects -v`). */
async function objectCounts(h: Harness, repo: RepoRef): Promise<string[]> {
  return await Promise.all(SIDES.map(async (side) => {
    const out = await h.git(side, repo, ["count-objects", "-v"]);
    return out.split("\n").filter((line) => /^(count|in-pack):/.test(line)).join(", ");
  }));
}

/** Asserts that the commit `oid` is byte-identical on both sides; returns it. */
async function sameCommit(h: Harness, repo: RepoRef, oid: string): Promise<string> {
  const [ours, reference] = await Promise.all(
    SIDES.map((side) => h.git(side, repo, ["cat-file", "commit", oid])),
  );
  assertEquals(ours, reference, `commit ${oid}`);
  return ours;
}

// --- UserMergeBranch: two phases on one stream ---------------------------------------------

/** What one side answered to an interactive UserMergeBranch. */
interface TwoPhase {
  /** The first response (the merge commit's id), if one came. */
  first: unknown;
  /** Then: the second response, or the error. */
  outcome: { ok: true; response: unknown } | {
    ok: false;
    code: number;
    message: string;
    details: unknown;
  };
}

/**
 * Runs UserMergeBranch on `side` as GitLab does: sends `first`, waits for
 * the merge commit's id, then sends `second` (or, when null, half-closes;
 * when `"cancel"`, cancels the call).
 */
async function mergeInteractively(
  h: Harness,
  side: Side,
  first: Record<string, unknown>,
  second: Record<string, unknown> | null | "cancel",
  between?: () => Promise<void>,
): Promise<TwoPhase> {
  const info = serviceInfo(OS).methods.find((m) => m.name === "UserMergeBranch")!;
  const conn = dial(h.addresses[side]);
  const result: TwoPhase = { first: undefined, outcome: { ok: true, response: undefined } };
  const controller = new AbortController();
  try {
    const call = bidiStreamCall(conn, methodCodec(info), {
      timeoutMs: 60_000,
      signal: controller.signal,
    });
    const responses = call[Symbol.asyncIterator]();
    await call.write(encodeBytes(first) as never);
    const firstResponse = await responses.next();
    if (!firstResponse.done) {
      result.first = decoded(firstResponse.value);
      await between?.();
      if (second === "cancel") controller.abort();
      else if (second) await call.write(encodeBytes(second) as never);
      call.end();
      const next = await responses.next();
      result.outcome = { ok: true, response: next.done ? undefined : decoded(next.value) };
    }
  } catch (error) {
    const failure = error as grpc.ServiceError;
    const bin = failure.metadata?.get("grpc-status-details-bin")[0];
    result.outcome = {
      ok: false,
      code: failure.code,
      message: failure.details,
      details: bin instanceof Uint8Array ? withoutDefaults(decodeStatusDetails(bin).details) : [],
    };
  } finally {
    conn.close();
  }
  return result;
}

/**
 * Decoded details as JSON with default values (empty bytes, 0, "") left
 * out: proto3 does not tell an empty field from an unset one.
 */
function withoutDefaults(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDefaults);
  if (typeof value !== "object" || value === null) return value;
  const entries = Object.entries(value)
    .filter(([, v]) => !(v === "" || v === 0 || v === false || (Array.isArray(v) && !v.length)))
    .map(([k, v]) => [k, withoutDefaults(v)]);
  return Object.fromEntries(entries);
}

/** A UserMergeBranchResponse as plain JSON, every field (defaults too). */
function decoded(response: unknown): unknown {
  const type = root.lookupType("gitaly.UserMergeBranchResponse");
  return jsonable(type.toObject(response as protobuf.Message, { defaults: true }));
}

/** `request` with the string values of bytes fields (user, branch, message) UTF-8 encoded. */
function encodeBytes(request: Record<string, unknown>): Record<string, unknown> {
  const encoder = new TextEncoder();
  const out: Record<string, unknown> = { ...request };
  for (const key of ["branch", "message"]) {
    if (typeof out[key] === "string") out[key] = encoder.encode(out[key] as string);
  }
  if (out.user && typeof out.user === "object") {
    const user = { ...out.user as Record<string, unknown> };
    for (const key of ["name", "email"]) {
      if (typeof user[key] === "string") user[key] = encoder.encode(user[key] as string);
    }
    out.user = user;
  }
  return out;
}

/** Both sides' interactive UserMergeBranch, asserted equal; returns the reference's. */
async function compareMerge(
  h: Harness,
  first: Record<string, unknown>,
  second: Record<string, unknown> | null,
): Promise<TwoPhase> {
  const [ours, reference] = await Promise.all(
    SIDES.map((side) => mergeInteractively(h, side, first, second)),
  );
  assertSame(ours, reference, "UserMergeBranch");
  return reference;
}

function mergeRequest(repo: RepoRef, extra: Record<string, unknown> = {}) {
  return {
    repository: repo,
    user: USER,
    commit_id: "",
    branch: MERGES.main,
    message: "Merge feature into main",
    timestamp: timestamp,
    ...extra,
  };
}

differentialTest("UserMergeBranch: merges and applies through the hooks", async (h) => {
  const repo = await mergesRepo(h);
  const feature = await revParse(h, repo, MERGES.feature);
  const before = await revParse(h, repo, MERGES.main);
  gitlab().requests.length = 0;
  const result = await compareMerge(h, mergeRequest(repo, { commit_id: feature }), {
    apply: true,
  });
  const mergeOid = (result.first as { commit_id: string }).commit_id;
  assert(result.outcome.ok, "applied");
  const refs = await h.compareRefs(repo);
  assertEquals(refs["refs/heads/main"], mergeOid);
  const commit = await sameCommit(h, repo, mergeOid);
  assert(commit.includes(`parent ${before}\nparent ${feature}\n`), commit);
  assert(gitlab().seen("/allowed").length === 2, "both servers asked GitLab");
});

differentialTest("UserMergeBranch: not applied leaves the branch and no objects", async (h) => {
  const repo = await mergesRepo(h);
  const feature = await revParse(h, repo, MERGES.feature);
  const before = await h.compareRefs(repo);
  for (const second of [{ apply: false }, {}]) {
    const result = await compareMerge(h, mergeRequest(repo, { commit_id: feature }), second);
    assertEquals(result.outcome, {
      ok: false,
      code: 9,
      message: "merge aborted by client",
      details: [],
    });
    assertEquals(await h.compareRefs(repo), before);
    await assertNoObject(h, repo, (result.first as { commit_id: string }).commit_id);
  }
});

differentialTest("UserMergeBranch: a stream closed after the first phase", async (h) => {
  const repo = await mergesRepo(h);
  const feature = await revParse(h, repo, MERGES.feature);
  const before = await h.compareRefs(repo);
  const [ours, reference] = await Promise.all(
    SIDES.map((side) =>
      mergeInteractively(h, side, mergeRequest(repo, { commit_id: feature }), null)
    ),
  );
  assertEquals(ours.first, reference.first);
  // Gitaly says Internal "EOF"; ending the stream without applying is an abort.
  assertEquals(reference.outcome, { ok: false, code: 13, message: "EOF", details: [] });
  assertEquals(ours.outcome, {
    ok: false,
    code: 9,
    message: "merge aborted by client",
    details: [],
  });
  assertEquals(await h.compareRefs(repo), before);
});

differentialTest("UserMergeBranch: a call cancelled between the phases", async (h) => {
  const repo = await mergesRepo(h);
  const feature = await revParse(h, repo, MERGES.feature);
  const before = await h.compareRefs(repo);
  const results = await Promise.all(
    SIDES.map((side) =>
      mergeInteractively(h, side, mergeRequest(repo, { commit_id: feature }), "cancel")
    ),
  );
  assertEquals(results[0].first, results[1].first);
  for (const result of results) assert(!result.outcome.ok, JSON.stringify(result.outcome));
  assertEquals(await h.compareRefs(repo), before);
  // Our quarantine is gone once the call has ended.
  const tmp = join(h.storagePaths.ours, "+gitaly", "tmp");
  for (let attempt = 0;; attempt++) {
    const left = [];
    for await (const entry of Deno.readDir(tmp)) {
      if (entry.name.startsWith("quarantine-")) left.push(entry.name);
    }
    if (left.length === 0) break;
    assert(attempt < 50, `quarantines left behind: ${left.join(", ")}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await assertNoObject(h, repo, (results[1].first as { commit_id: string }).commit_id);
});

differentialTest("UserMergeBranch: the branch moves between the phases", async (h) => {
  const repo = await mergesRepo(h);
  const feature = await revParse(h, repo, MERGES.feature);
  const behind = await revParse(h, repo, MERGES.behind);
  const results = await Promise.all(
    SIDES.map((side) =>
      mergeInteractively(
        h,
        side,
        mergeRequest(repo, { commit_id: feature }),
        { apply: true },
        () => h.git(side, repo, ["update-ref", "refs/heads/main", behind]).then(() => {}),
      )
    ),
  );
  assertSame(results[0], results[1], "UserMergeBranch with a concurrent update");
  assert(!results[1].outcome.ok && results[1].outcome.code === 9, JSON.stringify(results[1]));
  assertEquals((await h.compareRefs(repo))["refs/heads/main"], behind);
});

differentialTest("UserMergeBranch: conflicts, with the conflicting files", async (h) => {
  const repo = await mergesRepo(h);
  const conflict = await revParse(h, repo, MERGES.conflict);
  const before = await h.compareRefs(repo);
  const result = await compareMerge(h, mergeRequest(repo, { commit_id: conflict }), {
    apply: true,
  });
  assert(!result.outcome.ok && result.outcome.code === 9, JSON.stringify(result.outcome));
  assertEquals(await h.compareRefs(repo), before);
});

differentialTest("UserMergeBranch: unrelated, merged already, itself, by name", async (h) => {
  const repo = await mergesRepo(h);
  const main = await revParse(h, repo, MERGES.main);
  for (const commitId of [MERGES.unrelated, MERGES.behind, main, MERGES.feature]) {
    const result = await compareMerge(h, mergeRequest(repo, { commit_id: commitId }), {
      apply: true,
    });
    if (result.outcome.ok) {
      await sameCommit(h, repo, (result.first as { commit_id: string }).commit_id);
    }
    await h.compareRefs(repo);
  }
});

differentialTest("UserMergeBranch: names that look like the branch", async (h) => {
  const repo = await mergesRepo(h);
  const feature = await revParse(h, repo, MERGES.feature);
  const unrelated = await revParse(h, repo, MERGES.unrelated);
  // Only refs/heads/main is the branch: none of these may be merged into or moved.
  const lookalikes = ["main", "heads/main", "refs/heads/refs/heads/main", "refs/tags/main"];
  for (const side of SIDES) {
    for (const ref of lookalikes) await h.git(side, repo, ["update-ref", ref, unrelated]);
  }
  const result = await compareMerge(h, mergeRequest(repo, { commit_id: feature }), {
    apply: true,
  });
  assert(result.outcome.ok, JSON.stringify(result.outcome));
  const refs = await h.compareRefs(repo);
  for (const ref of lookalikes.filter((name) => name.startsWith("refs/"))) {
    assertEquals(refs[ref], unrelated, ref);
  }
});

differentialTest("UserMergeBranch: expected_old_oid", async (h) => {
  const repo = await mergesRepo(h);
  const feature = await revParse(h, repo, MERGES.feature);
  const main = await revParse(h, repo, MERGES.main);
  const behind = await revParse(h, repo, MERGES.behind);
  for (const expected of ["zzz", main.slice(0, 8), MISSING, behind, main]) {
    await compareMerge(h, mergeRequest(repo, { commit_id: feature, expected_old_oid: expected }), {
      apply: true,
    });
    await h.compareRefs(repo);
  }
});

differentialTest("UserMergeBranch: invalid requests", async (h) => {
  const repo = await mergesRepo(h);
  const feature = await revParse(h, repo, MERGES.feature);
  const cases: Record<string, unknown>[] = [
    { repository: null },
    { repository: { storage_name: "default", relative_path: "differential/missing.git" } },
    { user: null },
    { user: { ...USER, email: "" } },
    { user: { ...USER, name: "" } },
    { branch: "" },
    { commit_id: "" },
    { message: "" },
    { branch: "no-such-branch" },
    { branch: "bad..name" },
    { branch: "-dash" },
    { user: { ...USER, timezone: "Mars/Olympus_Mons" } },
  ];
  for (const extra of cases) {
    await compareMerge(h, mergeRequest(repo, { commit_id: feature, ...extra }), { apply: true });
  }
  await h.compareRefs(repo);
});

differentialTest("UserMergeBranch: a commit that is not there, or not a commit", async (h) => {
  const repo = await mergesRepo(h);
  const cases = [
    [MISSING, "commit not found"],
    ["no-such-commit", "commit not found"],
    ["v1", "not a commit"],
  ];
  for (const [commitId, problem] of cases) {
    const [ours, reference] = await Promise.all(
      SIDES.map((side) =>
        mergeInteractively(h, side, mergeRequest(repo, { commit_id: commitId }), { apply: true })
      ),
    );
    // Gitaly lets git fail and answers Internal without a message.
    assertEquals(reference.outcome, { ok: false, code: 13, message: "", details: [] });
    assertEquals(ours.outcome, {
      ok: false,
      code: 3,
      message: `merging commits: ${problem}: "${commitId}"`,
      details: [],
    });
  }
  await h.compareRefs(repo);
});

differentialTest("UserMergeBranch: GitLab and custom hooks refuse", async (h) => {
  const repo = await mergesRepo(h);
  const feature = await revParse(h, repo, MERGES.feature);
  const before = await h.compareRefs(repo);
  const denied = await denyAccess(
    "You are not allowed to merge here.",
    () => compareMerge(h, mergeRequest(repo, { commit_id: feature }), { apply: true }),
  );
  assert(!denied.outcome.ok && denied.outcome.code === 7, JSON.stringify(denied.outcome));
  assertEquals(await h.compareRefs(repo), before);
  await installCustomHook(h, repo, "pre-receive", 'echo "merges are frozen" >&2\nexit 1');
  const refused = await compareMerge(h, mergeRequest(repo, { commit_id: feature }), {
    apply: true,
  });
  assert(!refused.outcome.ok && refused.outcome.code === 7, JSON.stringify(refused.outcome));
  assertEquals(await h.compareRefs(repo), before);
  await assertNoObject(h, repo, (refused.first as { commit_id: string }).commit_id);
});

differentialTest(
  "UserMergeBranch: update hook refuses, post-receive failure is ignored",
  async (h) => {
    const repo = await mergesRepo(h);
    const feature = await revParse(h, repo, MERGES.feature);
    const before = await h.compareRefs(repo);
    await installCustomHook(h, repo, "update", "echo stdout && echo stderr >&2\nexit 1");
    const refused = await compareMerge(h, mergeRequest(repo, { commit_id: feature }), {
      apply: true,
    });
    assert(!refused.outcome.ok && refused.outcome.code === 7, JSON.stringify(refused.outcome));
    assertEquals(await h.compareRefs(repo), before);
    for (const side of SIDES) {
      await Deno.remove(join(h.gitDir(side, repo), "custom_hooks", "update"));
    }
    await installCustomHook(h, repo, "post-receive", "echo stdout && echo stderr >&2\nexit 1");
    const applied = await compareMerge(h, mergeRequest(repo, { commit_id: feature }), {
      apply: true,
    });
    assert(applied.outcome.ok, JSON.stringify(applied.outcome));
    await h.compareRefs(repo);
  },
);

// --- UserMergeToRef --------------------------------------------------------------------------

function mergeToRefRequest(repo: RepoRef, extra: Record<string, unknown> = {}) {
  return {
    repository: repo,
    user: USER,
    source_sha: "",
    branch: MERGES.main,
    target_ref: "refs/merge-requests/1/merge",
    message: "Merge into refs/merge-requests/1/merge",
    timestamp: timestamp,
    ...extra,
  };
}

differentialTest("UserMergeToRef: merges into the target ref", async (h) => {
  const repo = await mergesRepo(h);
  const feature = await revParse(h, repo, MERGES.feature);
  const conflict = await revParse(h, repo, MERGES.conflict);
  const requests = [
    mergeToRefRequest(repo, { source_sha: feature }),
    // Again: the target exists now, and is overwritten.
    mergeToRefRequest(repo, { source_sha: feature, message: "again" }),
    mergeToRefRequest(repo, {
      source_sha: feature,
      first_parent_ref: `refs/heads/${MERGES.behind}`,
    }),
    mergeToRefRequest(repo, {
      source_sha: MERGES.unrelated,
      target_ref: "refs/merge-requests/2/merge",
    }),
    mergeToRefRequest(repo, {
      source_sha: "v1",
      target_ref: "refs/merge-requests/3/merge",
      message: "",
    }),
  ];
  for (const request of requests) {
    const { reference } = await h.compare(OS, "UserMergeToRef", request);
    if (reference.ok) {
      await sameCommit(h, repo, (reference.responses as { commit_id: string }).commit_id);
    }
    await h.compareRefs(repo);
  }
  // allow_conflicts is deprecated: conflicts fail regardless. Ours writes nothing then (Gitaly,
  // without a quarantine here, leaves merge-tree's objects behind).
  const [objects] = await objectCounts(h, repo);
  for (const allow_conflicts of [true, false]) {
    await h.compare(
      OS,
      "UserMergeToRef",
      mergeToRefRequest(repo, { source_sha: conflict, allow_conflicts }),
    );
  }
  assertEquals((await objectCounts(h, repo))[0], objects, "a conflict writes no objects");
  await h.compareRefs(repo);
});

differentialTest("UserMergeToRef: names, emails and dates as git 2.42 writes them", async (h) => {
  const repo = await mergesRepo(h);
  const feature = await revParse(h, repo, MERGES.feature);
  const users = [
    user({ name: "Jane Doe Jr.", email: ".jane@example.com." }),
    user({ name: " ;Jane, Doe.; ", email: " <jane@example.com> " }),
    user({ name: "J<a>n\ne", timezone: "America/St_Johns" }),
    user({ name: "..." }),
    user({ name: "," }),
    user({ name: "<>" }),
  ];
  // A message that is not UTF-8: git rewrites it as if it were Latin-1.
  const latin1 = mergeToRefRequest(repo, {
    source_sha: feature,
    message: new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x0a]),
    target_ref: "refs/merge-requests/latin1/merge",
  });
  const { reference: merged } = await h.compare(OS, "UserMergeToRef", latin1);
  assert(merged.ok, JSON.stringify(merged));
  await sameCommit(h, repo, (merged.responses as { commit_id: string }).commit_id);
  for (const [i, who] of users.entries()) {
    for (const seconds of [12, 1_700_000_000]) {
      const { reference } = await h.compare(
        OS,
        "UserMergeToRef",
        mergeToRefRequest(repo, {
          source_sha: feature,
          user: who,
          timestamp: { seconds },
          target_ref: `refs/merge-requests/${i}/${seconds}`,
        }),
      );
      if (reference.ok) {
        await sameCommit(h, repo, (reference.responses as { commit_id: string }).commit_id);
      }
    }
  }
  await h.compareRefs(repo);
});

differentialTest("UserMergeToRef: expected_old_oid and the target's current value", async (h) => {
  const repo = await mergesRepo(h);
  const feature = await revParse(h, repo, MERGES.feature);
  const main = await revParse(h, repo, MERGES.main);
  const target = "refs/merge-requests/4/merge";
  const requests = [
    mergeToRefRequest(repo, { source_sha: feature, target_ref: target, expected_old_oid: "abc" }),
    mergeToRefRequest(repo, { source_sha: feature, target_ref: target, expected_old_oid: MISSING }),
    // The target does not exist: any expected value is stale.
    mergeToRefRequest(repo, { source_sha: feature, target_ref: target, expected_old_oid: main }),
    mergeToRefRequest(repo, { source_sha: feature, target_ref: target }),
    mergeToRefRequest(repo, { source_sha: feature, target_ref: target, expected_old_oid: main }),
    mergeToRefRequest(repo, { source_sha: feature, target_ref: "refs/merge-requests/9/sym" }),
    mergeToRefRequest(repo, { source_sha: feature, target_ref: "refs/merge-requests/7" }),
    mergeToRefRequest(repo, { source_sha: feature, target_ref: "refs/merge-requests/../x" }),
  ];
  for (const request of requests) {
    await h.compare(OS, "UserMergeToRef", request);
    await h.compareRefs(repo);
  }
});

differentialTest("UserMergeToRef: runs no hooks", async (h) => {
  const repo = await mergesRepo(h);
  const feature = await revParse(h, repo, MERGES.feature);
  for (const hook of ["pre-receive", "update"]) {
    await installCustomHook(h, repo, hook, "echo failure\nexit 1");
  }
  const { reference } = await denyAccess(
    "nobody may",
    () => h.compare(OS, "UserMergeToRef", mergeToRefRequest(repo, { source_sha: feature })),
  );
  assert(reference.ok, JSON.stringify(reference));
  await h.compareRefs(repo);
});

differentialTest("UserMergeToRef: invalid requests", async (h) => {
  const repo = await mergesRepo(h);
  const feature = await revParse(h, repo, MERGES.feature);
  const cases: Record<string, unknown>[] = [
    { repository: null },
    { repository: { storage_name: "default", relative_path: "differential/missing.git" } },
    { branch: "", first_parent_ref: "" },
    { user: null },
    { source_sha: "" },
    { target_ref: "" },
    { target_ref: "refs/heads/main" },
    { branch: "no-such-branch" },
    { branch: "-dash" },
    { source_sha: "no-such-commit" },
    { source_sha: "--all" },
    { source_sha: MISSING },
    { user: { ...USER, timezone: "Mars/Olympus_Mons" } },
    { user: {} },
  ];
  for (const extra of cases) {
    await h.compare(
      OS,
      "UserMergeToRef",
      mergeToRefRequest(repo, { source_sha: feature, ...extra }),
    );
  }
  await h.compareRefs(repo);
});

// --- UserFFBranch ----------------------------------------------------------------------------

function ffRequest(repo: RepoRef, extra: Record<string, unknown> = {}) {
  return { repository: repo, user: USER, commit_id: "", branch: MERGES.behind, ...extra };
}

differentialTest("UserFFBranch: fast-forwards, or refuses", async (h) => {
  const repo = await mergesRepo(h);
  const main = await revParse(h, repo, MERGES.main);
  const feature = await revParse(h, repo, MERGES.feature);
  const behind = await revParse(h, repo, MERGES.behind);
  const requests = [
    ffRequest(repo, { commit_id: feature }),
    ffRequest(repo, { commit_id: main, expected_old_oid: "xyz" }),
    ffRequest(repo, { commit_id: main, expected_old_oid: MISSING }),
    // Stale: an empty response, as in Gitaly.
    ffRequest(repo, { commit_id: main, expected_old_oid: feature }),
    ffRequest(repo, { commit_id: main, expected_old_oid: behind }),
    // Already there.
    ffRequest(repo, { commit_id: main }),
  ];
  for (const request of requests) {
    await h.compare(OS, "UserFFBranch", request);
    await h.compareRefs(repo);
  }
});

differentialTest("UserFFBranch: invalid requests", async (h) => {
  const repo = await mergesRepo(h);
  const main = await revParse(h, repo, MERGES.main);
  const cases: Record<string, unknown>[] = [
    { repository: null },
    { repository: { storage_name: "default", relative_path: "differential/missing.git" } },
    { branch: "" },
    { user: null },
    { commit_id: "" },
    { branch: "no-such-branch" },
    { branch: "-dash" },
    { commit_id: main.slice(0, 8) },
  ];
  for (const extra of cases) {
    await h.compare(OS, "UserFFBranch", ffRequest(repo, { commit_id: main, ...extra }));
  }
  // Gitaly answers Internal for commits that are not there or not commits.
  await compareBetterCode(h, repo, "UserFFBranch", ffRequest(repo, { commit_id: MISSING }), {
    reference: "Internal",
    ours: "InvalidArgument",
  });
  await h.compareRefs(repo);
});

differentialTest("UserFFBranch: GitLab and custom hooks refuse", async (h) => {
  const repo = await mergesRepo(h);
  const main = await revParse(h, repo, MERGES.main);
  const before = await h.compareRefs(repo);
  await denyAccess(
    "You are not allowed to push here.",
    () => h.compare(OS, "UserFFBranch", ffRequest(repo, { commit_id: main })),
  );
  await installCustomHook(h, repo, "pre-receive", 'echo "no fast-forwards today"\nexit 1');
  const { reference } = await h.compare(OS, "UserFFBranch", ffRequest(repo, { commit_id: main }));
  assert(reference.ok, "a custom hook's refusal is a response");
  assertEquals(await h.compareRefs(repo), before);
});

// --- UserRebaseToRef -------------------------------------------------------------------------

function rebaseRequest(repo: RepoRef, extra: Record<string, unknown> = {}) {
  return {
    repository: repo,
    user: USER,
    source_sha: MERGES.rebaseSource,
    first_parent_ref: `refs/heads/${MERGES.rebaseOnto}`,
    target_ref: "refs/merge-requests/1/train",
    timestamp: timestamp,
    ...extra,
  };
}

differentialTest("UserRebaseToRef: replays commits byte for byte", async (h) => {
  const repo = await mergesRepo(h);
  const requests = [
    rebaseRequest(repo),
    rebaseRequest(repo, {
      source_sha: MERGES.rebasePicked,
      target_ref: "refs/merge-requests/2/train",
    }),
    rebaseRequest(repo, {
      source_sha: MERGES.feature,
      first_parent_ref: MERGES.main,
      target_ref: "refs/merge-requests/3/train",
      user: { ...USER, timezone: "" },
    }),
    // A rename upstream: the change follows the file.
    rebaseRequest(repo, {
      source_sha: MERGES.renameSource,
      first_parent_ref: MERGES.renameOnto,
      target_ref: "refs/merge-requests/6/train",
    }),
    // A root commit among those replayed (merged in from an unrelated history).
    rebaseRequest(repo, {
      source_sha: MERGES.withRoot,
      first_parent_ref: MERGES.main,
      target_ref: "refs/merge-requests/7/train",
    }),
    // An author name git rewrites as Latin-1.
    rebaseRequest(repo, {
      source_sha: MERGES.latin1Author,
      target_ref: "refs/merge-requests/8/train",
    }),
    // Fast-forwards both ways: the newer commit, nothing rewritten.
    rebaseRequest(repo, {
      source_sha: MERGES.main,
      first_parent_ref: MERGES.behind,
      target_ref: "refs/merge-requests/4/train",
    }),
    rebaseRequest(repo, {
      source_sha: MERGES.behind,
      first_parent_ref: MERGES.main,
      target_ref: "refs/merge-requests/5/train",
    }),
  ];
  for (const request of requests) {
    const { reference } = await h.compare(OS, "UserRebaseToRef", request);
    assert(reference.ok, JSON.stringify(reference));
    const tip = (reference.responses as { commit_id: string }).commit_id;
    const log = await Promise.all(
      SIDES.map((side) => h.git(side, repo, ["log", "--format=raw", tip])),
    );
    assertEquals(log[0], log[1], `history of ${tip}`);
    await h.compareRefs(repo);
  }
  // The 12 KiB message is cut at Gitaly's 10 KiB, as Gitaly reads commits.
  const messages = await h.git("ours", repo, [
    "log",
    "--format=%B%x00",
    "refs/merge-requests/1/train",
  ]);
  assert(messages.includes("f by Zoe"), messages.slice(0, 200));
});

differentialTest("UserRebaseToRef: conflicts and stale targets", async (h) => {
  const repo = await mergesRepo(h);
  const main = await revParse(h, repo, MERGES.main);
  const objects = await objectCounts(h, repo);
  await h.compare(
    OS,
    "UserRebaseToRef",
    rebaseRequest(repo, { source_sha: MERGES.conflict, first_parent_ref: MERGES.main }),
  );
  assertEquals(await objectCounts(h, repo), objects, "a conflict writes no objects");
  const requests = [
    rebaseRequest(repo, { expected_old_oid: "12" }),
    rebaseRequest(repo, { expected_old_oid: MISSING }),
    rebaseRequest(repo, { expected_old_oid: main }),
    rebaseRequest(repo, { target_ref: "refs/merge-requests/9/sym" }),
    rebaseRequest(repo, { target_ref: "refs/merge-requests/7" }),
    rebaseRequest(repo, { target_ref: "refs/merge-requests/../x" }),
  ];
  for (const request of requests) {
    await h.compare(OS, "UserRebaseToRef", request);
    await h.compareRefs(repo);
  }
});

differentialTest("UserRebaseToRef: invalid requests", async (h) => {
  const repo = await mergesRepo(h);
  const cases: Record<string, unknown>[] = [
    { repository: null },
    { repository: { storage_name: "default", relative_path: "differential/missing.git" } },
    { first_parent_ref: "" },
    { user: null },
    { source_sha: "" },
    { target_ref: "" },
    { target_ref: "HEAD" },
    { first_parent_ref: "refs/heads/no-such-branch" },
    { first_parent_ref: "-dash" },
    { source_sha: "no-such-commit" },
    { source_sha: "--all" },
    { source_sha: MISSING },
    { user: { ...USER, timezone: "Mars/Olympus_Mons" } },
  ];
  for (const extra of cases) {
    await h.compare(OS, "UserRebaseToRef", rebaseRequest(repo, extra));
  }
  // Gitaly answers Internal for histories without a common commit.
  const unrelated = await h.call(
    OS,
    "UserRebaseToRef",
    rebaseRequest(repo, { source_sha: MERGES.unrelated }),
  );
  const outcome = (r: typeof unrelated.ours) => r.ok ? r : { code: r.codeName, message: r.message };
  assertEquals(outcome(unrelated.reference), {
    code: "Internal",
    message: "rebasing commits: get merge-base: exit status 1",
  });
  assertEquals(outcome(unrelated.ours), {
    code: "FailedPrecondition",
    message: "rebasing commits: branch and upstream share no history",
  });
  await h.compareRefs(repo);
});
