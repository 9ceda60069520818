import { join } from "node:path";
import {
  extractCommitSignature,
  FALLBACK_TIMESTAMP,
  MAX_COMMIT_OR_TAG_MESSAGE_SIZE,
  parseAuthor,
  parseCommit,
  parseTrailers,
} from "../../src/git/commit_parser.ts";
import { extractTagSignature, parseTag, trimTagMessage } from "../../src/git/tag_parser.ts";
import { SignatureType } from "../../src/proto/types.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { git, gitOk } from "../helpers/gitrepo.ts";
import { makeSigningKeys, type SigningKeys } from "../helpers/signing.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const latin1 = new TextDecoder("latin1");

/** One repository for the whole file, with the objects the tests parse. */
interface Fixture {
  dir: string;
  repo: string;
  keys: SigningKeys;
  oids: Record<string, string>;
}

let fixture: Promise<Fixture> | undefined;

async function rawObject(repo: string, oid: string): Promise<Uint8Array> {
  const out = await new Deno.Command("git", {
    args: ["-C", repo, "cat-file", await gitOk(["-C", repo, "cat-file", "-t", oid]), oid],
    stdout: "piped",
  }).output();
  return out.stdout;
}

async function hashObject(repo: string, type: string, content: Uint8Array): Promise<string> {
  return await gitOk(["-C", repo, "hash-object", "-t", type, "-w", "--stdin"], { stdin: content });
}

function getFixture(): Promise<Fixture> {
  fixture ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "object-parser-" });
    const repo = join(dir, "repo");
    const keys = await makeSigningKeys();
    const env = keys.env;
    await gitOk(["init", "-q", repo]);
    const commit = async (args: string[], extra: string[] = []) => {
      await gitOk([...extra, "-C", repo, "commit", "-q", "--allow-empty", ...args], { env });
      return await gitOk(["-C", repo, "rev-parse", "HEAD"]);
    };
    const oids: Record<string, string> = {};
    oids.plain = await commit(["-m", "subject only"]);
    oids.body = await commit([
      "--cleanup=verbatim",
      "-m",
      "the subject\r",
      "-m",
      "body line 1\nbody line 2",
    ]);
    oids.trailers = await commit([
      "-m",
      "with trailers",
      "-m",
      "Signed-off-by: A <a@example.com>\nCo-authored-by: B <b@example.com>",
    ]);
    oids.gpg = await commit(["-S", "-m", "gpg signed"], keys.gpgConfig);
    oids.ssh = await commit(["-S", "-m", "ssh signed"], keys.sshConfig);
    const latinMessage = new Uint8Array([...encoder.encode("caf"), 0xe9, 0x0a]);
    await Deno.writeFile(join(dir, "latin1.txt"), latinMessage);
    oids.latin1 = await commit(["-F", join(dir, "latin1.txt")], [
      "-c",
      "i18n.commitEncoding=ISO-8859-1",
    ]);
    const big = "x".repeat(MAX_COMMIT_OR_TAG_MESSAGE_SIZE + 100);
    oids.big = await commit(["-m", big]);
    await gitOk(["-C", repo, "branch", "side", oids.plain]);
    await gitOk(["-C", repo, "checkout", "-q", "side"]);
    oids.side = await commit(["-m", "side"]);
    await gitOk(["-C", repo, "checkout", "-q", "-"]);
    await gitOk(["-C", repo, "merge", "-q", "--no-ff", "-m", "merge side", "side"]);
    oids.merge = await gitOk(["-C", repo, "rev-parse", "HEAD"]);
    await gitOk(["-C", repo, "tag", "-a", "-m", "annotated\n\n\n", "v1", oids.plain]);
    oids.tag = await gitOk(["-C", repo, "rev-parse", "v1"]);
    await gitOk([...keys.gpgConfig, "-C", repo, "tag", "-s", "-m", "gpg tag", "v2", oids.plain], {
      env,
    });
    oids.gpgTag = await gitOk(["-C", repo, "rev-parse", "v2"]);
    await gitOk([...keys.sshConfig, "-C", repo, "tag", "-s", "-m", "ssh tag", "v3", oids.plain], {
      env,
    });
    oids.sshTag = await gitOk(["-C", repo, "rev-parse", "v3"]);
    await gitOk(["-C", repo, "tag", "-a", "-m", "tag of tag", "v4", "v1"]);
    oids.tagOfTag = await gitOk(["-C", repo, "rev-parse", "v4"]);
    // Hand-made objects for what git does not write itself.
    const tree = await gitOk(["-C", repo, "rev-parse", `${oids.plain}^{tree}`]);
    oids.x509 = await hashObject(
      repo,
      "commit",
      encoder.encode(
        `tree ${tree}\nauthor A <a@x> 1 +0000\ncommitter C <c@x> 2 -0130\n` +
          `gpgsig -----BEGIN SIGNED MESSAGE-----\n MIIB\n -----END SIGNED MESSAGE-----\n\nx509\n`,
      ),
    );
    oids.noMessage = await hashObject(
      repo,
      "commit",
      encoder.encode(
        `tree ${tree}\nauthor A <a@x> 99999999999999999999 +0000\ncommitter C <c@x> -5 +0000\n`,
      ),
    );
    return { dir, repo, keys, oids };
  })();
  return fixture;
}

