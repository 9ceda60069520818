/**
 * CommitService handlers in process: trees, counts, blame, stats,
 * existence, signatures, messages and languages on one shared repository,
 * and their answers to bad input.
 *
 * @module
 */
import { assert, assertEquals } from "../../helpers/assert.ts";
import { type CallResult, handlerHarness, repository } from "../../helpers/handler.ts";

const CS = "gitaly.CommitService";
const b = (text: string) => new TextEncoder().encode(text);
/** A `bytes` field of a decoded response (base64) as text. */
const str = (value: unknown) =>
  new TextDecoder().decode(Uint8Array.from(atob(String(value ?? "")), (c) => c.charCodeAt(0)));
const h = await handlerHarness();
const repo = await h.createRepo("commit.git", async (git, path) => {
  const work = `${path}.work`;
  await git("init", "-q", "-b", "main", work);
  const w = (...args: string[]) => git("-C", work, ...args);
  await Deno.mkdir(`${work}/src/deep/er`, { recursive: true });
  await Deno.writeTextFile(`${work}/README.md`, "# readme\n");
  await Deno.writeTextFile(`${work}/src/main.go`, "package main\n\nfunc main() {}\n");
  await Deno.writeTextFile(`${work}/src/deep/er/x.py`, "print(1)\n");
  await Deno.writeTextFile(
    `${work}/lines.txt`,
    Array.from({ length: 5 }, (_, i) => `line ${i}\n`).join(""),
  );
  await w("add", ".");
  await w("commit", "-qm", "first");
  await Deno.writeTextFile(`${work}/src/main.go`, "package main\n\nfunc main() { println() }\n");
  await w("commit", "-qam", "second\n\nwith a body");
  await w("push", "-q", path, "main");
  await Deno.remove(work, { recursive: true });
});
const main = await runText("rev-parse", "main");
const first = await runText("rev-parse", "main~1");

async function runText(...args: string[]): Promise<string> {
  const out = await new Deno.Command("git", { args: ["--git-dir", h.repoPath(repo), ...args] })
    .output();
  return new TextDecoder().decode(out.stdout).trim();
}

