/**
 * ConflictsService against the reference: ListConflictFiles (headers,
 * labelled content, chunking, tree conflicts, encodings, errors) and
 * ResolveConflicts (the resolved merge commit and the source branch,
 * resolution errors, bad JSON, errors) on copies of one conflict
 * repository built with fast-import (fixed dates: identical object ids on
 * both sides). Both servers use the same GitLab API double for the hooks.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { assert, assertEquals } from "../helpers/assert.ts";
import { concatBytes } from "../../src/git/command.ts";
import { encodeGitalyServers } from "../../src/service/remote/gitaly_servers.ts";
import { fixtureGit } from "./fixtures.ts";
import {
  configureOperationServers,
  denyAccess,
  installCustomHook,
  withGlRepository,
} from "./operation_harness.ts";
import {
  assertSame,
  type CallResult,
  differentialTest,
  type Harness,
  type RepoRef,
  type Side,
  SIDES,
} from "./harness.ts";

configureOperationServers();

/** A file's content, or null to delete it. */
type Files = Record<string, string | Uint8Array | null>;

interface CommitSpec {
  branch: string;
  /** Index of the parent commit in the list (none: a root commit). */
  parent?: number;
  files: Files;
  message: string;
  /** Paths written with mode 100644 even if {@link EXECUTABLE}. */
  plain?: string[];
  /** Submodule entries: path → commit id. */
  gitlinks?: Record<string, string>;
}

const lines = (...items: string[]) => items.map((l) => `${l}\n`).join("");
const TEN = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
const replaced = (at: Record<number, string>) => lines(...TEN.map((l, i) => at[i + 1] ?? l));
/** About 300 KiB of short lines: several 128 KiB content pieces, over the resolve limit. */
const bigLines = (tag: string) =>
  Array.from({ length: 12_000 }, (_, i) => i === 5000 ? `${tag}\n` : `line ${i} of big\n`)
    .join("");
const binary = (tag: number) => new Uint8Array([0xff, 0xfe, 0, 1, 2, tag, 0x0a, 0xe9, 0x0a]);

const BASE: Files = {
  "f.txt": lines(...TEN),
  "g.txt": lines("one", "two", "three"),
  "del.txt": lines("del"),
  "ren.txt": lines("ren", "ren2", "ren3", "ren4"),
  "same.txt": lines("keep"),
  "dir/deep.txt": lines("x", "y", "z"),
  "big.txt": bigLines("base"),
  "bin.dat": binary(0),
  "crlf.txt": "A\r\nB\r\nC\r\nD\r\nE\r\n",
  "nonl.txt": "A\nB",
  "exec.sh": lines("#!/bin/sh", "echo base"),
};

