/**
 * Fixture repositories of the differential tests, each built by a function
 * with the system's git (`git fast-import` for the history, plumbing for
 * signatures and refs), so every fixture is quick to make. Dates and names
 * are fixed: object ids are the same on every run, except those of signed
 * objects (the GPG and SSH keys are made afresh for each build).
 *
 * | fixture    | what it holds                                                     |
 * |------------|-------------------------------------------------------------------|
 * | `rich`     | {@link buildRich}: branches, tags, merges, signatures, odd blobs |
 * | `manyrefs` | {@link buildManyRefs}: 1,100 branches and 1,100 tags             |
 * | `empty`    | an empty bare repository, HEAD → refs/heads/main                  |
 * | `history`  | {@link buildHistory}: deep history, renames, merges, blame, languages |
 * | `log`      | {@link buildLog}: deeper history, renames, merges, 2 authors, big messages |
 * | `messy`    | 7 packs, ~1,300 loose objects, 3 unreachable blobs (housekeeping) |
 * | `merges`   | `buildMerges` (merge_fixture.ts): branches to merge, fast-forward and rebase |
 *
 * @module
 */
import { join } from "node:path";
import { gitEnv, gitOk, PseudoRandom } from "../helpers/gitrepo.ts";
import { buildMessyRepo } from "../helpers/messy_repo.ts";
import { buildMerges } from "./merge_fixture.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Builds a fixture: creates the bare repository `repo`; `scratch` is an empty dir for keys etc. */
export type FixtureBuilder = (repo: string, scratch: string) => Promise<void>;

/** Every fixture by name. */
export const FIXTURES = {
  rich: buildRich,
  manyrefs: buildManyRefs,
  empty: buildEmpty,
  history: buildHistory,
  log: buildLog,
  messy: buildMessy,
  merges: buildMerges,
} as const satisfies Record<string, FixtureBuilder>;

/** Many packs and loose objects: work for OptimizeRepository. */
async function buildMessy(repo: string): Promise<void> {
  await initBare(repo);
  await buildMessyRepo(repo, { packs: 7, looseObjects: 1300, unreachable: 3 });
}

/** The name of a fixture (`"rich"`, `"manyrefs"`, `"empty"`, `"messy"`). */
export type FixtureName = keyof typeof FIXTURES;

/** The epoch second of the first fixture commit; commit `n` is `n` minutes later. */
export const FIXTURE_EPOCH = 1_700_000_000;

/** Sizes and names the tests can rely on. */
export const RICH = {
  /** Size of `large.bin` on main (deterministic pseudo-random bytes). */
  largeBlobSize: 5 * 1024 * 1024,
  /** The gitlink's path and target on main. */
  submodulePath: "vendor/lib",
  submoduleOid: "1234567890abcdef1234567890abcdef12345678",
  /** A Latin-1 file name on main (`café.txt`, é as the byte 0xE9). */
  latin1FileName: new Uint8Array([...encoder.encode("files/caf"), 0xe9, ...encoder.encode(".txt")]),
  /** Branches fully merged into main / not merged. */
  mergedBranches: ["feature/merged", "feature/fast-forward", "feature/stale"],
  unmergedBranches: ["feature/unmerged", "feature/ünicode", "orphan"],
  /** Branches whose tip commit is signed. */
  signedBranches: { gpg: "signed/gpg", ssh: "signed/ssh" },
} as const;

/** Runs `git --git-dir repo args…` with the fixed identity; returns stdout; throws on failure. */
export async function fixtureGit(
  repo: string,
  args: string[],
  options: { stdin?: Uint8Array | string; env?: Record<string, string> } = {},
): Promise<string> {
  return await gitOk(["--git-dir", repo, ...args], { ...options, bin: "/usr/bin/git" });
}

