import { assertEquals, assertGreater } from "../helpers/assert.ts";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { startTestServer } from "../helpers/server.ts";
import { codeOf, TestClient } from "../helpers/grpc.ts";
import { git as runGit, gitOk } from "../helpers/gitrepo.ts";

const svc = (m: string) => `/gitaly.RepositoryService/${m}`;
const enc = (s: string) => new TextEncoder().encode(s);

async function git(args: string[], cwd?: string): Promise<string> {
  const out = await new Deno.Command("git", {
    args,
    cwd,
    env: {
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@e",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@e",
    },
  }).output();
  if (!out.success) {
    throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout).trim();
}

for (const [format, formatEnum, oidLength] of [["sha1", 1, 40], ["sha256", 2, 64]] as const) {
  Deno.test(`repository lifecycle (${format}): create, exists, info, write ref, size, remove`, async () => {
    const server = await startTestServer();
    const client = new TestClient(server.unixAddress);
    const repository = { storage_name: "default", relative_path: `@hashed/ab/cd/${format}.git` };
    try {
      assertEquals((await client.unary(svc("RepositoryExists"), { repository })).exists, false);
      await client.unary(svc("CreateRepository"), {
        repository,
        default_branch: enc("trunk"),
        object_format: formatEnum,
      });
      assertEquals(
        await codeOf(client.unary(svc("CreateRepository"), { repository })),
        status.ALREADY_EXISTS,
      );
      assertEquals((await client.unary(svc("RepositoryExists"), { repository })).exists, true);
      assertEquals((await client.unary(svc("ObjectFormat"), { repository })).format, formatEnum);
      assertEquals((await client.unary(svc("HasLocalBranches"), { repository })).value, false);

      const repoPath = join(server.storagePaths.default, repository.relative_path);
      assertEquals(await git(["--git-dir", repoPath, "symbolic-ref", "HEAD"]), "refs/heads/trunk");
      const work = join(server.dir, "work");
      await git(["init", "-q", `--object-format=${format}`, work]);
      // Content that does not compress away: a new repository has no template files to count.
      const noise = Array.from(crypto.getRandomValues(new Uint8Array(8000)), (b) => b.toString(16));
      await Deno.writeTextFile(join(work, "f.txt"), noise.join("\n"));
      await git(["add", "."], work);
      await git(["commit", "-qm", "first"], work);
      await git(["push", "-q", repoPath, "HEAD:refs/heads/trunk"], work);
      const head = await git(["rev-parse", "HEAD"], work);
      assertEquals(head.length, oidLength);

      assertEquals((await client.unary(svc("HasLocalBranches"), { repository })).value, true);
      await client.unary(svc("WriteRef"), {
        repository,
        ref: enc("refs/heads/copy"),
        revision: enc(head),
      });
      assertEquals(await git(["--git-dir", repoPath, "rev-parse", "refs/heads/copy"]), head);
      await client.unary(svc("WriteRef"), {
        repository,
        ref: enc("HEAD"),
        revision: enc("refs/heads/copy"),
      });
      assertEquals(await git(["--git-dir", repoPath, "symbolic-ref", "HEAD"]), "refs/heads/copy");
      assertEquals(
        await codeOf(
          client.unary(svc("WriteRef"), { repository, ref: enc("copy"), revision: enc(head) }),
        ),
        status.INVALID_ARGUMENT,
      );
      assertEquals(
        await codeOf(
          client.unary(svc("WriteRef"), {
            repository,
            ref: enc("refs/heads/x"),
            revision: enc("-rf"),
          }),
        ),
        status.INVALID_ARGUMENT,
      );

      const info = await client.unary<Record<string, Record<string, number>> & { size: number }>(
        svc("RepositoryInfo"),
        { repository },
      );
      assertGreater(info.size, 0);
      assertGreater(info.references.loose_count, 0);
      assertGreater(info.objects.size, 0);
      assertGreater((await client.unary(svc("RepositorySize"), { repository })).size as number, 0);
      assertEquals(
        typeof (await client.unary(svc("GetObjectDirectorySize"), {
          repository: { ...repository, git_object_directory: "objects" },
        })).size,
        "number",
      );

      await client.unary(svc("RemoveRepository"), { repository });
      assertEquals((await client.unary(svc("RepositoryExists"), { repository })).exists, false);
      assertEquals(
        await codeOf(client.unary(svc("RemoveRepository"), { repository })),
        status.NOT_FOUND,
      );
      await git(["--git-dir", join(server.dir, "work", ".git"), "fsck", "--full"]);
    } finally {
      client.close();
      await server.stop();
    }
  });
}

Deno.test("an RPC we have not built answers Unimplemented", async () => {
  // VoteTransaction is Praefect's: a Gitaly node never serves it.
  const server = await startTestServer();
  const client = new TestClient(server.unixAddress);
  try {
    const repository = { storage_name: "default", relative_path: "x.git" };
    assertEquals(
      await codeOf(client.unary("/gitaly.RefTransaction/VoteTransaction", { repository })),
      status.UNIMPLEMENTED,
    );
  } finally {
    client.close();
    await server.stop();
  }
});

Deno.test("CreateRepository points HEAD where Gitaly 16.7 does; a clone after pushing main checks it out", async () => {
  const server = await startTestServer();
  const client = new TestClient(server.unixAddress);
  const root = server.storagePaths.default;
  const head = (path: string) => gitOk(["--git-dir", join(root, path), "symbolic-ref", "HEAD"]);
  const create = (relative_path: string, branch?: string) =>
    client.unary(svc("CreateRepository"), {
      repository: { storage_name: "default", relative_path },
      ...(branch === undefined ? {} : { default_branch: enc(branch) }),
    });
  try {
    // The machine's git would pick `master`; Gitaly (and we) start on `main`.
    await create("none.git");
    assertEquals(await head("none.git"), "refs/heads/main");
    await create("empty.git", "");
    assertEquals(await head("empty.git"), "refs/heads/main");
    await create("develop.git", "develop");
    assertEquals(await head("develop.git"), "refs/heads/develop");
    // The name is taken as a branch name, full ref or not, as Gitaly takes it.
    await create("full.git", "refs/heads/foo");
    assertEquals(await head("full.git"), "refs/heads/refs/heads/foo");
    // A name git refuses is the caller's mistake; nothing is left behind.
    assertEquals(await codeOf(create("bad.git", "a b")), status.INVALID_ARGUMENT);
    assertEquals(await codeOf(create("bad.git", "x..y")), status.INVALID_ARGUMENT);
    assertEquals(await Deno.stat(join(root, "bad.git")).then(() => true, () => false), false);

    const work = join(server.dir, "work");
    await gitOk(["init", "-q", "--initial-branch=main", work]);
    await Deno.writeTextFile(join(work, "f.txt"), "hello\n");
    await gitOk(["add", "."], { cwd: work });
    await gitOk(["commit", "-qm", "first"], { cwd: work });
    await gitOk(["push", "-q", join(root, "none.git"), "main"], { cwd: work });
    const clone = await runGit(["clone", join(root, "none.git"), join(server.dir, "clone")]);
    assertEquals(clone.code, 0, clone.stderr);
    assertEquals(
      clone.stderr.includes("remote HEAD refers to nonexistent ref"),
      false,
      clone.stderr,
    );
    assertEquals(
      await gitOk(["-C", join(server.dir, "clone"), "branch", "--show-current"]),
      "main",
    );
    assertEquals(await Deno.readTextFile(join(server.dir, "clone", "f.txt")), "hello\n");
  } finally {
    client.close();
    await server.stop();
  }
});