/** The history: `base`, then pairs of branches that conflict in different ways. */
const COMMITS: CommitSpec[] = [
  { branch: "main", files: BASE, message: "base" },
  // 1, 2: content conflicts only
  {
    branch: "content-ours",
    parent: 0,
    files: {
      "f.txt": replaced({ 2: "B-ours", 8: "H-ours" }),
      "g.txt": lines("one", "TWO-ours", "three"),
      "dir/deep.txt": lines("x", "Y-ours", "z"),
      "crlf.txt": "A\r\nB\r\nC-ours\r\nD\r\nE\r\n",
      "nonl.txt": "A-ours\nB",
      "same.txt": lines("keep", "ours only"),
    },
    message: "ours",
  },
  {
    branch: "content-theirs",
    parent: 0,
    files: {
      "f.txt": replaced({ 2: "B-theirs", 8: "H-theirs" }),
      "g.txt": lines("one", "TWO-theirs", "three"),
      "dir/deep.txt": lines("x", "Y-theirs", "z"),
      "crlf.txt": "A\r\nB\r\nC-theirs\r\nD\r\nE\r\n",
      "nonl.txt": "A-theirs\nB",
    },
    message: "theirs",
  },
  // 3, 4: tree conflicts (modify/delete, rename/rename) next to a content conflict
  {
    branch: "tree-ours",
    parent: 0,
    files: {
      "del.txt": lines("del-ours"),
      "ren.txt": null,
      "ren-ours.txt": BASE["ren.txt"],
      "g.txt": lines("one", "TWO-ours", "three"),
    },
    message: "tree ours",
  },
  {
    branch: "tree-theirs",
    parent: 0,
    files: {
      "del.txt": null,
      "ren.txt": null,
      "ren-theirs.txt": BASE["ren.txt"],
      "g.txt": lines("one", "TWO-theirs", "three"),
    },
    message: "tree theirs",
  },
  // 5, 6: a large conflicting file
  { branch: "big-ours", parent: 0, files: { "big.txt": bigLines("ours") }, message: "big ours" },
  {
    branch: "big-theirs",
    parent: 0,
    files: { "big.txt": bigLines("theirs") },
    message: "big theirs",
  },
  // 7, 8: a binary conflicting file
  { branch: "bin-ours", parent: 0, files: { "bin.dat": binary(1) }, message: "bin ours" },
  { branch: "bin-theirs", parent: 0, files: { "bin.dat": binary(2) }, message: "bin theirs" },
  // 9: unrelated history (add/add conflicts)
  {
    branch: "orphan",
    files: { "f.txt": lines("orphan"), "other.txt": lines("o") },
    message: "orphan",
  },
  // 10: no conflict with main
  { branch: "clean", parent: 0, files: { "new.txt": lines("new") }, message: "clean" },
  // 11, 12: a mode conflict and a content conflict in an executable
  {
    branch: "mode-ours",
    parent: 0,
    files: { "exec.sh": lines("#!/bin/sh", "echo ours") },
    message: "mode ours",
  },
  {
    branch: "mode-theirs",
    parent: 0,
    files: { "exec.sh": lines("#!/bin/sh", "echo theirs") },
    plain: ["exec.sh"],
    message: "mode theirs",
  },
  // 13, 14: a large content conflict before a tree conflict
  {
    branch: "mid-ours",
    parent: 0,
    files: { "big.txt": bigLines("ours"), "del.txt": lines("del-ours") },
    message: "mid ours",
  },
  {
    branch: "mid-theirs",
    parent: 0,
    files: { "big.txt": bigLines("theirs"), "del.txt": null },
    message: "mid theirs",
  },
  // 15, 16: both add a submodule at the same path, next to a content conflict
  {
    branch: "sub-ours",
    parent: 0,
    files: { "g.txt": lines("one", "TWO-ours", "three") },
    gitlinks: { "vendor/lib": "a".repeat(40) },
    message: "sub ours",
  },
  {
    branch: "sub-theirs",
    parent: 0,
    files: { "g.txt": lines("one", "TWO-theirs", "three") },
    gitlinks: { "vendor/lib": "b".repeat(40) },
    message: "sub theirs",
  },
  // 17, 18: ours renames and changes a file, theirs changes it in place
  {
    branch: "rename-ours",
    parent: 0,
    files: { "ren.txt": null, "ren-moved.txt": lines("ren", "ren2-ours", "ren3", "ren4") },
    message: "rename ours",
  },
  {
    branch: "rename-theirs",
    parent: 0,
    files: { "ren.txt": lines("ren", "ren2-theirs", "ren3", "ren4") },
    message: "rename theirs",
  },
];
/** Files written with mode 100755 (by path). */
const EXECUTABLE = new Set(["exec.sh"]);

