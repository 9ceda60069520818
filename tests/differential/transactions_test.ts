/**
 * Transactional voting, ours against the reference Gitaly: the same
 * reference-changing calls, made with Praefect's transaction metadata
 * through a Go stand-in for Praefect (tests/interop/txvoter, which serves
 * RefTransaction on its backchannel connection), must cast the same votes
 * (phases and hashes) on both sides, and a refused vote must fail the call
 * alike and leave the references as they were.
 *
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { assertEquals } from "../helpers/assert.ts";
import { serviceClient } from "../../src/client/services.ts";
import { gitalySshEnv } from "../helpers/gitaly_ssh.ts";
import { git, gitOk } from "../helpers/gitrepo.ts";
import { type GoVoteAnswer, type GoVoter, startGoVoter } from "../helpers/txvoter.ts";
import { newTransactionId, type RecordedVote, transactionMetadata } from "../helpers/voter.ts";
import { configureServers, differentialTest, type Harness, type Side, SIDES } from "./harness.ts";

const voters = new Map<Side, Promise<GoVoter>>();

configureServers(() =>
  Promise.resolve({
    cleanup: async () => {
      for (const voter of voters.values()) await (await voter).stop();
      voters.clear();
    },
  })
);

function voterFor(h: Harness, side: Side): Promise<GoVoter> {
  let voter = voters.get(side);
  if (!voter) {
    voter = startGoVoter(h.addresses[side].replace(/^unix:/, ""), h.dir);
    voters.set(side, voter);
  }
  return voter;
}

/** What one side did in its transaction. */
interface Outcome {
  votes: Omit<RecordedVote, "id">[];
  error?: { code: number; message: string };
}

/** Runs `call` on each side in a transaction of its own, answered with `answer`. */
async function onBothSides(
  h: Harness,
  call: (conn: grpc.Client, metadata: Record<string, string>, side: Side) => Promise<unknown>,
  answer: GoVoteAnswer = "COMMIT",
): Promise<Record<Side, Outcome>> {
  const out = {} as Record<Side, Outcome>;
  for (const side of SIDES) {
    const voter = await voterFor(h, side);
    const id = newTransactionId();
    await voter.answer(id, answer);
    let error: Outcome["error"];
    try {
      await call(voter.conn, transactionMetadata(id), side);
    } catch (e) {
      const err = e as grpc.ServiceError;
      error = { code: err.code, message: err.details ?? err.message };
    }
    const votes = (await voter.votesOf(id)).map(({ id: _, ...vote }) => vote);
    out[side] = error ? { votes, error } : { votes };
  }
  return out;
}

const bytes = (s: string) => new TextEncoder().encode(s);

const RS = "gitaly.RepositoryService";
const repoClient = (conn: grpc.Client) => serviceClient(RS, conn);
const refClient = (conn: grpc.Client) => serviceClient("gitaly.RefService", conn);
const MAIN = "c16c7c4193752cc14342466d3aed4e72e7e28763";
const ZERO = "0".repeat(40);

/** Asserts both sides voted alike and failed (or not) with the same code; returns ours. */
function assertSameOutcome(result: Record<Side, Outcome>, what: string): Outcome {
  assertEquals(result.ours.votes, result.reference.votes, `${what}: votes`);
  assertEquals(result.ours.error?.code, result.reference.error?.code, `${what}: code`);
  return result.ours;
}