async function run(command: string, args: string[], env: Record<string, string>): Promise<void> {
  const out = await new Deno.Command(command, { args, env, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) throw new Error(`${command} ${args.join(" ")}: ${decoder.decode(out.stderr)}`);
}

async function initBare(repo: string): Promise<void> {
  await run("/usr/bin/git", ["init", "--bare", "--quiet", "--initial-branch=main", repo], gitEnv());
}

/** The empty fixture: `git init --bare`, HEAD → refs/heads/main. */
export async function buildEmpty(repo: string): Promise<void> {
  await initBare(repo);
}

type Bytes = Uint8Array | string;
type FileEntry = { path: Bytes; mode?: "100644" | "100755" | "120000"; blob: number } | {
  path: Bytes;
  gitlink: string;
} | { path: Bytes; delete: true };

/** A `git fast-import` stream: raw byte paths and messages, merges, gitlinks, tags. */
export class ImportStream {
  #parts: Uint8Array[] = [];
  #mark = 0;
  #tick = 0;

  blob(content: Bytes): number {
    const data = typeof content === "string" ? encoder.encode(content) : content;
    const mark = ++this.#mark;
    this.#push(`blob\nmark :${mark}\ndata ${data.byteLength}\n`, data, "\n");
    return mark;
  }

  /**
   * A commit on `ref` after `parents` (first parent first); its date is the
   * next minute unless `date` (`<seconds> <±hhmm>`) is given; `author`
   * defaults to Ada Author.
   */
  commit(
    ref: string,
    message: Bytes,
    parents: number[],
    files: FileEntry[],
    extra = "",
    author = "Ada Author <ada@example.com>",
    date?: string,
  ): number {
    const mark = ++this.#mark;
    const msg = typeof message === "string" ? encoder.encode(message) : message;
    const tick = `${FIXTURE_EPOCH + 60 * ++this.#tick} +0100`;
    const when = date ?? tick;
    this.#push(
      `commit ${ref}\nmark :${mark}\n`,
      `author ${author} ${when}\n`,
      `committer Carl Committer <carl@example.com> ${when}\n`,
      extra,
      `data ${msg.byteLength}\n`,
      msg,
      "\n",
    );
    parents.forEach((p, i) => this.#push(`${i === 0 ? "from" : "merge"} :${p}\n`));
    for (const file of files) {
      const path = typeof file.path === "string" ? encoder.encode(file.path) : file.path;
      if ("delete" in file) this.#push("D ", path, "\n");
      else if ("gitlink" in file) this.#push(`M 160000 ${file.gitlink} `, path, "\n");
      else this.#push(`M ${file.mode ?? "100644"} :${file.blob} `, path, "\n");
    }
    this.#push("\n");
    return mark;
  }

  /** An annotated tag `name` of `target` (a mark), by the fixed tagger. */
  tag(name: string, target: number, message: string): void {
    const msg = encoder.encode(message);
    this.#push(
      `tag ${name}\nfrom :${target}\n`,
      `tagger Tina Tagger <tina@example.com> ${FIXTURE_EPOCH + 60 * ++this.#tick} +0000\n`,
      `data ${msg.byteLength}\n`,
      msg,
      "\n",
    );
  }

  /** Points `ref` at `target` (a mark). */
  reset(ref: string, target: number): void {
    this.#push(`reset ${ref}\nfrom :${target}\n\n`);
  }

  /** Runs fast-import on `repo`. */
  async importInto(repo: string): Promise<void> {
    const size = this.#parts.reduce((n, p) => n + p.byteLength, 0);
    const all = new Uint8Array(size + 5);
    let at = 0;
    for (const part of this.#parts) {
      all.set(part, at);
      at += part.byteLength;
    }
    all.set(encoder.encode("done\n"), at);
    await fixtureGit(repo, ["fast-import", "--quiet", "--done"], { stdin: all });
  }

  #push(...parts: Bytes[]): void {
    for (const part of parts) {
      this.#parts.push(typeof part === "string" ? encoder.encode(part) : part);
    }
  }
}

const LFS_VERSION = "version https://git-lfs.github.com/spec/v1\n";

/** A valid Git LFS pointer to `size` bytes whose sha256 is `hex` repeated to 64 digits. */
export function lfsPointer(hex: string, size: number): string {
  return `${LFS_VERSION}oid sha256:${hex.repeat(64).slice(0, 64)}\nsize ${size}\n`;
}