/** The fast-import stream of the commits `only` (default: all; parents must be included). */
function fastImport(only?: number[]): Uint8Array {
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  const push = (s: string | Uint8Array) =>
    parts.push(typeof s === "string" ? encoder.encode(s) : s);
  COMMITS.forEach((commit, i) => {
    if (only && !only.includes(i)) return;
    const when = 1_700_000_000 + i * 60;
    push(`commit refs/heads/${commit.branch}\nmark :${i + 1}\n`);
    push(`author Alice <alice@example.com> ${when} +0000\n`);
    push(`committer Alice <alice@example.com> ${when} +0000\n`);
    push(`data ${encoder.encode(commit.message).byteLength}\n${commit.message}\n`);
    if (commit.parent !== undefined) push(`from :${commit.parent + 1}\n`);
    for (const [path, content] of Object.entries(commit.files)) {
      if (content === null) {
        push(`D ${path}\n`);
        continue;
      }
      const data = typeof content === "string" ? encoder.encode(content) : content;
      push(
        `M ${
          EXECUTABLE.has(path) && !commit.plain?.includes(path) ? "100755" : "100644"
        } inline ${path}\ndata ${data.byteLength}\n`,
      );
      push(data);
      push("\n");
    }
    for (const [path, oid] of Object.entries(commit.gitlinks ?? {})) {
      push(`M 160000 ${oid} ${path}\n`);
    }
  });
  return concatBytes(parts);
}

/** A fresh copy of the conflict repository on both sides (`only` some of its commits). */
async function conflictRepo(h: Harness, only?: number[]): Promise<RepoRef> {
  const repo = await h.repo("empty");
  const stream = fastImport(only);
  await Promise.all(SIDES.map(async (side) => {
    await fixtureGit(h.gitDir(side, repo), ["fast-import", "--quiet"], { stdin: stream });
  }));
  return repo;
}

let shared: Promise<RepoRef> | undefined;
/** One copy for the read-only calls of the whole file. */
function sharedRepo(h: Harness): Promise<RepoRef> {
  shared ??= conflictRepo(h);
  return shared;
}

async function oid(h: Harness, repo: RepoRef, rev: string): Promise<string> {
  return (await h.git("reference", repo, ["rev-parse", rev])).trim();
}

/** The line code GitLab uses for a conflict section. */
function section(path: string, ours: number, theirs: number): string {
  return `${createHash("sha1").update(path).digest("hex")}_${ours}_${theirs}`;
}

const list = (
  repo: RepoRef,
  ours: string,
  theirs: string,
  extra: Record<string, unknown> = {},
) => ({
  repository: repo,
  our_commit_oid: ours,
  their_commit_oid: theirs,
  ...extra,
});

// ListConflictFiles

differentialTest("ListConflictFiles: content conflicts, chunked as Gitaly does", async (h) => {
  const repo = await sharedRepo(h);
  const { reference } = await h.compare(
    "gitaly.ConflictsService",
    "ListConflictFiles",
    list(repo, "content-ours", "content-theirs"),
    { join: "none" },
  );
  assert(reference.ok);
  const text = JSON.stringify(reference.responses);
  assert(text.includes("<<<<<<< f.txt"), text);
});

differentialTest("ListConflictFiles: by commit id, skip content", async (h) => {
  const repo = await sharedRepo(h);
  const ours = await oid(h, repo, "content-ours");
  const theirs = await oid(h, repo, "content-theirs");
  for (const skip of [false, true]) {
    await h.compare(
      "gitaly.ConflictsService",
      "ListConflictFiles",
      list(repo, ours, theirs, { skip_content: skip }),
      { join: "none" },
    );
  }
});

differentialTest("ListConflictFiles: tree conflicts refused unless allowed", async (h) => {
  const repo = await sharedRepo(h);
  for (const allow of [false, true]) {
    for (const [ours, theirs] of [["tree-ours", "tree-theirs"], ["tree-theirs", "tree-ours"]]) {
      await h.compare(
        "gitaly.ConflictsService",
        "ListConflictFiles",
        list(repo, ours, theirs, { allow_tree_conflicts: allow }),
        { join: "none" },
      );
    }
  }
});

differentialTest("ListConflictFiles: a large file in several messages", async (h) => {
  const repo = await sharedRepo(h);
  const { reference } = await h.compare(
    "gitaly.ConflictsService",
    "ListConflictFiles",
    list(repo, "big-ours", "big-theirs"),
    { join: "none" },
  );
  assert(reference.ok && (reference.responses as unknown[]).length > 1);
});

