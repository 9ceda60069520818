import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { repeatedField } from "../../src/proto/encoded_message.ts";
import { encodeGitCommit } from "../../src/proto/git_commit_encoder.ts";
import { grpcServiceDefinition, messageType } from "../../src/proto/mod.ts";
import { type GitCommit, type Init, SignatureType } from "../../src/proto/types.ts";

const type = messageType("gitaly.GitCommit");
const bytes = (text: string) => new TextEncoder().encode(text);

/** protobufjs's encoding of `commit` (which sets no field to its default). */
function reference(commit: Init<GitCommit>): Uint8Array {
  return Uint8Array.from(type.encode(type.fromObject(commit as Record<string, unknown>)).finish());
}

const full: Init<GitCommit> = {
  id: "a".repeat(40),
  subject: bytes("Subject"),
  body: bytes("Subject\n\nBody ünïcode\n"),
  author: {
    name: bytes("Ann"),
    email: bytes("ann@example.com"),
    date: { seconds: 1_700_000_000 },
    timezone: bytes("+0100"),
  },
  committer: { name: bytes("Bob"), date: { seconds: 9223371974719179006 } },
  parent_ids: ["b".repeat(40), "", "c".repeat(64)],
  body_size: 300_000,
  signature_type: SignatureType.SSH,
  tree_id: "d".repeat(40),
  trailers: [{ key: bytes("Signed-off-by"), value: bytes("Ann") }, {}],
  short_stats: { additions: 3, deletions: 4, changed_files: 1 },
  referenced_by: [bytes("refs/heads/main"), new Uint8Array(0)],
  encoding: "ISO-8859-1 é",
};

Deno.test("a GitCommit encodes to protobufjs's bytes", () => {
  const cases: Init<GitCommit>[] = [
    full,
    { id: "e".repeat(40) },
    { id: "f".repeat(40), author: {}, short_stats: {}, committer: { date: {} } },
    { body: new Uint8Array(200_000).fill(0x41), body_size: 2 ** 40 },
    {},
  ];
  for (const commit of cases) assert.deepEqual(encodeGitCommit(commit), reference(commit));
});

Deno.test("fields set to their defaults are left out, as Go's proto.Size counts them", () => {
  const defaults: Init<GitCommit> = {
    id: "a".repeat(40),
    subject: new Uint8Array(0),
    body_size: 0,
    signature_type: SignatureType.NONE,
    tree_id: "",
    trailers: [],
    author: null,
    encoding: "",
  };
  assert.deepEqual(encodeGitCommit(defaults), reference({ id: "a".repeat(40) }));
});

Deno.test("encoded commits concatenate into a response protobufjs decodes", () => {
  const items = [encodeGitCommit(full), encodeGitCommit({ id: "e".repeat(40) })];
  const message = repeatedField(1, items);
  const [body] = message.messages();
  assert.equal(message.count, 1);
  assert.equal(message.frames.readUInt32BE(1), body.byteLength);
  const listCommits = grpcServiceDefinition("gitaly.CommitService").ListCommits;
  assert.equal(listCommits.responseSerialize(message), message.frames);
  const decoded = listCommits.responseDeserialize(Buffer.from(body)) as {
    commits: { id: string }[];
  };
  assert.deepEqual(decoded.commits.map((c) => c.id), ["a".repeat(40), "e".repeat(40)]);
  const expected = messageType("gitaly.ListCommitsResponse");
  assert.deepEqual(
    Uint8Array.from(body),
    Uint8Array.from(
      expected.encode(expected.fromObject({ commits: [full, { id: "e".repeat(40) }] })).finish(),
    ),
  );
});