/**
 * The `rich` fixture. main: initial commit (README, a binary blob, an
 * executable, a symlink), a 5 MiB blob and LFS pointers (two valid, three
 * near-pointers), a commit with a Latin-1 file name and a Latin-1 message
 * (no encoding header), one with `encoding ISO-8859-1`, a merge of
 * `feature/merged`, a gitlink with .gitmodules, a commit with trailers.
 * Branches: merged ones (`feature/merged`, `feature/fast-forward`,
 * `feature/stale`), unmerged ones (`feature/unmerged`, `feature/ünicode`,
 * `orphan`), `signed/gpg` and `signed/ssh` (tips signed). Tags: annotated
 * `v1.0.0`, lightweight `v1.1.0`, annotated `v2.0.0`, `v1.0.0-outer` (a tag
 * of `v1.0.0`), GPG-signed `v2.0.0-signed`, `blob-tag` (lightweight, of a
 * blob), `tree-tag` (annotated, of a tree). Other refs:
 * `refs/remotes/origin/{main,feature/unmerged,HEAD→main}`,
 * `refs/keep-around/<oid>`, `refs/merge-requests/1/head`,
 * `refs/environments/production/deployments/1`. Part of the refs are
 * packed, the rest loose; most objects packed, the signed ones loose.
 */
export async function buildRich(repo: string, scratch: string): Promise<void> {
  await initBare(repo);
  const s = new ImportStream();
  const readme = s.blob("# Rich fixture\n\nA repository for differential tests.\n");
  const binary = s.blob(new Uint8Array(Array.from({ length: 1024 }, (_, i) => (i * 7) % 256)));
  const script = s.blob("#!/bin/sh\necho hello\n");
  const link = s.blob("README.md");
  const c1 = s.commit("refs/heads/main", "Initial commit\n", [], [
    { path: "README.md", blob: readme },
    { path: "bin/blob.bin", blob: binary },
    { path: "bin/run.sh", mode: "100755", blob: script },
    { path: "link-to-readme", mode: "120000", blob: link },
  ]);
  const stale = c1;

  const large = s.blob(new PseudoRandom(7).bytes(RICH.largeBlobSize));
  const lfs = [
    lfsPointer("a1", 12345),
    lfsPointer("b2", 7),
    // near-pointers: a short oid, no size line, trailing garbage
    `${LFS_VERSION}oid sha256:abc\nsize 3\n`,
    `${LFS_VERSION}oid sha256:${"c3".repeat(32)}\n`,
    `${lfsPointer("d4", 99)}extra line\n`,
  ].map((text) => s.blob(text));
  const c2 = s.commit("refs/heads/main", "Add a large blob and LFS pointers\n", [c1], [
    { path: "large.bin", blob: large },
    { path: "lfs/valid-1.bin", blob: lfs[0] },
    { path: "lfs/valid-2.bin", blob: lfs[1] },
    { path: "lfs/invalid-short-oid.bin", blob: lfs[2] },
    { path: "lfs/invalid-no-size.bin", blob: lfs[3] },
    { path: "lfs/invalid-trailing.bin", blob: lfs[4] },
  ]);

  const merged1 = s.commit("refs/heads/feature/merged", "Feature: first step\n", [c2], [
    { path: "feature/one.txt", blob: s.blob("one\n") },
  ]);
  const merged2 = s.commit("refs/heads/feature/merged", "Feature: second step\n", [merged1], [
    { path: "feature/two.txt", blob: s.blob("two\n") },
  ]);

  const latin1 = (before: string, after: string) =>
    new Uint8Array([...encoder.encode(before), 0xe9, ...encoder.encode(after)]);
  const c3 = s.commit(
    "refs/heads/main",
    latin1("Latin-1 file name: caf", "\n\nNo encoding header: this message is not UTF-8.\n"),
    [c2],
    [{ path: RICH.latin1FileName, blob: s.blob(latin1("caf", "\n")) }],
  );
  const c4 = s.commit(
    "refs/heads/main",
    new Uint8Array([
      ...encoder.encode("Encoded in ISO-8859-1: na"),
      0xef,
      ...encoder.encode("ve\n"),
    ]),
    [c3],
    [{ path: "README.md", blob: s.blob("# Rich fixture\n\nNow with more words.\n") }],
    "encoding ISO-8859-1\n",
  );
  const unmerged1 = s.commit("refs/heads/feature/unmerged", "Unmerged: change README\n", [c3], [
    { path: "README.md", blob: s.blob("# Rich fixture\n\nChanged on a branch.\n") },
  ]);
  const unmerged2 = s.commit("refs/heads/feature/unmerged", "Unmerged: delete a file\n", [
    unmerged1,
  ], [{ path: "bin/run.sh", delete: true }]);
  const m1 = s.commit("refs/heads/main", "Merge branch 'feature/merged'\n", [c4, merged2], []);
  const c5 = s.commit("refs/heads/main", "Add a submodule\n", [m1], [
    {
      path: ".gitmodules",
      blob: s.blob(`[submodule "lib"]\n\tpath = ${RICH.submodulePath}\n\turl = ../lib.git\n`),
    },
    { path: RICH.submodulePath, gitlink: RICH.submoduleOid },
  ]);
  const c6 = s.commit(
    "refs/heads/main",
    "Add a changelog\n\nWith a body that spans\ntwo lines.\n\nSigned-off-by: Ada Author <ada@example.com>\n" +
      "Reviewed-by: Carl Committer <carl@example.com>\n",
    [c5],
    [{ path: "CHANGELOG.md", blob: s.blob("## 2.0.0\n\n- everything\n") }],
  );
  s.reset("refs/heads/feature/fast-forward", c5);
  s.reset("refs/heads/feature/stale", stale);
  s.commit("refs/heads/feature/ünicode", "Ünicode branch\n", [c6], [
    { path: "ünicode.txt", blob: s.blob("ü\n") },
  ]);
  s.commit("refs/heads/orphan", "An unrelated root commit\n", [], [
    { path: "ORPHAN", blob: s.blob("alone\n") },
  ]);

  s.tag("v1.0.0", c2, "Version 1.0.0\n");
  s.reset("refs/tags/v1.1.0", m1);
  s.tag("v2.0.0", c6, "Version 2.0.0\n\nThe big one.\n");
  s.reset("refs/remotes/origin/main", c4);
  s.reset("refs/remotes/origin/feature/unmerged", unmerged2);
  s.reset("refs/merge-requests/1/head", unmerged2);
  s.reset("refs/environments/production/deployments/1", c5);
  await s.importInto(repo);

  const git = (args: string[], stdin?: string, env?: Record<string, string>) =>
    fixtureGit(repo, args, { stdin, env });
  await git(["repack", "-a", "-d", "-q"]);
  await git(["pack-refs", "--all"]);
  await git(["symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main"]);
  const initial = await git(["rev-list", "--max-parents=0", "main"]);
  await git(["update-ref", `refs/keep-around/${initial}`, initial]);
  await git(["update-ref", "refs/tags/blob-tag", `${initial}:README.md`]);
  const treeOfV1 = await git(["rev-parse", "v1.0.0^{tree}"]);
  await git(["tag", "-a", "-m", "A tag of a tree\n", "tree-tag", treeOfV1]);
  await git(["tag", "-a", "-m", "A tag of a tag\n", "v1.0.0-outer", "v1.0.0"]);
  await signed(repo, scratch);
}

