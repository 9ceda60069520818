/**
 * GetTagSignatures and GetTagMessages in process, on one shared repository
 * with an unsigned tag, a (textually) signed one, a tag of a tag and a tag
 * with a message larger than one chunk.
 *
 * @module
 */
import { assert, assertEquals } from "../../helpers/assert.ts";
import { type CallResult, handlerHarness, repository, runGit } from "../../helpers/handler.ts";
import { failed } from "./helpers.ts";

const EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
const SIGNATURE =
  "-----BEGIN PGP SIGNATURE-----\n\niQEzBAABCAAdFiEE\n-----END PGP SIGNATURE-----\n";
const BIG_MESSAGE = "0123456789abcdef".repeat(10 * 1024) + "\n"; // 160 KiB + 1

const h = await handlerHarness();
const oids: Record<string, string> = {};
const repo = await h.createRepo("tags.git", async (git) => {
  oids.commit = await git("commit-tree", "-m", "c", EMPTY_TREE);
  await git("update-ref", "refs/heads/main", oids.commit);
  await git("tag", "-a", "-m", "plain message", "plain", oids.commit);
  await git("tag", "-a", "-m", "outer", "outer", "plain");
  oids.plain = await git("rev-parse", "plain");
  oids.outer = await git("rev-parse", "outer");
});
const path = h.repoPath(repo);
const tagger = "tagger T <t@example.com> 1700000000 +0000";
const signedText = `object ${oids.commit}\ntype commit\ntag signed\n${tagger}\n\nsigned message\n`;
oids.signed = await runGit(["mktag"], path, signedText + SIGNATURE);
await runGit(["update-ref", "refs/tags/signed", oids.signed], path);
oids.big = await runGit(
  ["mktag"],
  path,
  `object ${oids.commit}\ntype commit\ntag big\n${tagger}\n\n${BIG_MESSAGE}`,
);
await runGit(["update-ref", "refs/tags/big", oids.big], path);

const signatures = (tag_revisions: string[]) =>
  h.call("gitaly.RefService", "GetTagSignatures", { repository: repo, tag_revisions });
const messages = (tag_ids: string[]) =>
  h.call("gitaly.RefService", "GetTagMessages", { repository: repo, tag_ids });

const fromBase64 = (value: unknown) =>
  new TextDecoder().decode(Uint8Array.from(atob(String(value ?? "")), (c) => c.charCodeAt(0)));

function joinedSignatures(result: CallResult) {
  assert(result.ok, JSON.stringify(result));
  return result.responses.flatMap((r) => r.signatures as Record<string, unknown>[]).map((s) => ({
    tag_id: s.tag_id,
    signature: fromBase64(s.signature),
    content: fromBase64(s.content),
  }));
}

Deno.test("GetTagSignatures: signature and signed text of each tag reached", async () => {
  const raw = (oid: string) => runGit(["cat-file", "tag", oid], path).then((t) => `${t}\n`);
  assertEquals(joinedSignatures(await signatures([oids.signed])), [
    { tag_id: oids.signed, signature: SIGNATURE.slice(0, -1), content: signedText },
  ]);
  assertEquals(joinedSignatures(await signatures(["refs/tags/plain"])), [
    { tag_id: oids.plain, signature: "", content: await raw(oids.plain) },
  ]);
  // A tag of a tag reaches both.
  assertEquals(
    joinedSignatures(await signatures(["outer"])).map((s) => s.tag_id).sort(),
    [oids.outer, oids.plain].sort(),
  );
  const all = joinedSignatures(await signatures(["--all"]));
  assertEquals(
    all.map((s) => s.tag_id).sort(),
    [oids.big, oids.outer, oids.plain, oids.signed].sort(),
  );
  assertEquals(joinedSignatures(await signatures(["--all", "--not", "outer"])).length, 2);
  // A commit reaches no tag.
  assertEquals(await signatures([oids.commit]), { ok: true, responses: [] });
});

Deno.test("GetTagSignatures: bad revisions", async () => {
  const cases: [string[], string, string][] = [
    [[], "InvalidArgument", "missing revisions"],
    [["-x"], "InvalidArgument", "invalid revision: revision can't start with '-'"],
    [[""], "InvalidArgument", "invalid revision: empty revision"],
    [["a\0b"], "InvalidArgument", "invalid revision: revision can't contain NUL"],
    [["a b"], "InvalidArgument", "invalid revision: revision can't contain whitespace"],
    [["a:b"], "InvalidArgument", "invalid revision: revision can't contain ':'"],
    [
      ["1".repeat(40)],
      "NotFound",
      `cat-file iterator stop: rev-list pipeline command: exit status 128, stderr: "fatal: bad object ${
        "1".repeat(40)
      }\\n"`,
    ],
  ];
  for (const [revisions, code, message] of cases) {
    const { code: gotCode, message: gotMessage } = failed(await signatures(revisions));
    assertEquals(
      { code: gotCode, message: gotMessage },
      { code, message },
      JSON.stringify(revisions),
    );
  }
  const unknown = failed(await signatures(["nope"]));
  assertEquals(unknown.code, "NotFound");
  const missing = await h.call("gitaly.RefService", "GetTagSignatures", {
    repository: repository("missing.git"),
    tag_revisions: ["--all"],
  });
  assertEquals(failed(missing).code, "NotFound");
});

Deno.test("GetTagMessages: the id as given, then the whole message in 128 KiB chunks", async () => {
  const result = await messages([oids.plain, "signed", "refs/tags/big"]);
  assert(result.ok, JSON.stringify(result));
  const shape = result.responses.map((r) =>
    r.tag_id !== undefined ? { tag_id: r.tag_id } : { size: fromBase64(r.message).length }
  );
  assertEquals(shape, [
    { tag_id: oids.plain },
    { size: "plain message\n".length },
    { tag_id: "signed" },
    { size: `signed message\n${SIGNATURE}`.length },
    { tag_id: "refs/tags/big" },
    { size: 128 * 1024 },
    { size: BIG_MESSAGE.length - 128 * 1024 },
  ]);
  assertEquals(fromBase64(result.responses[3].message), `signed message\n${SIGNATURE}`);
  assertEquals(await messages([]), { ok: true, responses: [] });
});

Deno.test("GetTagMessages: ids that name no tag", async () => {
  const cases: [string[], string, string][] = [
    [[oids.commit], "InvalidArgument", "getting tag: expected tag, got commit"],
    [["1".repeat(40)], "NotFound", "getting tag: object not found"],
    [[""], "NotFound", "getting tag: object not found"],
    [["a\0b"], "InvalidArgument", "getting tag: revision must not contain NUL bytes"],
    [[oids.plain, "nope"], "NotFound", "getting tag: object not found"],
  ];
  for (const [ids, code, message] of cases) {
    const { code: gotCode, message: gotMessage } = failed(await messages(ids));
    assertEquals({ code: gotCode, message: gotMessage }, { code, message }, JSON.stringify(ids));
  }
});

Deno.test("GetTagSignatures, GetTagMessages: close the harness", async () => {
  await h.close();
});
