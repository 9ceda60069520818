/**
 * Transactional voting in-process: the transaction metadata, the vote
 * hashes, and the handlers that vote without git's hooks (DeleteRefs,
 * WriteRef of HEAD, CreateRepository, RemoveRepository, SetCustomHooks,
 * the hook RPCs), with a recording transaction manager in the handlers'
 * dependencies.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { Metadata } from "@grpc/grpc-js";
import { assert, assertEquals, assertThrows } from "../helpers/assert.ts";
import { handlerHarness, repository } from "../helpers/handler.ts";
import { transactionMetadata } from "../helpers/voter.ts";
import { BackchannelPeer } from "../../src/backchannel/peer.ts";
import {
  decodeHooksPayload,
  encodeHooksPayload,
  Hook,
  HOOKS_PAYLOAD_ENV,
} from "../../src/service/hooks/payload.ts";
import { isForceDeletionsOnly } from "../../src/service/hooks/reference_transaction_hook.ts";
import {
  type Transaction,
  TransactionAbortedError,
  TransactionError,
  transactionFromContext,
  type TransactionManager,
  TransactionStoppedError,
  voteFromData,
  VoteHash,
  voteHex,
  type VotePhase,
  ZERO_VOTE,
} from "../../src/service/shared/transaction.ts";
import { directoryVote, repositoryVote } from "../../src/service/shared/repository_vote.ts";
import type { YamuxSession } from "../../src/yamux/session.ts";

const sha1 = (data: string) => createHash("sha1").update(data).digest("hex");
const ZERO = "0".repeat(40);

/** Records votes and stops; answers with `answer` (per phase, default COMMIT). */
class RecordingManager implements TransactionManager {
  readonly votes: { id: number; phase: VotePhase; hash: string }[] = [];
  readonly stops: number[] = [];
  answer: (phase: VotePhase) => "COMMIT" | "ABORT" | "STOP" = () => "COMMIT";

  vote(tx: Transaction, vote: Uint8Array, phase: VotePhase): Promise<void> {
    this.votes.push({ id: tx.id, phase, hash: voteHex(vote) });
    const answer = this.answer(phase);
    if (answer === "ABORT") return Promise.reject(new TransactionAbortedError());
    if (answer === "STOP") return Promise.reject(new TransactionStoppedError());
    return Promise.resolve();
  }

  stop(tx: Transaction): Promise<void> {
    this.stops.push(tx.id);
    return Promise.resolve();
  }

  take(): { phase: VotePhase; hash: string }[] {
    return this.votes.splice(0).map(({ phase, hash }) => ({ phase, hash }));
  }
}

function metadataOf(values: Record<string, string>): Metadata {
  const md = new Metadata();
  for (const [key, value] of Object.entries(values)) md.set(key, value);
  return md;
}

Deno.test("transactionFromContext: none, Praefect's JSON with the backchannel id, malformed", () => {
  assertEquals(transactionFromContext({ metadata: new Metadata() }), undefined);
  const peer = new BackchannelPeer({ closed: new Promise(() => {}) } as unknown as YamuxSession);
  assertEquals(
    transactionFromContext({ metadata: metadataOf(transactionMetadata(7, "gitaly-2", false)) }),
    { id: 7, node: "gitaly-2", primary: false },
  );
  assertEquals(
    transactionFromContext({
      metadata: metadataOf(transactionMetadata(8)),
      backchannel: peer,
    }),
    { id: 8, node: "gitaly-1", primary: true, backchannel_id: peer.id },
  );
  for (const bad of ["not base64!", btoa("not json"), btoa("[1]")]) {
    const error = assertThrows(
      () =>
        transactionFromContext({
          metadata: metadataOf({ "gitaly-reference-transaction": bad }),
        }),
      TransactionError,
    );
    const message = (error as Error).message;
    assert(message.startsWith("from serialized: "), message);
  }
});

Deno.test("votes: SHA-1 of the data, fed whole or in pieces; the zero vote", () => {
  assertEquals(voteHex(voteFromData("a b refs/heads/x\n")), sha1("a b refs/heads/x\n"));
  assertEquals(
    voteHex(new VoteHash().update("a b ").update("refs/heads/x\n").vote()),
    sha1("a b refs/heads/x\n"),
  );
  assertEquals(voteHex(ZERO_VOTE), ZERO);
});

Deno.test("force-deletions only: git's packed-refs clean-up is not voted on", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  assert(isForceDeletionsOnly(enc(`${ZERO} ${ZERO} refs/heads/a\n${ZERO} ${ZERO} refs/tags/b\n`)));
  assert(isForceDeletionsOnly(enc("")));
  assert(
    !isForceDeletionsOnly(
      enc(`${ZERO} ${ZERO} refs/heads/a\n${"1".repeat(40)} ${ZERO} refs/heads/b\n`),
    ),
  );
  assert(!isForceDeletionsOnly(enc(`${ZERO} ${"1".repeat(40)} refs/heads/a\n`)));
});