async function parsed(name: string) {
  const { repo, oids } = await getFixture();
  return parseCommit(oids[name], await rawObject(repo, oids[name]));
}

Deno.test("parseCommit: header fields, subject and body as git reports them", async () => {
  const { repo, oids } = await getFixture();
  const commit = await parsed("body");
  assertEquals(commit.id, oids.body);
  assertEquals(commit.tree_id, await gitOk(["-C", repo, "rev-parse", `${oids.body}^{tree}`]));
  assertEquals(commit.parent_ids, [oids.plain]);
  assertEquals(decoder.decode(commit.subject), "the subject");
  const raw = decoder.decode(await rawObject(repo, oids.body));
  assertEquals(decoder.decode(commit.body), raw.slice(raw.indexOf("\n\n") + 2));
  assert(decoder.decode(commit.body).startsWith("the subject\r\n"));
  assertEquals(commit.body_size, commit.body.length);
  assertEquals(decoder.decode(commit.author!.name), "Test Author");
  assertEquals(decoder.decode(commit.author!.email), "author@example.com");
  assertEquals(commit.author!.date, { seconds: 1700000000, nanos: 0 });
  assertEquals(decoder.decode(commit.author!.timezone), "+0000");
  assertEquals(decoder.decode(commit.committer!.name), "Test Committer");
  assertEquals(commit.signature_type, SignatureType.NONE);
  assertEquals(commit.encoding, "");
  assertEquals((await parsed("plain")).parent_ids, []);
  assertEquals(decoder.decode((await parsed("plain")).subject), "subject only");
});

Deno.test("parseCommit: merge commits list both parents in order", async () => {
  const { oids } = await getFixture();
  assertEquals((await parsed("merge")).parent_ids, [oids.big, oids.side]);
});

Deno.test("parseCommit: PGP, SSH and X509 signatures", async () => {
  assertEquals((await parsed("gpg")).signature_type, SignatureType.PGP);
  assertEquals((await parsed("ssh")).signature_type, SignatureType.SSH);
  const x509 = await parsed("x509");
  assertEquals(x509.signature_type, SignatureType.X509);
  assertEquals(decoder.decode(x509.committer!.timezone), "-0130");
  assertEquals(decoder.decode((await parsed("gpg")).subject), "gpg signed");
});

Deno.test("parseCommit: non-UTF-8 message bytes kept, encoding header reported", async () => {
  const commit = await parsed("latin1");
  assertEquals(commit.encoding, "ISO-8859-1");
  assertEquals(Array.from(commit.subject), [...encoder.encode("caf"), 0xe9]);
});

Deno.test("parseCommit: body cut at 10 KiB, body_size is the whole", async () => {
  const commit = await parsed("big");
  assertEquals(commit.body.length, MAX_COMMIT_OR_TAG_MESSAGE_SIZE);
  assertEquals(commit.body_size, MAX_COMMIT_OR_TAG_MESSAGE_SIZE + 101);
  assertEquals(commit.subject.length, MAX_COMMIT_OR_TAG_MESSAGE_SIZE + 100);
});

Deno.test("parseCommit: no message, bad timestamps fall back like Gitaly", async () => {
  const commit = await parsed("noMessage");
  assertEquals(commit.subject.length, 0);
  assertEquals(commit.body.length, 0);
  assertEquals(commit.body_size, 0);
  assertEquals(commit.author!.date!.seconds, FALLBACK_TIMESTAMP);
  assertEquals(commit.committer!.date!.seconds, FALLBACK_TIMESTAMP);
});

Deno.test("parseAuthor: lenient forms", () => {
  const author = (line: string) => {
    const a = parseAuthor(encoder.encode(line));
    return {
      name: latin1.decode(a.name),
      email: latin1.decode(a.email),
      date: a.date?.seconds,
      tz: latin1.decode(a.timezone),
    };
  };
  assertEquals(author("No Email"), { name: "No Email", email: "", date: undefined, tz: "" });
  assertEquals(author("A <a@x"), { name: "A", email: "", date: undefined, tz: "" });
  assertEquals(author("A <a@x>"), { name: "A", email: "a@x", date: undefined, tz: "" });
  assertEquals(author("A  <a@x> 12"), { name: "A ", email: "a@x", date: 12, tz: "" });
  assertEquals(author("A <a@x> +12 +0100 extra"), { name: "A", email: "a@x", date: 12, tz: "" });
  assertEquals(author("<a@x> abc +0100"), {
    name: "",
    email: "a@x",
    date: FALLBACK_TIMESTAMP,
    tz: "+0100",
  });
});

