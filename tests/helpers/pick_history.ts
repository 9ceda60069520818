/**
 * A small repository for the commit-picking operations (cherry-pick,
 * revert, squash, rebase), built with `git fast-import` from fixed names
 * and dates, so its object ids are the same on every run:
 *
 * ```text
 * main      c1 - c2            (c2: a.txt a → a2)
 * feature    \- f1 - f2        (f1: b.txt b → b2; f2: adds c.txt)
 * conflict   \- x1             (x1: a.txt a → ax)
 * merged    c2 + f2 → m        (a merge: first parent c2)
 * orphan    r2                 (a root commit: d.txt)
 * ```
 *
 * @module
 */
import { gitOk } from "./gitrepo.ts";

/** The epoch second of c1; each next commit is a minute later, all in +0100. */
export const PICK_EPOCH = 1_700_000_000;

/** The history as a `git fast-import` stream. */
function history(): string {
  const out: string[] = [];
  let tick = 0;
  const blob = (mark: number, content: string) =>
    out.push(`blob\nmark :${mark}\ndata ${content.length}\n${content}`);
  const commit = (ref: string, mark: number, msg: string, parents: number[], files: string[]) => {
    const when = `${PICK_EPOCH + 60 * ++tick} +0100`;
    out.push(
      `commit ${ref}\nmark :${mark}`,
      `author Ada Author <ada@example.com> ${when}`,
      `committer Carl Committer <carl@example.com> ${when}`,
      `data ${msg.length}\n${msg}`,
    );
    parents.forEach((parent, i) => out.push(`${i === 0 ? "from" : "merge"} :${parent}`));
    out.push(...files, "");
  };
  ["a\n", "b\n", "a2\n", "b2\n", "c\n", "ax\n", "d\n"].forEach((text, i) => blob(i + 1, text));
  commit("refs/heads/main", 10, "c1\n", [], ["M 100644 :1 a.txt", "M 100644 :2 b.txt"]);
  commit("refs/heads/main", 11, "c2\n", [10], ["M 100644 :3 a.txt"]);
  commit("refs/heads/feature", 12, "f1\n", [10], ["M 100644 :4 b.txt"]);
  commit("refs/heads/feature", 13, "f2\n\nWith a body.\n", [12], ["M 100644 :5 c.txt"]);
  commit("refs/heads/conflict", 14, "x1\n", [10], ["M 100644 :6 a.txt"]);
  commit("refs/heads/merged", 15, "merge\n", [11, 13], ["M 100644 :4 b.txt", "M 100644 :5 c.txt"]);
  commit("refs/heads/orphan", 16, "root2\n", [], ["M 100644 :7 d.txt"]);
  return out.join("\n") + "\ndone\n";
}

/** The history's commits by name. */
export interface PickCommits {
  c1: string;
  c2: string;
  f1: string;
  f2: string;
  x1: string;
  m: string;
  r2: string;
}

/** Imports the history into the (empty, bare) repository at `gitDir`. */
export async function importPickHistory(gitDir: string): Promise<void> {
  await gitOk(["--git-dir", gitDir, "fast-import", "--quiet", "--done"], {
    stdin: history(),
    bin: "/usr/bin/git",
  });
}

/** The commits of the history imported at `gitDir`. */
export async function pickCommits(gitDir: string): Promise<PickCommits> {
  const oid = (rev: string) => gitOk(["--git-dir", gitDir, "rev-parse", rev]);
  return {
    c1: await oid("main^"),
    c2: await oid("main"),
    f1: await oid("feature^"),
    f2: await oid("feature"),
    x1: await oid("conflict"),
    m: await oid("merged"),
    r2: await oid("orphan"),
  };
}