/** Runs git in `target`'s directory; `stdin` as text. */
async function runIn(
  target: { relative_path: string },
  ...args: (string | { stdin: string })[]
): Promise<string> {
  const last = args[args.length - 1];
  const stdin = typeof last === "object" ? last.stdin : undefined;
  const argv = args.filter((a): a is string => typeof a === "string");
  const child = new Deno.Command("git", {
    args: ["--git-dir", h.repoPath(target), ...argv],
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    env: {
      GIT_AUTHOR_NAME: "A",
      GIT_AUTHOR_EMAIL: "a@x",
      GIT_COMMITTER_NAME: "C",
      GIT_COMMITTER_EMAIL: "c@x",
    },
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(b(stdin));
    await writer.close();
  }
  const out = await child.output();
  return new TextDecoder().decode(out.stdout).trim();
}

/** Cat-file processes the cache keeps idle (alive by design). */
function idleCatfiles(): number {
  return h.deps.catfile.stats().idle;
}

function failure(result: CallResult): [string, string] {
  assert(!result.ok, "expected an error");
  return [result.codeName, result.message];
}

Deno.test({
  name: "CommitService handlers",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(ctx) {
    await ctx.step("CommitIsAncestor", async () => {
      const yes = await h.call(CS, "CommitIsAncestor", {
        repository: repo,
        ancestor_id: first,
        child_id: main,
      });
      assertEquals(yes, { ok: true, responses: [{ value: true }] });
      const no = await h.call(CS, "CommitIsAncestor", {
        repository: repo,
        ancestor_id: main,
        child_id: first,
      });
      assertEquals(no, { ok: true, responses: [{ value: false }] });
      assertEquals(
        failure(await h.call(CS, "CommitIsAncestor", { repository: repo, child_id: main })),
        ["InvalidArgument", "empty ancestor sha"],
      );
      const dash = await h.call(CS, "CommitIsAncestor", {
        repository: repo,
        ancestor_id: "--all",
        child_id: main,
      });
      assertEquals(failure(dash)[0], "InvalidArgument");
    });

    await ctx.step("TreeEntry: blobs with limit and max_size, trees, missing paths", async () => {
      const blob = await h.call(CS, "TreeEntry", {
        repository: repo,
        revision: b("main"),
        path: b("README.md"),
      });
      assert(blob.ok);
      assertEquals(str(blob.responses[0].data), "# readme\n");
      assertEquals(blob.responses[0].type, 1);
      const cut = await h.call(CS, "TreeEntry", {
        repository: repo,
        revision: b("main"),
        path: b("README.md"),
        limit: 3,
      });
      assert(cut.ok);
      assertEquals(cut.responses.map((r) => str(r.data)).join(""), "# r");
      assertEquals(cut.responses[0].size, 9);
      assertEquals(
        failure(
          await h.call(CS, "TreeEntry", {
            repository: repo,
            revision: b("main"),
            path: b("README.md"),
            max_size: 2,
          }),
        ),
        ["FailedPrecondition", "object size (9) is bigger than the maximum allowed size (2)"],
      );
      const tree = await h.call(CS, "TreeEntry", {
        repository: repo,
        revision: b("main"),
        path: b("src/"),
      });
      assert(tree.ok);
      assertEquals(tree.responses[0].type, 2);
      for (const path of ["nope", "src/../README.md", "./README.md"]) {
        assertEquals(
          failure(
            await h.call(CS, "TreeEntry", { repository: repo, revision: b("main"), path: b(path) }),
          ),
          ["NotFound", "tree entry not found"],
        );
      }
      assertEquals(
        failure(
          await h.call(CS, "TreeEntry", {
            repository: repo,
            revision: b("main"),
            path: b("a"),
            limit: -1,
          }),
        ),
        ["InvalidArgument", "negative Limit"],
      );
    });

    await ctx.step("GetTreeEntries: flat paths, recursion, pagination", async () => {
      const root = await h.call(CS, "GetTreeEntries", {
        repository: repo,
        revision: b("main"),
        path: b("."),
      });
      assert(root.ok);
      const entries = root.responses.flatMap((r) => r.entries as Record<string, unknown>[]);
      const src = entries.find((e) => str(e.path) === "src")!;
      assertEquals(str(src.flat_path), "src");
      const inSrc = await h.call(CS, "GetTreeEntries", {
        repository: repo,
        revision: b("main"),
        path: b("src"),
      });
      assert(inSrc.ok);
      const deep = (inSrc.responses[0].entries as Record<string, unknown>[]).find((e) =>
        str(e.path) === "src/deep"
      )!;
      assertEquals(str(deep.flat_path), "src/deep/er");
      const all = await h.call(CS, "GetTreeEntries", {
        repository: repo,
        revision: b("main"),
        path: b("."),
        recursive: true,
      });
      assert(all.ok);
      assertEquals(
        all.responses.flatMap((r) => (r.entries as { path: string }[]).map((e) => str(e.path))),
        [
          "README.md",
          "lines.txt",
          "src",
          "src/deep",
          "src/deep/er",
          "src/deep/er/x.py",
          "src/main.go",
        ],
      );
      const page = await h.call(CS, "GetTreeEntries", {
        repository: repo,
        revision: b("main"),
        path: b("."),
        pagination_params: { limit: 1 },
      });
      assert(page.ok);
      const cursor = (page.responses[0].pagination_cursor as { next_cursor: string }).next_cursor;
      assertEquals(JSON.parse(atob(cursor)), { file_name: "README.md" });
      const next = await h.call(CS, "GetTreeEntries", {
        repository: repo,
        revision: b("main"),
        path: b("."),
        pagination_params: { limit: 1, page_token: cursor },
      });
      assert(next.ok);
      assertEquals(str((next.responses[0].entries as { path: string }[])[0].path), "lines.txt");
      const bad = await h.call(CS, "GetTreeEntries", {
        repository: repo,
        revision: b("nope"),
        path: b("."),
      });
      assertEquals(failure(bad), ["InvalidArgument", "invalid revision or path"]);
      assert(!bad.ok && bad.details[0].type === "gitaly.GetTreeEntriesError");
    });

    await ctx.step("CountCommits, CountDivergingCommits, ListFiles, CommitStats", async () => {
      assertEquals(
        await h.call(CS, "CountCommits", { repository: repo, revision: b("main") }),
        { ok: true, responses: [{ count: 2 }] },
      );
      assertEquals(
        await h.call(CS, "CountCommits", {
          repository: repo,
          revision: b("main"),
          path: b("README.md"),
        }),
        { ok: true, responses: [{ count: 1 }] },
      );
      assertEquals(
        await h.call(CS, "CountCommits", { repository: repo, revision: b("nope") }),
        { ok: true, responses: [{ count: 0 }] },
      );
      assertEquals(
        failure(await h.call(CS, "CountCommits", { repository: repo })),
        ["InvalidArgument", "empty Revision and false All"],
      );
      assertEquals(
        await h.call(CS, "CountDivergingCommits", {
          repository: repo,
          from: b("main"),
          to: b("main~1"),
        }),
        { ok: true, responses: [{ left_count: 1, right_count: 0 }] },
      );
      const files = await h.call(CS, "ListFiles", { repository: repo, revision: b("") });
      assert(files.ok);
      assertEquals(files.responses.flatMap((r) => (r.paths as string[]).map(str)), [
        "README.md",
        "lines.txt",
        "src/deep/er/x.py",
        "src/main.go",
      ]);
      assertEquals(await h.call(CS, "CommitStats", { repository: repo, revision: b("main") }), {
        ok: true,
        responses: [{ oid: main, additions: 1, deletions: 1 }],
      });
    });

    await ctx.step("RawBlame: ranges and errors with details", async () => {
      const blame = await h.call(CS, "RawBlame", {
        repository: repo,
        revision: b("main"),
        path: b("lines.txt"),
        range: b("2,3"),
      });
      assert(blame.ok);
      const text = blame.responses.map((r) => str(r.data)).join("");
      assert(
        text.includes("\tline 1\n") && text.includes("\tline 2\n") && !text.includes("line 3"),
      );
      const past = await h.call(CS, "RawBlame", {
        repository: repo,
        revision: b("main"),
        path: b("lines.txt"),
        range: b("9,10"),
      });
      assertEquals(failure(past), ["InvalidArgument", "range is outside of the file length"]);
      assert(!past.ok);
      assertEquals(past.details[0].value, { out_of_range: { actual_lines: 5 } });
      assertEquals(
        failure(
          await h.call(CS, "RawBlame", { repository: repo, revision: b("main"), path: b("nope") }),
        ),
        ["NotFound", "path not found in revision"],
      );
      assertEquals(
        failure(
          await h.call(CS, "RawBlame", { repository: repo, revision: b("main"), path: b("../x") }),
        ),
        ["InvalidArgument", "path escapes repository root"],
      );
      assertEquals(
        failure(
          await h.call(CS, "RawBlame", {
            repository: repo,
            revision: b("main"),
            path: b("lines.txt"),
            range: b("1,x"),
          }),
        ),
        ["InvalidArgument", "invalid Range"],
      );
    });

    await ctx.step("CheckObjectsExist, FilterShasWithSignatures, GetCommitMessages", async () => {
      const exist = await h.call(CS, "CheckObjectsExist", [
        { repository: repo, revisions: [b("main"), b("nope")] },
        { revisions: [b("main:README.md")] },
      ]);
      assert(exist.ok);
      assertEquals(
        exist.responses.flatMap((r) =>
          (r.revisions as { name: string; exists: boolean }[]).map((x) => [str(x.name), x.exists])
        ),
        [["main", true], ["nope", false], ["main:README.md", true]],
      );
      const signed = await h.call(CS, "FilterShasWithSignatures", [
        { repository: repo, shas: [b(main), b("nope")] },
      ]);
      assertEquals(signed, { ok: true, responses: [{}] });
      const messages = await h.call(CS, "GetCommitMessages", {
        repository: repo,
        commit_ids: [main],
      });
      assertEquals(messages, {
        ok: true,
        responses: [{ commit_id: main }, { message: btoa("second\n\nwith a body\n") }],
      });
    });

    await ctx.step("CommitLanguages", async () => {
      const languages = await h.call(CS, "CommitLanguages", {
        repository: repo,
        revision: b("main"),
      });
      assert(languages.ok);
      assertEquals(
        (languages.responses[0].languages as { name: string; bytes: number }[]).map((l) => [
          l.name,
          l.bytes,
        ]),
        [["Go", 40], ["Python", 9]],
      );
      // Cached: the same answer again, and for the parent commit (one blob differs).
      const again = await h.call(CS, "CommitLanguages", { repository: repo, revision: b("main") });
      assertEquals(again, languages);
      await Deno.stat(`${h.repoPath(repo)}/deno-gitaly-language.stats`);
      const parent = await h.call(CS, "CommitLanguages", {
        repository: repo,
        revision: b("main~1"),
      });
      assert(parent.ok);
      assertEquals(
        (parent.responses[0].languages as { name: string; bytes: number }[]).map((l) => [
          l.name,
          l.bytes,
        ]),
        [["Go", 29], ["Python", 9]],
      );
    });

    await ctx.step(
      "FindCommit, LastCommitForPath, ListLastCommitsForTree, ListCommitsBy*",
      async () => {
        const found = await h.call(CS, "FindCommit", { repository: repo, revision: b("main") });
        assert(found.ok);
        const commit = found.responses[0].commit as { id: string; parent_ids: string[] };
        assertEquals([commit.id, commit.parent_ids], [main, [first]]);
        assertEquals(
          await h.call(CS, "FindCommit", { repository: repo, revision: b("nope") }),
          { ok: true, responses: [{}] },
        );
        const last = await h.call(CS, "LastCommitForPath", {
          repository: repo,
          revision: b("main"),
          path: b("README.md"),
        });
        assert(last.ok);
        assertEquals((last.responses[0].commit as { id: string }).id, first);
        const tree = await h.call(CS, "ListLastCommitsForTree", {
          repository: repo,
          revision: "main",
          path: b("/"),
          limit: 10,
        });
        assert(tree.ok);
        assertEquals(
          (tree.responses[0].commits as { path_bytes: string; commit: { id: string } }[]).map((
            c,
          ) => [str(c.path_bytes), c.commit.id]),
          [["src", main], ["README.md", first], ["lines.txt", first]],
        );
        assertEquals(
          failure(
            await h.call(CS, "ListLastCommitsForTree", {
              repository: repo,
              revision: "main",
              limit: -1,
            }),
          ),
          ["InvalidArgument", "limit negative"],
        );
        const byOid = await h.call(CS, "ListCommitsByOid", {
          repository: repo,
          oid: [first, "nope", main],
        });
        assert(byOid.ok);
        assertEquals((byOid.responses[0].commits as { id: string }[]).map((c) => c.id), [
          first,
          main,
        ]);
        const byRef = await h.call(CS, "ListCommitsByRefName", {
          repository: repo,
          ref_names: [b("refs/heads/main"), b("refs/heads/nope")],
        });
        assert(byRef.ok);
        assertEquals(
          (byRef.responses[0].commit_refs as { ref_name: string }[]).map((c) => str(c.ref_name)),
          ["refs/heads/main"],
        );
      },
    );

    await ctx.step("a cancelled call leaves no git process behind", async () => {
      const big = await h.createRepo("big.git");
      const data = new Uint8Array(8 * 1024 * 1024).map((_, i) => i % 251);
      const file = await Deno.makeTempFile();
      await Deno.writeFile(file, data);
      const blobOid = await runIn(big, "hash-object", "-w", file);
      const tree = await runIn(big, "mktree", { stdin: `100644 blob ${blobOid}\tbig.bin\n` });
      const commit = await runIn(big, "commit-tree", "-m", "big", tree);
      await runIn(big, "update-ref", "refs/heads/main", commit);
      await Deno.remove(file);
      for (const method of ["TreeEntry", "RawBlame"] as const) {
        const controller = new AbortController();
        const call = h.call(CS, method, {
          repository: big,
          revision: b("main"),
          path: b("big.bin"),
        }, { signal: controller.signal });
        setTimeout(() => controller.abort(), 5);
        await call;
        for (let i = 0; i < 100 && h.deps.git.liveCount() > idleCatfiles(); i++) {
          await new Promise((r) => setTimeout(r, 20));
        }
        assertEquals(h.deps.catfile.stats().busy, 0, method);
        assertEquals(h.deps.git.liveCount(), idleCatfiles(), method);
      }
    });

    await ctx.step("a missing repository", async () => {
      const missing = repository("missing.git");
      for (
        const [method, request] of [
          ["TreeEntry", { repository: missing, revision: b("main"), path: b("a") }],
          ["CommitLanguages", { repository: missing }],
          ["ListFiles", { repository: missing }],
        ] as const
      ) {
        assertEquals(failure(await h.call(CS, method, request))[0], "NotFound");
      }
    });
  },
});

globalThis.addEventListener("unload", () => {
  h.close();
});