differentialTest("ListConflictFiles: binary content, unrelated histories, modes", async (h) => {
  const repo = await sharedRepo(h);
  for (
    const [ours, theirs, extra] of [
      ["bin-ours", "bin-theirs", {}],
      ["bin-ours", "bin-theirs", { skip_content: true }],
      ["main", "orphan", {}],
      ["orphan", "content-ours", { allow_tree_conflicts: true }],
      ["mode-ours", "mode-theirs", {}],
      ["mode-theirs", "mode-ours", {}],
      ["mid-ours", "mid-theirs", {}],
      ["mid-ours", "mid-theirs", { allow_tree_conflicts: true }],
      ["sub-ours", "sub-theirs", {}],
      ["sub-ours", "sub-theirs", { skip_content: true }],
      ["rename-ours", "rename-theirs", {}],
      ["rename-theirs", "rename-ours", {}],
      ["main", "clean", {}],
      ["content-ours", "content-ours", {}],
    ] as const
  ) {
    await h.compare(
      "gitaly.ConflictsService",
      "ListConflictFiles",
      list(repo, ours, theirs, extra),
      { join: "none" },
    );
  }
});

differentialTest("ListConflictFiles: bad requests", async (h) => {
  const repo = await sharedRepo(h);
  const cases = [
    list(repo, "", "content-theirs"),
    list(repo, "content-ours", ""),
    list(repo, "nope", "content-theirs"),
    list(repo, "content-ours", "nope"),
    list(repo, "main^{tree}", "content-theirs"),
    list(repo, "-x", "content-theirs"),
    list(repo, "content-ours", "0".repeat(40)),
    list(repo, "content-ours\nmain", "content-theirs"),
    list(repo, "main:f.txt", "content-theirs"),
    list(repo, "content-ours", "HEAD"),
    list({ storage_name: "default", relative_path: "missing.git" }, "a", "b"),
    list({ storage_name: "nope", relative_path: repo.relative_path }, "a", "b"),
    { our_commit_oid: "a", their_commit_oid: "b" },
  ];
  for (const request of cases) {
    await h.compare("gitaly.ConflictsService", "ListConflictFiles", request, { join: "none" });
  }
});

// ResolveConflicts

const USER = {
  gl_id: "user-1",
  name: "Jane Doe",
  email: "jane@example.com",
  gl_username: "jane",
  timezone: "Europe/Berlin",
};

interface ResolveCase {
  ours: string;
  theirs: string;
  source?: string;
  target?: string;
  files: unknown;
  /** Split the JSON into pieces of this size. */
  split?: number;
  header?: Record<string, unknown>;
  /** Leave out the gitaly-servers metadata. */
  noServers?: boolean;
  /** The target repository (default: the repository itself). */
  targetRepo?: RepoRef;
}

/** Calls ResolveConflicts on both sides (each with its own gitaly-servers); compares outcomes and refs. */
async function compareResolve(
  h: Harness,
  repo: RepoRef,
  c: ResolveCase,
): Promise<Record<Side, CallResult>> {
  const ours = c.ours.length === 40 ? c.ours : await oid(h, repo, c.ours);
  const theirs = c.theirs.length === 40 ? c.theirs : await oid(h, c.targetRepo ?? repo, c.theirs);
  const json = typeof c.files === "string" ? c.files : JSON.stringify(c.files);
  const split = c.split ?? 1 << 20;
  const chunks: { files_json: string }[] = [];
  for (let at = 0; at < json.length; at += split) {
    chunks.push({ files_json: json.slice(at, at + split) });
  }
  const repository = withGlRepository(repo);
  const header = {
    repository,
    target_repository: c.targetRepo ?? repository,
    our_commit_oid: ours,
    their_commit_oid: theirs,
    source_branch: c.source ?? c.ours,
    target_branch: c.target ?? c.theirs,
    commit_message: "Resolve conflicts\n\nWith a body.",
    user: USER,
    timestamp: { seconds: 1_700_100_000, nanos: 0 },
    ...c.header,
  };
  const results = {} as Record<Side, CallResult>;
  for (const side of SIDES) {
    const metadata: Record<string, string> = c.noServers ? {} : {
      "gitaly-servers": encodeGitalyServers({ default: { address: h.addresses[side], token: "" } }),
    };
    results[side] = await h.callSide(side, "gitaly.ConflictsService", "ResolveConflicts", [
      { header },
      ...chunks,
    ], { metadata });
  }
  assertSame(results.ours, results.reference, "ResolveConflicts");
  await h.compareRefs(repo);
  return results;
}