/** The GPG-signed and SSH-signed commits and the GPG-signed tag of {@link buildRich}. */
async function signed(repo: string, scratch: string): Promise<void> {
  const gnupg = join(scratch, "gnupg");
  await Deno.mkdir(gnupg, { mode: 0o700 });
  const env = { ...gitEnv(), GNUPGHOME: gnupg };
  const sshKey = join(scratch, "ssh_key");
  try {
    await signWithKeys(repo, gnupg, sshKey, env);
  } finally {
    // gpg started an agent for this GNUPGHOME: leave no process behind
    await run("gpgconf", ["--kill", "gpg-agent"], env).catch(() => {});
  }
}

async function signWithKeys(
  repo: string,
  gnupg: string,
  sshKey: string,
  env: Record<string, string>,
): Promise<void> {
  await run("gpg", [
    "--batch",
    "--passphrase",
    "",
    "--quick-gen-key",
    "Gina Signer <gina@example.com>",
    "ed25519",
    "sign",
    "never",
  ], env);
  await run(
    "ssh-keygen",
    ["-q", "-t", "ed25519", "-N", "", "-C", "sam@example.com", "-f", sshKey],
    env,
  );

  const git = (args: string[]) => fixtureGit(repo, args, { env: { GNUPGHOME: gnupg } });
  const main = await git(["rev-parse", "main"]);
  const tree = await git(["rev-parse", "main^{tree}"]);
  const gpgCommit = await git([
    "commit-tree",
    "-Sgina@example.com",
    "-p",
    main,
    "-m",
    "A GPG-signed commit",
    tree,
  ]);
  await git(["update-ref", `refs/heads/${RICH.signedBranches.gpg}`, gpgCommit]);
  const sshCommit = await git([
    "-c",
    "gpg.format=ssh",
    "-c",
    `user.signingkey=${sshKey}`,
    "commit-tree",
    "-S",
    "-p",
    main,
    "-m",
    "An SSH-signed commit",
    tree,
  ]);
  await git(["update-ref", `refs/heads/${RICH.signedBranches.ssh}`, sshCommit]);
  await git(["tag", "-u", "gina@example.com", "-m", "A signed tag", "v2.0.0-signed", "main"]);
}