Deno.test("parseTrailers: git's trailer output with Gitaly's bounds", async () => {
  const { repo, oids } = await getFixture();
  const out = await gitOk([
    "-C",
    repo,
    "show",
    "--no-patch",
    "--format=%(trailers:unfold,separator=%x00)",
    oids.trailers,
  ]);
  const trailers = parseTrailers(encoder.encode(out)).map((
    t,
  ) => [decoder.decode(t.key), decoder.decode(t.value)]);
  assertEquals(trailers, [["Signed-off-by", "A <a@example.com>"], [
    "Co-authored-by",
    "B <b@example.com>",
  ]]);
  assertEquals(parseTrailers(encoder.encode(":x\0k: v ")).length, 1);
  assertEquals(parseTrailers(encoder.encode(`${"k".repeat(129)}: v\0a: b`)).length, 0);
  assertEquals(parseTrailers(encoder.encode(Array(70).fill("a: b").join("\0"))).length, 64);
});

Deno.test("extractCommitSignature: what git verify-commit checks", async () => {
  const { repo, oids } = await getFixture();
  for (const name of ["gpg", "ssh"]) {
    const raw = await rawObject(repo, oids[name]);
    const split = extractCommitSignature(raw);
    assert(split, `${name} has a signature`);
    const signature = decoder.decode(split.signature);
    assert(signature.startsWith("-----BEGIN ") && signature.endsWith("-----"), signature);
    // The signed text is the commit without its signature header, which is what
    // `git cat-file` shows after `git commit-tree` of the same content.
    const text = decoder.decode(split.signedText);
    assert(!text.includes("gpgsig") && !text.includes(" -----END"), text);
    assert(text.startsWith("tree ") && text.endsWith(`${name} signed\n`), text);
    const rebuilt = await hashObject(repo, "commit", split.signedText);
    const unsigned = await git(["-C", repo, "cat-file", "commit", rebuilt]);
    assertEquals(unsigned.stdout, text);
  }
  assertEquals(extractCommitSignature(await rawObject(repo, oids.plain)), null);
});

async function parsedTag(name: string) {
  const { repo, oids } = await getFixture();
  return parseTag(oids[name], await rawObject(repo, oids[name]));
}

Deno.test("parseTag: fields, message, target", async () => {
  const { oids } = await getFixture();
  const { tag, targetOid, targetType } = await parsedTag("tag");
  assertEquals(tag.id, oids.tag);
  assertEquals(decoder.decode(tag.name), "v1");
  assertEquals(decoder.decode(tag.message), "annotated\n");
  assertEquals(tag.message_size, "annotated\n".length);
  assertEquals(decoder.decode(tag.tagger!.name), "Test Committer");
  assertEquals(tag.signature_type, SignatureType.NONE);
  assertEquals([targetOid, targetType], [oids.plain, "commit"]);
  trimTagMessage(tag);
  assertEquals([decoder.decode(tag.message), tag.message_size], ["annotated", 9]);
  const ofTag = await parsedTag("tagOfTag");
  assertEquals([ofTag.targetOid, ofTag.targetType], [oids.tag, "tag"]);
  const named = parseTag(
    oids.tag,
    await rawObject((await getFixture()).repo, oids.tag),
    encoder.encode("refname"),
  );
  assertEquals(decoder.decode(named.tag.name), "refname");
});

Deno.test("parseTag: signature types and the signature/payload split", async () => {
  const { repo, oids } = await getFixture();
  assertEquals((await parsedTag("gpgTag")).tag.signature_type, SignatureType.PGP);
  assertEquals((await parsedTag("sshTag")).tag.signature_type, SignatureType.SSH);
  const raw = await rawObject(repo, oids.gpgTag);
  const { signature, payload } = extractTagSignature(raw);
  assert(signature !== null);
  assert(decoder.decode(signature).startsWith("-----BEGIN PGP SIGNATURE-----"));
  assert(decoder.decode(signature).endsWith("-----END PGP SIGNATURE-----"));
  assert(decoder.decode(payload).endsWith("gpg tag\n"));
  assertEquals(payload.length + signature.length + 1, raw.length);
  assertEquals(extractTagSignature(encoder.encode("-----BEGIN at start")).signature, null);
});

Deno.test("trimTagMessage: trailing newlines dropped before sizing, cut at 10 KiB", () => {
  const message = encoder.encode("y".repeat(MAX_COMMIT_OR_TAG_MESSAGE_SIZE + 5) + "\n\n");
  const tag =
    parseTag("0".repeat(40), new Uint8Array([...encoder.encode("object x\n\n"), ...message])).tag;
  assertEquals(tag.message_size, message.length);
  trimTagMessage(tag);
  assertEquals(tag.message_size, MAX_COMMIT_OR_TAG_MESSAGE_SIZE + 5);
  assertEquals(tag.message.length, MAX_COMMIT_OR_TAG_MESSAGE_SIZE);
});

Deno.test("object parsers: cleanup", async () => {
  if (!fixture) return;
  const { dir, keys } = await fixture;
  await keys.remove();
  await Deno.remove(dir, { recursive: true });
});