const F_SECTIONS = {
  old_path: "f.txt",
  new_path: "f.txt",
  sections: { [section("f.txt", 2, 2)]: "head", [section("f.txt", 8, 8)]: "origin" },
};
const CONTENT_RESOLUTIONS = [
  F_SECTIONS,
  { old_path: "g.txt", new_path: "g.txt", content: "one\nresolved\nthree\n" },
  {
    old_path: "dir/deep.txt",
    new_path: "dir/deep.txt",
    sections: { [section("dir/deep.txt", 2, 2)]: "origin" },
  },
  {
    old_path: "crlf.txt",
    new_path: "crlf.txt",
    sections: { [section("crlf.txt", 3, 3)]: "origin" },
  },
  {
    old_path: "nonl.txt",
    new_path: "nonl.txt",
    sections: { [section("nonl.txt", 1, 1)]: "head" },
  },
];

differentialTest("ResolveConflicts: sections and content, JSON in pieces", async (h) => {
  const repo = await conflictRepo(h);
  const before = await oid(h, repo, "content-ours");
  const results = await compareResolve(h, repo, {
    ours: "content-ours",
    theirs: "content-theirs",
    files: CONTENT_RESOLUTIONS,
    split: 50,
  });
  assertEquals(results.reference, { ok: true, responses: [{ resolution_error: "" }] });
  const after = await oid(h, repo, "content-ours");
  assert(after !== before, "the source branch moved");
  for (const path of ["f.txt", "crlf.txt", "nonl.txt"]) {
    const [a, b] = await Promise.all(
      SIDES.map((side) => h.git(side, repo, ["cat-file", "-p", `content-ours:${path}`])),
    );
    assertEquals(a, b, path);
  }
});

differentialTest("ResolveConflicts: tree conflicts resolved with content", async (h) => {
  const repo = await conflictRepo(h);
  const resolutions = [
    { old_path: "g.txt", new_path: "g.txt", sections: { [section("g.txt", 2, 2)]: "head" } },
    { old_path: "del.txt", new_path: "del.txt", content: "kept\n" },
    { old_path: "ren-ours.txt", new_path: "ren-ours.txt", content: "renamed\n" },
  ];
  const tree = { ours: "tree-ours", theirs: "tree-theirs" };
  // ren.txt (gone from the merged tree) and ren-theirs.txt unresolved
  await compareResolve(h, repo, {
    ...tree,
    files: [...resolutions, {
      old_path: "ren-theirs.txt",
      new_path: "ren-theirs.txt",
      content: "x\n",
    }],
  });
  await compareResolve(h, repo, {
    ...tree,
    files: [...resolutions, { old_path: "ren.txt", new_path: "ren.txt", content: "x\n" }],
  });
  await compareResolve(h, repo, {
    ...tree,
    files: [
      ...resolutions,
      { old_path: "ren-theirs.txt", new_path: "ren-theirs.txt", content: "x\n" },
      { old_path: "ren.txt", new_path: "ren.txt", content: "x\n" },
    ],
  });
});