/**
 * The `manyrefs` fixture: main with 20 commits; `refs/heads/branch-0000`…
 * `branch-1099` and `refs/tags/tag-0000`…`tag-1099` (lightweight) spread over
 * them, plus annotated `annotated-000`…`annotated-099`; all packed except
 * the last 50 branches and tags, which stay loose.
 */
export async function buildManyRefs(repo: string): Promise<void> {
  await initBare(repo);
  const s = new ImportStream();
  const commits: number[] = [];
  for (let i = 0; i < 20; i++) {
    commits.push(
      s.commit("refs/heads/main", `Commit ${i}\n`, i === 0 ? [] : [commits[i - 1]], [
        { path: "counter.txt", blob: s.blob(`${i}\n`) },
      ]),
    );
  }
  for (let i = 0; i < 100; i++) {
    s.tag(`annotated-${String(i).padStart(3, "0")}`, commits[i % 20], `Annotated ${i}\n`);
  }
  await s.importInto(repo);
  const oids = (await fixtureGit(repo, ["rev-list", "--reverse", "main"])).split("\n");
  const lines = (count: number, from: number, kind: string) =>
    Array.from({ length: count }, (_, k) => {
      const i = from + k;
      return `create refs/${kind}-${String(i).padStart(4, "0")} ${oids[(i * 7) % oids.length]}\n`;
    }).join("");
  await fixtureGit(repo, ["update-ref", "--stdin"], {
    stdin: lines(1050, 0, "heads/branch") + lines(1050, 0, "tags/tag"),
  });
  await fixtureGit(repo, ["pack-refs", "--all"]);
  await fixtureGit(repo, ["update-ref", "--stdin"], {
    stdin: lines(50, 1050, "heads/branch") + lines(50, 1050, "tags/tag"),
  });
}

/** Sizes and names of the `history` fixture the tests can rely on. */
export const HISTORY = {
  /** Commits of the first-parent chain that edit `counter.txt`. */
  deepCommits: 200,
  /** The 10,000-line file and how many commits edit it. */
  bigFile: "src/big.txt",
  bigFileLines: 10_000,
  bigFileEdits: 40,
  /** Renamed in two steps: `docs/old-name.md` → `docs/mid-name.md` → `guide/new-name.md`. */
  renamedFile: "guide/new-name.md",
  /** A Latin-1 directory and file name (é as the byte 0xE9). */
  latin1Dir: new Uint8Array([...encoder.encode("caf"), 0xe9]),
} as const;

