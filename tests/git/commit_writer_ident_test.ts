/**
 * The commit writer's idents and dates as Gitaly 16.7 with git 2.42 write
 * them, on our git 2.39: dots at the ends of names and emails kept,
 * Gitaly's sanitizing, crud-only names refused, early dates, and local
 * times before 1970 refused as git refuses Gitaly's date string.
 */
import { assertEquals, assertRejects } from "../helpers/assert.ts";
import { gitEnv, gitOk } from "../helpers/gitrepo.ts";
import {
  DisallowedCharactersError,
  envDate,
  type Signature,
  writeCommit,
} from "../../src/git/commit_writer.ts";
import { testRunner, withTempDir } from "./helpers.ts";

const env = gitEnv();
const EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

/** The author line of a commit written by `signature` in a fresh repository. */
async function authorLine(signature: Signature): Promise<string> {
  return await withTempDir(async (dir) => {
    await gitOk(["init", "-q", "--bare", dir], { env });
    await gitOk(["--git-dir", dir, "hash-object", "-t", "tree", "-w", "/dev/null"], { env });
    const oid = await writeCommit(testRunner(), dir, {
      tree: EMPTY_TREE,
      author: signature,
      committer: signature,
      message: "m",
    });
    const raw = await gitOk(["--git-dir", dir, "cat-file", "commit", oid], { env });
    assertEquals(raw.split("\n")[2], raw.split("\n")[1].replace(/^author/, "committer"));
    return raw.split("\n")[1];
  });
}

const at = (name: string, email: string, seconds = 1_700_000_000, offsetMinutes = 60) => ({
  name,
  email,
  seconds,
  offsetMinutes,
});

Deno.test("writeCommit keeps dots at the ends of names and emails, as git 2.42", async () => {
  assertEquals(
    await authorLine(at("Jane Doe Jr.", ".jane@example.com.")),
    "author Jane Doe Jr. <.jane@example.com.> 1700000000 +0100",
  );
  assertEquals(
    await authorLine(at(" ;Jane, Doe.; ", " jane@example.com ")),
    "author Jane, Doe. <jane@example.com> 1700000000 +0100",
  );
  assertEquals(await authorLine(at("...", "x")), "author ... <x> 1700000000 +0100");
  assertEquals(await authorLine(at("J<a>n\ne", "a@b")), "author Jane <a@b> 1700000000 +0100");
});

Deno.test("writeCommit refuses what Gitaly refuses", async () => {
  await assertRejects(authorLine(at(",", "x")), DisallowedCharactersError);
  await assertRejects(authorLine(at("<>", "x")), /missing author name/);
});

Deno.test("writeCommit dates: early ones, and local times before 1970", async () => {
  assertEquals(await authorLine(at("Jane", "j", 12)), "author Jane <j> 12 +0100");
  assertEquals(envDate({ seconds: 12, offsetMinutes: 60 }), "Thu Jan 1 1970 01:00:12 +0100");
  assertEquals(
    envDate({ seconds: 1_700_000_000, offsetMinutes: -210 }),
    "Tue Nov 14 2023 18:43:20 -0330",
  );
  await assertRejects(authorLine(at("Jane", "j", 12, -210)), /invalid date format/);
});