differentialTest("ResolveConflicts: a file renamed on one side", async (h) => {
  const repo = await conflictRepo(h);
  const moved = "ren-moved.txt";
  for (
    const resolution of [
      { old_path: moved, new_path: "ren.txt", sections: { [section(moved, 2, 2)]: "head" } },
      { old_path: moved, new_path: "ren.txt", content: "resolved\n" },
    ]
  ) {
    await compareResolve(h, repo, {
      ours: "rename-ours",
      theirs: "rename-theirs",
      files: [resolution],
    });
  }
});

differentialTest("ResolveConflicts: resolution errors", async (h) => {
  const repo = await conflictRepo(h);
  const cases: unknown[] = [
    // a file left out
    CONTENT_RESOLUTIONS.filter((r) => r.old_path !== "g.txt"),
    // a section left out
    [
      { ...F_SECTIONS, sections: { [section("f.txt", 2, 2)]: "head" } },
      ...CONTENT_RESOLUTIONS.slice(1),
    ],
    // a section with neither side
    [{
      ...F_SECTIONS,
      sections: { [section("f.txt", 2, 2)]: "both", [section("f.txt", 8, 8)]: "head" },
    }, ...CONTENT_RESOLUTIONS.slice(1)],
  ];
  for (const files of cases) {
    const { reference } = await compareResolve(h, repo, {
      ours: "content-ours",
      theirs: "content-theirs",
      files,
    });
    assert(reference.ok, JSON.stringify(reference));
  }
});

differentialTest("ResolveConflicts: content without changes", async (h) => {
  const repo = await conflictRepo(h);
  const listed = await h.callSide(
    "reference",
    "gitaly.ConflictsService",
    "ListConflictFiles",
    list(repo, "content-ours", "content-theirs"),
  );
  assert(listed.ok);
  // The content of g.txt as listed (markers labelled with paths).
  const files =
    (listed.responses as { files: { header?: { our_path: string }; content?: string }[] }[])
      .flatMap((r) => r.files);
  const at = files.findIndex((f) => f.header?.our_path === "g.txt");
  const content = files.slice(at + 1).find((f) => f.content)!.content!;
  await compareResolve(h, repo, {
    ours: "content-ours",
    theirs: "content-theirs",
    files: [...CONTENT_RESOLUTIONS.filter((r) => r.old_path !== "g.txt"), {
      old_path: "g.txt",
      new_path: "g.txt",
      content,
    }],
  });
});

differentialTest("ResolveConflicts: unmergeable files", async (h) => {
  const repo = await conflictRepo(h);
  await compareResolve(h, repo, {
    ours: "big-ours",
    theirs: "big-theirs",
    files: [{
      old_path: "big.txt",
      new_path: "big.txt",
      sections: { [section("big.txt", 5001, 5001)]: "head" },
    }],
  });
  await compareResolve(h, repo, {
    ours: "big-ours",
    theirs: "big-theirs",
    files: [{ old_path: "big.txt", new_path: "big.txt", content: "small\n" }],
  });
  await compareResolve(h, repo, {
    ours: "bin-ours",
    theirs: "bin-theirs",
    files: [{ old_path: "bin.dat", new_path: "bin.dat", content: "text now\n" }],
  });
});

differentialTest("ResolveConflicts: bad JSON", async (h) => {
  const repo = await conflictRepo(h);
  for (
    const files of [
      "",
      "xx",
      "{}",
      "[1]",
      '[{"old_path":"f.txt"}]',
      '[{"old_path":"f.txt","content":5}]',
      '[{"old_path":"f.txt","sections":{"a":1}}]',
      '[{"old_path":"f.txt","sections":[]}]',
      '[{"old_path":"nope.txt","new_path":"nope.txt","content":"x"}]',
    ]
  ) {
    await compareResolve(h, repo, { ours: "content-ours", theirs: "content-theirs", files });
  }
});