/** One file per language (and a few that must not count), for CommitLanguages. */
const LANGUAGE_FILES: Record<string, string> = {
  "src/main.c": '#include <stdio.h>\nint main(void) { printf("hi\\n"); return 0; }\n',
  "src/util.h": "#ifndef UTIL_H\n#define UTIL_H\nint add(int a, int b);\n#endif\n",
  "src/widget.cpp": "#include <vector>\nclass Widget { public: std::vector<int> v; };\n",
  "lib/app.rb": "class App\n  def run\n    puts 'hi'\n  end\nend\n".repeat(3),
  "app.py": "def main():\n    print('hi')\n\nif __name__ == '__main__':\n    main()\n".repeat(4),
  "main.go": 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hi") }\n'.repeat(2),
  "web/index.js": "export function hello() {\n  return 'hi';\n}\n".repeat(5),
  "web/style.css": "body {\n  color: red;\n}\n".repeat(6),
  "web/page.html": "<!DOCTYPE html>\n<html><body><p>hi</p></body></html>\n",
  "java/Main.java": "public class Main {\n  public static void main(String[] a) {}\n}\n",
  "lib.rs": 'fn main() {\n    println!("hi");\n}\n',
  "scripts/run.sh": "#!/bin/sh\necho hi\n",
  "scripts/tool": "#!/usr/bin/env python3\nprint('tool')\n",
  "web/app.ts": "export const x: number = 1;\n".repeat(3),
  "dotnet/Program.cs": "using System;\nclass P { static void Main() { Console.WriteLine(1); } }\n",
  "kt/App.kt": 'fun main() {\n    println("hi")\n}\n',
  "swift/main.swift": 'import Foundation\nprint("hi")\n',
  "php/index.php": "<?php\necho 'hi';\n",
  "lua/mod.lua": "local M = {}\nfunction M.hi() return 'hi' end\nreturn M\n",
  "hs/Main.hs": 'module Main where\nmain :: IO ()\nmain = putStrLn "hi"\n',
  "ex/app.ex": "defmodule App do\n  def hi, do: :hi\nend\n",
  "Makefile": "all:\n\techo hi\n",
  "Dockerfile": "FROM debian:12\nRUN true\n",
  "config.yml": "key: value\n",
  "data.json": '{"a": 1}\n',
  "notes.txt": "plain text\n",
  "special/counted.txt": "text counted through linguist-detectable\n",
  "legacy/old.py": "print('vendored by attribute')\n",
  "gen2/out.js": "var generatedByAttribute = 1;\n",
  "php/page.inc": "<?php echo 'language by attribute';\n",
  "vendor/jquery.js": "/* vendored */ var jQuery = {};\n",
  "node_modules/pkg/index.js": "module.exports = 1;\n",
  "dist/bundle.min.js": "var a=1;".repeat(40) + "\n",
  "gen/api.pb.go": "// Code generated by protoc-gen-go. DO NOT EDIT.\npackage gen\n",
  "docs/guide.md": "# Guide\n",
  "README.md": "# History fixture\n",
  ".gitattributes": "special/*.txt linguist-detectable\nlegacy/** linguist-vendored\n" +
    "gen2/*.js linguist-generated\n*.inc linguist-language=PHP\n",
};

/**
 * The `history` fixture: on main a first-parent chain of {@link HISTORY}.deepCommits
 * commits editing `counter.txt`, a 10,000-line file edited by 40 commits
 * (blame spans them all), a file renamed twice, a branch merged twice
 * (`topic`, so history has second parents), a binary file that changes, a
 * submodule, a Latin-1 directory, and files in twenty-odd languages with
 * vendored, documentation and generated ones and `.gitattributes`
 * overrides. Branches: `main`, `topic`, `languages` (the language files
 * only).
 */
export async function buildHistory(repo: string): Promise<void> {
  await initBare(repo);
  const s = new ImportStream();
  const random = new PseudoRandom(11);
  const line = (i: number, rev: number) => `line ${i} revision ${rev}\n`;
  const big = (edits: number) => {
    let text = "";
    for (let i = 0; i < HISTORY.bigFileLines; i++) {
      // edit k rewrites lines [k*250, k*250+100)
      const k = Math.floor(i / 250);
      const rev = k < edits && i % 250 < 100 ? k + 1 : 0;
      text += line(i, rev);
    }
    return text;
  };
  const languages = Object.entries(LANGUAGE_FILES).map(([path, text]) => ({
    path,
    blob: s.blob(text),
  }));
  let tip = s.commit("refs/heads/main", "Initial commit\n", [], [
    { path: "counter.txt", blob: s.blob("0\n") },
    { path: HISTORY.bigFile, blob: s.blob(big(0)) },
    {
      path: "docs/old-name.md",
      blob: s.blob("# A document that moves\n\n" + "Some text.\n".repeat(30)),
    },
    { path: "bin/data.bin", blob: s.blob(random.bytes(4096)) },
    {
      path: new Uint8Array([...HISTORY.latin1Dir, ...encoder.encode("/menu.txt")]),
      blob: s.blob("croissant\n"),
    },
    ...languages,
  ]);
  s.reset("refs/heads/languages", tip);
  let topic = tip;
  for (let n = 1; n <= HISTORY.deepCommits; n++) {
    const files: FileEntry[] = [{ path: "counter.txt", blob: s.blob(`${n}\n`) }];
    if (n <= HISTORY.bigFileEdits) files.push({ path: HISTORY.bigFile, blob: s.blob(big(n)) });
    if (n === 50) {
      files.push({ path: "docs/old-name.md", delete: true }, {
        path: "docs/mid-name.md",
        blob: s.blob("# A document that moves\n\n" + "Some text.\n".repeat(30)),
      });
    }
    if (n === 120) {
      files.push({ path: "docs/mid-name.md", delete: true }, {
        path: HISTORY.renamedFile,
        blob: s.blob("# A document that moved\n\n" + "Some text.\n".repeat(30)),
      });
    }
    if (n === 80) files.push({ path: "bin/data.bin", blob: s.blob(random.bytes(4096)) });
    if (n === 90) {
      files.push({ path: "vendor/sub", gitlink: "1234567890abcdef1234567890abcdef12345678" });
    }
    if (n === 60 || n === 150) {
      topic = s.commit("refs/heads/topic", `Topic work before ${n}\n`, [topic], [
        { path: `topic/${n}.txt`, blob: s.blob(`topic ${n}\n`) },
      ]);
      tip = s.commit("refs/heads/main", `Merge branch 'topic' (${n})\n`, [tip, topic], []);
    }
    tip = s.commit("refs/heads/main", `Commit ${n}\n`, [tip], files);
  }
  await s.importInto(repo);
  await fixtureGit(repo, ["repack", "-a", "-d", "-q"]);
}

