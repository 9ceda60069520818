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
 * | `messy`    | 7 packs, ~1,300 loose objects, 3 unreachable blobs (housekeeping) |
 *
 * @module
 */
import { join } from "node:path";
import { gitEnv, PseudoRandom } from "../helpers/gitrepo.ts";
import { buildMessyRepo } from "../helpers/messy_repo.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Builds a fixture: creates the bare repository `repo`; `scratch` is an empty dir for keys etc. */
export type FixtureBuilder = (repo: string, scratch: string) => Promise<void>;

/** Every fixture by name. */
export const FIXTURES = {
  rich: buildRich,
  manyrefs: buildManyRefs,
  empty: buildEmpty,
  messy: buildMessy,
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
  const child = new Deno.Command("/usr/bin/git", {
    args: ["--git-dir", repo, ...args],
    env: gitEnv(options.env),
    clearEnv: true,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    const data = typeof options.stdin === "string" ? encoder.encode(options.stdin) : options.stdin;
    await writer.write(data);
    await writer.close();
  }
  const out = await child.output();
  if (!out.success) {
    throw new Error(`git ${args.join(" ")} failed: ${decoder.decode(out.stderr)}`);
  }
  return decoder.decode(out.stdout).replace(/\n$/, "");
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
class ImportStream {
  #parts: Uint8Array[] = [];
  #mark = 0;
  #tick = 0;

  blob(content: Bytes): number {
    const data = typeof content === "string" ? encoder.encode(content) : content;
    const mark = ++this.#mark;
    this.#push(`blob\nmark :${mark}\ndata ${data.byteLength}\n`, data, "\n");
    return mark;
  }

  /** A commit on `ref` after `parents` (first parent first); its date is the next minute. */
  commit(ref: string, message: Bytes, parents: number[], files: FileEntry[], extra = ""): number {
    const mark = ++this.#mark;
    const msg = typeof message === "string" ? encoder.encode(message) : message;
    const when = `${FIXTURE_EPOCH + 60 * ++this.#tick} +0100`;
    this.#push(
      `commit ${ref}\nmark :${mark}\n`,
      `author Ada Author <ada@example.com> ${when}\n`,
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