Deno.test("hooks payload: the transaction travels as Gitaly writes it", () => {
  const base = {
    requestedHooks: Hook.ReferenceTransaction,
    featureFlags: [],
    runtimeDir: "/run",
    internalSocket: "/run/internal.sock",
    internalSocketToken: "",
    repository: { storage_name: "default", relative_path: "a.git" },
  };
  const tx = { backchannel_id: 3, id: 5, node: "gitaly-1", primary: true };
  const encoded = encodeHooksPayload({ ...base, transaction: tx });
  const json = JSON.parse(atob(encoded));
  assertEquals(json.transaction, { backchannel_id: 3, id: 5, node: "gitaly-1", primary: true });
  assertEquals(decodeHooksPayload(encoded).transaction, {
    id: 5,
    node: "gitaly-1",
    primary: true,
    backchannel_id: 3,
  });
  const none = encodeHooksPayload({ ...base, transaction: null });
  assert(atob(none).includes('"transaction":null'), "the hook scripts look for this");
  assertEquals(decodeHooksPayload(none).transaction, null);
});

Deno.test("repository and directory votes: files in walk order, objects and FETCH_HEAD left out", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tx-vote-" });
  try {
    const repo = join(dir, "repo.git");
    await Deno.mkdir(join(repo, "objects", "pack"), { recursive: true });
    await Deno.mkdir(join(repo, "refs", "heads"), { recursive: true });
    await Deno.writeTextFile(join(repo, "HEAD"), "ref: refs/heads/main\n");
    await Deno.writeTextFile(join(repo, "config"), "[core]\n");
    await Deno.writeTextFile(join(repo, "FETCH_HEAD"), "varies\n");
    await Deno.writeTextFile(join(repo, "objects", "pack", "x"), "varies\n");
    await Deno.writeTextFile(join(repo, "refs", "heads", "main"), "1234\n");
    await Deno.writeTextFile(join(repo, "packed-refs"), "# pack\n");
    assertEquals(
      voteHex(await repositoryVote(repo)),
      sha1("ref: refs/heads/main\n[core]\n# pack\n1234\n"),
    );

    const hooks = join(dir, "custom_hooks");
    await Deno.mkdir(hooks);
    await Deno.chmod(hooks, 0o755);
    await Deno.writeTextFile(join(hooks, "pre-receive"), "#!/bin/sh\n");
    await Deno.chmod(join(hooks, "pre-receive"), 0o755);
    const mode = (m: number) => {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint32(0, m >>> 0);
      return b;
    };
    const expected = createHash("sha1")
      .update(".").update(mode((1 << 31) | 0o755))
      .update("pre-receive").update(mode(0o755)).update("#!/bin/sh\n")
      .digest("hex");
    assertEquals(voteHex(await directoryVote(hooks)), expected);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("handlers vote in the prepared and committed phases; a refused vote changes nothing", async () => {
  const h = await handlerHarness();
  const votes = new RecordingManager();
  h.deps.transactions = votes;
  try {
    const repo = await h.createRepo("a.git", async (git) => {
      await git("commit-tree", "-m", "x", "4b825dc642cb6eb9a060e54bf8d69288fbee4904").then((c) =>
        git("update-ref", "refs/heads/main", c).then(() => git("update-ref", "refs/tags/t", c))
      );
    });
    const metadata = transactionMetadata(1);

    // DeleteRefs votes on the names it deletes (git's hook sees only force-deletions).
    votes.answer = () => "ABORT";
    const refused = await h.call("gitaly.RefService", "DeleteRefs", {
      repository: repo,
      refs: [new TextEncoder().encode("refs/tags/t")],
    }, { metadata });
    assertEquals(refused.ok ? "" : refused.message, "preparatory vote: transaction was aborted");
    assertEquals(votes.take(), [{ phase: "prepared", hash: sha1("refs/tags/t\n") }]);
    await Deno.stat(join(h.repoPath(repo), "refs", "tags", "t")); // still there
    votes.answer = () => "COMMIT";
    assert(
      (await h.call("gitaly.RefService", "DeleteRefs", {
        repository: repo,
        refs: [new TextEncoder().encode("refs/tags/t")],
      }, { metadata })).ok,
    );
    assertEquals(votes.take().map((v) => v.phase), ["prepared", "committed"]);

    // WriteRef of HEAD votes on the new HEAD file.
    assert(
      (await h.call("gitaly.RepositoryService", "WriteRef", {
        repository: repo,
        ref: new TextEncoder().encode("HEAD"),
        revision: new TextEncoder().encode("refs/heads/other"),
      }, { metadata })).ok,
    );
    const head = sha1("ref: refs/heads/other\n");
    assertEquals(votes.take(), [{ phase: "prepared", hash: head }, {
      phase: "committed",
      hash: head,
    }]);

    // CreateRepository and RemoveRepository: a refused prepared vote leaves no trace.
    const created = repository("new.git");
    votes.answer = () => "ABORT";
    const notCreated = await h.call("gitaly.RepositoryService", "CreateRepository", {
      repository: created,
    }, { metadata });
    assertEquals(notCreated.ok ? "" : notCreated.codeName, "FailedPrecondition");
    assertEquals(votes.take().length, 1);
    assertEquals(await Deno.stat(h.repoPath(created)).then(() => true, () => false), false);
    votes.answer = () => "COMMIT";
    assert(
      (await h.call("gitaly.RepositoryService", "CreateRepository", {
        repository: created,
      }, { metadata })).ok,
    );
    const [prepared, committed] = votes.take();
    assertEquals([prepared.phase, committed.phase], ["prepared", "committed"]);
    assertEquals(prepared.hash, committed.hash);
    assertEquals(
      prepared.hash,
      sha1(
        "ref: refs/heads/main\n" + await Deno.readTextFile(
          join(h.repoPath(created), "config"),
        ),
      ),
    );
    votes.answer = (phase) => phase === "prepared" ? "ABORT" : "COMMIT";
    const kept = await h.call("gitaly.RepositoryService", "RemoveRepository", {
      repository: created,
    }, { metadata });
    assertEquals(kept.ok ? "" : kept.message, "vote on rename: transaction was aborted");
    await Deno.stat(h.repoPath(created));
    votes.answer = () => "COMMIT";
    assert(
      (await h.call("gitaly.RepositoryService", "RemoveRepository", {
        repository: created,
      }, { metadata })).ok,
    );
    assertEquals(votes.take().map((v) => v.hash).slice(1), [
      sha1("pre-remove new.git"),
      sha1("post-remove new.git"),
    ]);

    // Without transaction metadata nothing votes.
    assert(
      (await h.call("gitaly.RepositoryService", "CreateRepository", {
        repository: created,
      })).ok,
    );
    assertEquals(votes.take(), []);
  } finally {
    await h.close();
  }
});

Deno.test("hook RPCs: reference-transaction votes on stdin; secondaries skip hooks; a refusal stops", async () => {
  const h = await handlerHarness();
  const votes = new RecordingManager();
  h.deps.transactions = votes;
  try {
    const repo = await h.createRepo("a.git");
    const env = (tx: Transaction | null) => [
      `${HOOKS_PAYLOAD_ENV}=${
        encodeHooksPayload({
          requestedHooks: Hook.ReferenceTransaction | Hook.PreReceive,
          featureFlags: [],
          runtimeDir: "/nonexistent",
          internalSocket: "/nonexistent",
          internalSocketToken: "",
          transaction: tx,
          userDetails: { username: "u", userid: "user-1", protocol: "ssh" },
          repository: { ...repo, gl_repository: "project-1" },
        })
      }`,
    ];
    const primary = { id: 9, node: "gitaly-1", primary: true, backchannel_id: 1 };
    const stdin = `${ZERO} ${"1".repeat(40)} refs/heads/x\n`;
    const hook = (state: number, tx: Transaction | null, input = stdin) =>
      h.call("gitaly.HookService", "ReferenceTransactionHook", [
        { repository: repo, environment_variables: env(tx), state },
        { stdin: new TextEncoder().encode(input) },
      ]);
    assert((await hook(0, primary)).ok);
    assert((await hook(1, primary)).ok);
    assert((await hook(2, primary)).ok); // aborted: no vote
    assert((await hook(0, primary, `${ZERO} ${ZERO} refs/heads/x\n`)).ok); // force-deletions
    assert((await hook(0, null)).ok);
    assertEquals(votes.take(), [
      { phase: "prepared", hash: sha1(stdin) },
      { phase: "committed", hash: sha1(stdin) },
    ]);
    votes.answer = () => "ABORT";
    const aborted = await hook(0, primary);
    assertEquals(aborted.ok ? [] : [aborted.codeName, aborted.message], [
      "Aborted",
      "reference-transaction hook: error voting on transaction: transaction was aborted",
    ]);
    votes.answer = () => "STOP";
    const stopped = await hook(0, primary);
    assertEquals(stopped.ok ? "" : stopped.codeName, "FailedPrecondition");
    votes.take();

    // pre-receive: a custom hook that refuses stops the transaction; a secondary runs no hooks.
    votes.answer = () => "COMMIT";
    const customHook = join(h.repoPath(repo), "custom_hooks", "pre-receive");
    await Deno.mkdir(join(customHook, ".."), { recursive: true });
    await Deno.writeTextFile(customHook, "#!/bin/sh\nexit 3\n", { mode: 0o755 });
    await Deno.chmod(customHook, 0o755);
    const preReceive = (tx: Transaction) =>
      h.call("gitaly.HookService", "PreReceiveHook", [
        { repository: { ...repo, gl_repository: "project-1" }, environment_variables: env(tx) },
        { stdin: new TextEncoder().encode(stdin) },
      ]);
    const refused = await preReceive(primary);
    assert(refused.ok);
    assertEquals(refused.responses.at(-1)?.exit_status, { value: 3 });
    assertEquals(votes.stops, [9]);
    assertEquals(votes.take(), [], "no synchronizing vote after a refusal");
    const secondary = await preReceive({ ...primary, id: 10, primary: false });
    assert(secondary.ok);
    assertEquals(secondary.responses.at(-1)?.exit_status, { value: 0 });
    assertEquals(votes.take(), [{
      phase: "synchronized",
      hash: sha1("synchronize pre-receive hook"),
    }]);
  } finally {
    await h.close();
  }
});