/** Sizes and names of the `log` fixture the tests can rely on. */
export const LOG = {
  /** Commits on main's first-parent line before the merges. */
  linearCommits: 120,
  /** Files in `tree/` (one commit each). */
  treeEntries: 40,
  /** The renamed file's names, oldest first. */
  renames: ["docs/old-name.md", "docs/middle-name.md", "docs/new-name.md"],
  /** Author of every third commit of the linear part. */
  otherAuthor: "Bob Builder <bob@example.com>",
  /** Commits on `big-messages`, each with a 14 KiB message (more than 1 MiB in all). */
  bigMessages: 100,
  /** Branches whose tip has a (not verifiable) signature header of each kind. */
  fakeSignatures: {
    "sig/x509": "gpgsig -----BEGIN SIGNED MESSAGE-----\n MIIB\n -----END SIGNED MESSAGE-----",
    "sig/pgp-message": "gpgsig -----BEGIN PGP MESSAGE-----\n owGb\n -----END PGP MESSAGE-----",
    "sig/sha256":
      "gpgsig-sha256 -----BEGIN PGP SIGNATURE-----\n iQEz\n -----END PGP SIGNATURE-----",
    "sig/unknown": "gpgsig -----BEGIN SOMETHING-----\n abcd\n -----END SOMETHING-----",
    "sig/two": "gpgsig -----BEGIN SSH SIGNATURE-----\n U1NI\n -----END SSH SIGNATURE-----\n" +
      "gpgsig -----BEGIN PGP SIGNATURE-----\n iQEz\n -----END PGP SIGNATURE-----",
    "sig/empty": "gpgsig ",
  },
} as const;

/**
 * The `log` fixture. main: 120 commits changing `src/file-<n>.txt`
 * (n = 0…9) in turn, every third by Bob Builder, some messages mentioning
 * "fix" or "Feature"; a file renamed twice with edits between (for
 * `follow`); `tree/` with 40 files added one a commit; then a non-fast-
 * forward merge of `topic` (3 commits) and a merge of `side` into main
 * whose first parent is main; `topic` and `side` remain as branches;
 * `big-messages` (100 commits with 14 KiB messages, from commit 50);
 * `sig/*`: hand-made commits on main with signature headers of each kind
 * ({@link LOG}.fakeSignatures). Tags `h-v1` (lightweight, at commit
 * 50) and `h-v2` (annotated, at main).
 */