differentialTest("ResolveConflicts: bad headers and branches", async (h) => {
  const repo = await conflictRepo(h);
  const base = { ours: "content-ours", theirs: "content-theirs", files: CONTENT_RESOLUTIONS };
  const cases: ResolveCase[] = [
    { ...base, header: { our_commit_oid: "" } },
    { ...base, header: { their_commit_oid: "" } },
    { ...base, header: { target_repository: null } },
    { ...base, header: { source_branch: "" } },
    { ...base, header: { target_branch: "" } },
    { ...base, header: { commit_message: "" } },
    { ...base, header: { user: null } },
    { ...base, header: { repository: { storage_name: "default", relative_path: "missing.git" } } },
    { ...base, header: { our_commit_oid: "content-ours" } },
    { ...base, target: "nope" },
    { ...base, source: "content-theirs" },
    { ...base, noServers: true },
    { ...base, ours: "1".repeat(40), source: "content-ours" },
    { ...base, ours: "main", theirs: "clean", files: [] },
    { ...base, header: { target_repository: { storage_name: "other", relative_path: "x.git" } } },
    { ...base, ours: "1".repeat(39) + "Z", source: "content-ours" },
    { ...base, ours: "A".repeat(40), source: "content-ours" },
    {
      ours: "sub-ours",
      theirs: "sub-theirs",
      files: [
        { old_path: "g.txt", new_path: "g.txt", content: "one\nresolved\nthree\n" },
        { old_path: "vendor/lib", new_path: "vendor/lib", content: "x" },
      ],
    },
    { ...base, header: { user: { ...USER, timezone: "Mars/Olympus" } } },
    { ...base, header: { user: { ...USER, name: "" } } },
    { ...base, header: { user: { ...USER, name: "a<b>c", email: "" } } },
    { ...base, header: { user: { ...USER, name: "," } } },
    { ...base, header: { user: { gl_id: "user-1" } } },
  ];
  for (const c of cases) await compareResolve(h, repo, c);
  const noHeader = await h.call("gitaly.ConflictsService", "ResolveConflicts", [{
    files_json: "[]",
  }]);
  assertSame(noHeader.ours, noHeader.reference, "no header");
});

differentialTest(
  "ResolveConflicts: the target commit fetched from the target repository",
  async (h) => {
    // The source has only base and content-ours; the target has everything.
    const source = await conflictRepo(h, [0, 1]);
    const target = await conflictRepo(h);
    const results = await compareResolve(h, source, {
      ours: "content-ours",
      theirs: "content-theirs",
      targetRepo: target,
      files: CONTENT_RESOLUTIONS,
    });
    assertEquals(results.reference, { ok: true, responses: [{ resolution_error: "" }] });
    await compareResolve(h, source, {
      ours: "content-ours",
      theirs: "content-theirs",
      target: "nope",
      targetRepo: target,
      files: CONTENT_RESOLUTIONS,
    });
    await compareResolve(h, source, {
      ours: "content-ours",
      theirs: await oid(h, target, "content-theirs"),
      target: "content-theirs",
      targetRepo: { storage_name: "default", relative_path: "missing.git" },
      files: CONTENT_RESOLUTIONS,
    });
  },
);

differentialTest("ResolveConflicts: refused by GitLab and by custom hooks", async (h) => {
  const repo = await conflictRepo(h);
  const c = { ours: "content-ours", theirs: "content-theirs", files: CONTENT_RESOLUTIONS };
  await denyAccess("You are not allowed to push code to this project.", async () => {
    const { reference } = await compareResolve(h, repo, c);
    assert(!reference.ok);
  });
  for (
    const [hook, body] of [
      ["pre-receive", "echo 'refused by pre-receive' >&2; exit 1"],
      ["pre-receive", "echo 'GitLab: nope'; exit 1"],
      ["update", "echo 'refused by update'; exit 1"],
      ["post-receive", "echo 'post-receive failed' >&2; exit 1"],
    ]
  ) {
    const remove = await installCustomHook(h, repo, hook, body);
    try {
      await compareResolve(h, repo, c);
    } finally {
      await remove();
    }
  }
});