differentialTest(
  "WriteRef: a branch votes through the hook, HEAD on its file, as Gitaly",
  async (h) => {
    const repo = await h.repo("rich");
    const write = (ref: string, revision: string, answer: GoVoteAnswer = "COMMIT") =>
      onBothSides(h, (conn, metadata) =>
        repoClient(conn).writeRef({
          repository: repo,
          ref: bytes(ref),
          revision: bytes(revision),
        }, { metadata }), answer);

    const branch = assertSameOutcome(await write("refs/heads/tx-new", "refs/heads/main"), "branch");
    const line = `${ZERO} ${MAIN} refs/heads/tx-new\n`;
    assertEquals(branch.votes.map((v) => [v.phase, v.hash]), [
      ["PREPARED_PHASE", sha1(line)],
      ["COMMITTED_PHASE", sha1(line)],
    ]);
    const head = assertSameOutcome(await write("HEAD", "refs/heads/tx-new"), "HEAD");
    assertEquals(head.votes.map((v) => v.hash), [
      sha1("ref: refs/heads/tx-new\n"),
      sha1("ref: refs/heads/tx-new\n"),
    ]);
    await h.compareRefs(repo);

    for (const answer of ["ABORT", "STOP", "ERROR no quorum"] as const) {
      const aborted = await write("refs/heads/tx-refused", "refs/heads/main", answer);
      const ours = assertSameOutcome(aborted, answer);
      assertEquals(ours.votes.map((v) => v.phase), ["PREPARED_PHASE"], answer);
      assertEquals(ours.error?.code, 13, answer);
      // Gitaly says only "exit status 128"; we add git's own words.
      assertEquals(
        aborted.reference.error?.message,
        "error when running update-ref command: exit status 128",
      );
      assertEquals(
        ours.error?.message,
        `${aborted.reference.error?.message}: fatal: ref updates aborted by hook`,
      );
    }
    const headAborted = await write("HEAD", "refs/heads/feature/merged", "ABORT");
    assertEquals(headAborted.ours, headAborted.reference);
    const refs = await h.compareRefs(repo);
    assertEquals(refs["refs/heads/tx-refused"], undefined);
    assertEquals(refs.HEAD, "refs/heads/tx-new");
  },
);

differentialTest(
  "UpdateReferences and DeleteRefs vote as Gitaly; refused votes change nothing",
  async (h) => {
    const repo = await h.repo("rich");
    const update = (updates: { ref: string; new: string; old?: string }[], answer: GoVoteAnswer) =>
      onBothSides(h, async (conn, metadata) => {
        const call = refClient(conn).updateReferences({ metadata });
        await call.write({
          repository: repo,
          updates: updates.map((u) => ({
            reference: bytes(u.ref),
            new_object_id: bytes(u.new),
            old_object_id: bytes(u.old ?? ""),
          })),
        });
        call.end();
        return await call.response;
      }, answer);
    for (const answer of ["ABORT", "COMMIT"] as const) {
      const result = await update([
        { ref: "refs/heads/tx-created", new: MAIN, old: ZERO },
        { ref: "refs/heads/feature/stale", new: ZERO },
        { ref: "refs/heads/orphan", new: MAIN, old: "b27ec7f57350b80592b49ad2ab7f3ef362e1d75d" },
      ], answer);
      const ours = assertSameOutcome(result, `UpdateReferences ${answer}`);
      assertEquals(ours.votes.length, answer === "COMMIT" ? 2 : 1);
      if (answer === "ABORT") {
        // Gitaly says only "exit status 128"; we add git's own words.
        assertEquals(result.reference.error?.message, "committing update: exit status 128");
        assertEquals(
          result.ours.error?.message,
          "committing update: exit status 128: fatal: ref updates aborted by hook",
        );
        assertEquals((await h.compareRefs(repo))["refs/heads/tx-created"], undefined);
      }
    }
    assertEquals((await h.compareRefs(repo))["refs/heads/tx-created"], MAIN);

    const remove = (refs: string[], answer: GoVoteAnswer) =>
      onBothSides(
        h,
        (conn, metadata) =>
          refClient(conn).deleteRefs({ repository: repo, refs: refs.map(bytes) }, { metadata }),
        answer,
      );
    const aborted = await remove(["refs/tags/v1.1.0", "refs/heads/feature/merged"], "ABORT");
    assertEquals(aborted.ours, aborted.reference);
    assertEquals(aborted.ours.error, {
      code: 13,
      message: "preparatory vote: transaction was aborted",
    });
    assertEquals((await h.compareRefs(repo))["refs/tags/v1.1.0"] !== undefined, true);
    const deleted = await remove(["refs/tags/v1.1.0", "refs/heads/feature/merged"], "COMMIT");
    assertEquals(deleted.ours, deleted.reference);
    const names = sha1("refs/tags/v1.1.0\nrefs/heads/feature/merged\n");
    assertEquals(deleted.ours.votes.map((v) => v.hash), [names, names]);
    assertEquals((await h.compareRefs(repo))["refs/tags/v1.1.0"], undefined);
  },
);