export async function buildLog(repo: string): Promise<void> {
  await initBare(repo);
  const s = new ImportStream();
  let tip = 0;
  const parentsOf = () => tip === 0 ? [] : [tip];
  const blobs = new Map<string, number>();
  const blob = (content: string) => {
    let mark = blobs.get(content);
    if (mark === undefined) blobs.set(content, mark = s.blob(content));
    return mark;
  };
  let atFifty = 0;
  for (let i = 0; i < LOG.linearCommits; i++) {
    const file = `src/file-${i % 10}.txt`;
    const word = i % 7 === 0 ? "fix" : i % 11 === 0 ? "Feature" : "change";
    const files: FileEntry[] = [{ path: file, blob: blob(`${file} version ${i}\n`) }];
    if (i === 10) files.push({ path: LOG.renames[0], blob: blob("# Docs\n\nfirst\n") });
    if (i === 30) {
      files.push({ path: LOG.renames[0], delete: true }, {
        path: LOG.renames[1],
        blob: blob("# Docs\n\nfirst\n"),
      });
    }
    if (i === 40) files.push({ path: LOG.renames[1], blob: blob("# Docs\n\nfirst\nsecond\n") });
    if (i === 60) {
      files.push({ path: LOG.renames[1], delete: true }, {
        path: LOG.renames[2],
        blob: blob("# Docs\n\nfirst\nsecond\n"),
      });
    }
    if (i === 70) {
      files.push({ path: LOG.renames[2], blob: blob("# Docs\n\nfirst\nsecond\nthird\n") });
    }
    const author = i % 3 === 0 ? LOG.otherAuthor : undefined;
    tip = s.commit("refs/heads/main", `${word} ${i}: ${file}\n`, parentsOf(), files, "", author);
    if (i === 50) atFifty = tip;
  }
  for (let i = 0; i < LOG.treeEntries; i++) {
    const path = `tree/entry-${String(i).padStart(2, "0")}.txt`;
    tip = s.commit("refs/heads/main", `Add ${path}\n`, parentsOf(), [
      { path, blob: blob(`${path}\n`) },
    ]);
  }
  let topic = tip;
  for (let i = 0; i < 3; i++) {
    topic = s.commit("refs/heads/topic", `Topic ${i}\n`, [topic], [
      { path: `topic/${i}.txt`, blob: blob(`topic ${i}\n`) },
    ]);
  }
  tip = s.commit("refs/heads/main", "Touch src/file-0.txt on main\n", parentsOf(), [
    { path: "src/file-0.txt", blob: blob("src/file-0.txt on main\n") },
  ]);
  tip = s.commit("refs/heads/main", "Merge branch 'topic'\n", [tip, topic], [
    { path: "topic/0.txt", blob: blob("topic 0\n") },
  ]);
  const side = s.commit("refs/heads/side", "Side: change src/file-1.txt\n", [atFifty], [
    { path: "src/file-1.txt", blob: blob("src/file-1.txt on side\n") },
  ]);
  tip = s.commit("refs/heads/main", "Merge branch 'side'\n\nKeeps main's file-1.\n", [
    tip,
    side,
  ], []);
  let big = atFifty;
  for (let i = 0; i < LOG.bigMessages; i++) {
    const message = `Big message ${i}\n\n${`line ${i} of a long body\n`.repeat(600)}`;
    big = s.commit("refs/heads/big-messages", message, [big], [
      { path: "big.txt", blob: blob(`big ${i}\n`) },
    ]);
  }
  s.reset("refs/tags/h-v1", atFifty);
  s.tag("h-v2", tip, "History v2\n");
  await s.importInto(repo);
  await fixtureGit(repo, ["repack", "-a", "-d", "-q"]);
  await fixtureGit(repo, ["pack-refs", "--all"]);
  // Signature headers of each kind Gitaly tells apart, on hand-made commits.
  const tree = await fixtureGit(repo, ["rev-parse", "main^{tree}"]);
  const head = await fixtureGit(repo, ["rev-parse", "main"]);
  for (const [branch, header] of Object.entries(LOG.fakeSignatures)) {
    const raw = `tree ${tree}\nparent ${head}\n` +
      `author Ada Author <ada@example.com> ${FIXTURE_EPOCH + 600_000} +0100\n` +
      `committer Carl Committer <carl@example.com> ${FIXTURE_EPOCH + 600_000} +0100\n` +
      `${header}\n\nA commit with a ${branch} header\n`;
    const oid = await fixtureGit(repo, ["hash-object", "-t", "commit", "-w", "--stdin"], {
      stdin: raw,
    });
    await fixtureGit(repo, ["update-ref", `refs/heads/${branch}`, oid]);
  }
}