differentialTest("CreateRepository votes on the new repository's files, as Gitaly", async (h) => {
  for (const answer of ["COMMIT", "ABORT"] as const) {
    const repository = { storage_name: "default", relative_path: `differential/tx-${answer}.git` };
    const result = await onBothSides(
      h,
      (conn, metadata) => repoClient(conn).createRepository({ repository }, { metadata }),
      answer,
    );
    assertEquals(result.ours, result.reference, answer);
    const exists = await h.call(RS, "RepositoryExists", { repository });
    for (const side of SIDES) {
      const r = exists[side];
      assertEquals(r.ok && r.responses, [{ exists: answer === "COMMIT" }], `${answer} on ${side}`);
    }
  }
});

differentialTest("RemoveRepository and SetCustomHooks vote as Gitaly", async (h) => {
  for (const answer of ["ABORT", "COMMIT"] as const) {
    const repository = await h.repo("empty");
    const result = await onBothSides(
      h,
      (conn, metadata) => repoClient(conn).removeRepository({ repository }, { metadata }),
      answer,
    );
    assertEquals(result.ours, result.reference, `RemoveRepository ${answer}`);
    assertEquals(result.ours.votes[0].hash, sha1(`pre-remove ${repository.relative_path}`));
    const exists = await h.call(RS, "RepositoryExists", { repository });
    for (const side of SIDES) {
      const r = exists[side];
      assertEquals(r.ok && r.responses, [{ exists: answer === "ABORT" }], `${answer} on ${side}`);
    }
  }

  const dir = await Deno.makeTempDir({ dir: h.dir });
  await Deno.mkdir(join(dir, "custom_hooks"));
  await Deno.writeTextFile(join(dir, "custom_hooks", "pre-receive"), "#!/bin/sh\nexit 0\n", {
    mode: 0o755,
  });
  await Deno.chmod(join(dir, "custom_hooks"), 0o755);
  await Deno.chmod(join(dir, "custom_hooks", "pre-receive"), 0o755);
  const tar = (await new Deno.Command("tar", {
    args: ["-c", "-f", "-", "-C", dir, "custom_hooks"],
  }).output()).stdout;
  const repository = await h.repo("rich");
  for (const answer of ["ABORT", "COMMIT"] as const) {
    const result = await onBothSides(h, async (conn, metadata) => {
      const call = repoClient(conn).setCustomHooks({ metadata });
      await call.write({ repository, data: tar });
      call.end();
      return await call.response;
    }, answer);
    assertEquals(result.ours, result.reference, `SetCustomHooks ${answer}`);
    for (const side of SIDES) {
      const hook = join(h.gitDir(side, repository), "custom_hooks", "pre-receive");
      const there = await Deno.stat(hook).then(() => true, () => false);
      assertEquals(there, answer === "COMMIT", `${answer} on ${side}`);
    }
  }
});

differentialTest(
  "FetchRemote votes through git's reference-transaction hook, as Gitaly",
  async (h) => {
    const source = await h.repo("history", { shared: true });
    for (const answer of ["ABORT", "COMMIT"] as const) {
      const repository = await h.repo("empty");
      const result = await onBothSides(h, (conn, metadata, side) =>
        repoClient(conn).fetchRemote({
          repository,
          remote_params: { url: `file://${h.gitDir(side, source)}` },
        }, { metadata }), answer);
      const ours = assertSameOutcome(result, `FetchRemote ${answer}`);
      // One vote on all fetched updates (with --atomic, as Gitaly's atomic fetch).
      assertEquals(ours.votes.length, answer === "COMMIT" ? 2 : 1);
      await h.compareRefs(repository);
    }
  },
);

/** A push over gitaly-ssh through each side's voter, in a transaction answered with `answer`. */
async function pushBoth(
  h: Harness,
  repo: { storage_name: string; relative_path: string },
  work: string,
  answer: GoVoteAnswer,
) {
  const out = {} as Record<
    Side,
    { code: number; remote: string[]; votes: unknown[]; stops: number }
  >;
  for (const side of SIDES) {
    const voter = await voterFor(h, side);
    const id = newTransactionId();
    await voter.answer(id, answer);
    await voter.inject({ id, node: "gitaly-1", primary: true });
    try {
      const env = gitalySshEnv({
        command: "receive-pack",
        address: voter.address,
        payload: {
          repository: {
            storageName: repo.storage_name,
            relativePath: repo.relative_path,
            glRepository: "project-1",
          },
          glId: "user-1",
        },
      });
      const result = await git(["push", "ssh://gitaly/x.git", "HEAD:refs/heads/main"], {
        cwd: work,
        env,
      });
      out[side] = {
        code: result.code,
        remote: result.stderr.split("\n").filter((l) => /^(remote:| ! |error:)/.test(l))
          .map((l) => l.trimEnd().replace(/'[^']*'/, "<url>")),
        votes: (await voter.votesOf(id)).map((v) => [v.phase, v.hash]),
        stops: (await voter.stops()).filter((stop) => stop === id).length,
      };
    } finally {
      await voter.inject(null);
    }
  }
  return out;
}

differentialTest(
  "push: votes on the hook's updates, then the final vote; refusals as Gitaly",
  async (h) => {
    const repo = await h.repo("rich");
    const work = join(h.dir, "tx-push-work");
    await gitOk(["clone", "--quiet", h.gitDir("ours", repo), work]);
    await gitOk(["checkout", "--quiet", "main"], { cwd: work });
    const env = {
      GIT_AUTHOR_DATE: "1700000000 +0000",
      GIT_COMMITTER_DATE: "1700000000 +0000",
      GIT_AUTHOR_NAME: "A",
      GIT_AUTHOR_EMAIL: "a@example.com",
      GIT_COMMITTER_NAME: "A",
      GIT_COMMITTER_EMAIL: "a@example.com",
    };
    await gitOk(["commit", "--quiet", "--allow-empty", "-m", "pushed"], { cwd: work, env });
    const pushed = (await gitOk(["rev-parse", "HEAD"], { cwd: work })).trim();

    const aborted = await pushBoth(h, repo, work, "ABORT");
    assertEquals(aborted.ours, aborted.reference);
    assertEquals(aborted.ours.code !== 0, true);
    assertEquals((await h.compareRefs(repo))["refs/heads/main"], MAIN);

    // A pre-receive hook that refuses stops the transaction; the final vote then is no error.
    for (const side of SIDES) {
      const hook = join(h.gitDir(side, repo), "custom_hooks", "pre-receive");
      await Deno.mkdir(join(hook, ".."), { recursive: true });
      await Deno.writeTextFile(hook, "#!/bin/sh\necho refused >&2\nexit 1\n", { mode: 0o755 });
    }
    const refused = await pushBoth(h, repo, work, "COMMIT");
    assertEquals(refused.ours, refused.reference);
    assertEquals(refused.ours.stops, 1);
    assertEquals(refused.ours.votes, [["COMMITTED_PHASE", ZERO]]);
    assertEquals(refused.ours.code, 1);
    for (const side of SIDES) {
      await Deno.remove(join(h.gitDir(side, repo), "custom_hooks"), { recursive: true });
    }

    const ok = await pushBoth(h, repo, work, "COMMIT");
    assertEquals(ok.ours, ok.reference);
    // git reports the branch and, as HEAD points at it, HEAD too.
    const updates = sha1(`${MAIN} ${pushed} refs/heads/main\n${MAIN} ${pushed} HEAD\n`);
    assertEquals(ok.ours.votes, [
      ["SYNCHRONIZED_PHASE", sha1("synchronize pre-receive hook")],
      ["SYNCHRONIZED_PHASE", sha1("synchronize update hook")],
      ["PREPARED_PHASE", updates],
      ["COMMITTED_PHASE", updates],
      ["SYNCHRONIZED_PHASE", sha1("synchronize post-receive hook")],
      ["COMMITTED_PHASE", ZERO],
    ]);
    assertEquals((await h.compareRefs(repo))["refs/heads/main"], pushed);
  },
);

function sha1(data: string): string {
  return createHash("sha1").update(data).digest("hex");
}
