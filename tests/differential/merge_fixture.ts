/**
 * The `merges` fixture: small histories to merge, fast-forward and rebase
 * (UserMergeBranch, UserMergeToRef, UserFFBranch, UserRebaseToRef).
 *
 * ```
 * main:          base ─ main-d ─ main-a            (a: mainA, e: e2)
 * behind:               main-d
 * feature:       base ─ c ─ c2
 * conflict:             main-d ─ conflict-a        (a: conflicting, e: e1)
 * unrelated:     a root commit of its own
 * rebase-onto:   base ─ a+b changed
 * rebase-source: base ─ same change to a (becomes empty) ─ empty commit ─
 *                f (another author and zone, a 12 KiB message) ─
 *                merge of feature ─ g
 * rebase-picked: base ─ the change of rebase-onto (a clean cherry-pick) ─ h
 * rename-onto:   base ─ a moved to moved/a
 * rename-source: base ─ a changed
 * with-root:     merge of feature and unrelated ─ w
 * latin1-author: base ─ c, by an author whose name is Latin-1
 * ```
 *
 * Tags: `v1` (annotated, of feature). Other refs: `refs/merge-requests/9/sym`
 * (symbolic, → main), `refs/merge-requests/7/head` (→ main).
 *
 * @module
 */
import { buildEmpty, fixtureGit, ImportStream } from "./fixtures.ts";

const encoder = new TextEncoder();

/** Branch names of the `merges` fixture. */
export const MERGES = {
  main: "main",
  behind: "behind",
  feature: "feature",
  conflict: "conflict",
  unrelated: "unrelated",
  rebaseOnto: "rebase-onto",
  rebaseSource: "rebase-source",
  rebasePicked: "rebase-picked",
  /** base with `a` moved to `moved/a`; rename-source changes `a`. */
  renameOnto: "rename-onto",
  renameSource: "rename-source",
  /** feature merged with unrelated (a root commit to replay), then one more commit. */
  withRoot: "with-root",
  /** base ─ a commit whose author's name is Latin-1. */
  latin1Author: "latin1-author",
  /** Size of the long message in rebase-source (over Gitaly's 10 KiB body limit). */
  longMessage: 12 * 1024,
} as const;

/** Builds the `merges` fixture into `repo`. */
export async function buildMerges(repo: string): Promise<void> {
  await buildEmpty(repo);
  const s = new ImportStream();
  const file = (path: string, content: string) => ({ path, blob: s.blob(content) });
  const heads = (name: string) => `refs/heads/${name}`;

  const base = s.commit(heads("main"), "base\n", [], [file("a", "base\n"), file("b", "b\n")]);
  const c1 = s.commit(heads("feature"), "feature c\n", [base], [file("c", "feat\n")]);
  const c2 = s.commit(heads("feature"), "feature c2\n", [c1], [file("c", "feat\nfeat2\n")]);
  const mainD = s.commit(heads("main"), "main d\n", [base], [file("d", "main\n")]);
  s.reset(heads("behind"), mainD);
  s.commit(heads("conflict"), "conflict a\n", [mainD], [
    file("a", "conflicting\n"),
    file("e", "e1\n"),
  ]);
  s.commit(heads("main"), "main a\n", [mainD], [file("a", "mainA\n"), file("e", "e2\n")]);
  const unrelated = s.commit(heads("unrelated"), "unrelated\n", [], [file("u", "u\n")]);

  s.commit(heads("rebase-onto"), "upstream: a and b\n", [base], [
    file("a", "A2\n"),
    file("b", "B2\n"),
  ]);
  const same = s.commit(heads("rebase-source"), "same change to a\n", [base], [file("a", "A2\n")]);
  const empty = s.commit(heads("rebase-source"), "empty on purpose\n", [same], []);
  const long = `f by Zoe\n\n${"0123456789abcde\n".repeat(MERGES.longMessage / 16)}`;
  const f = s.commit(
    heads("rebase-source"),
    long,
    [empty],
    [file("f", "f\n")],
    "",
    "Zoe Zone <zoe@example.com>",
    "1690000000 -0230",
  );
  const merge = s.commit(heads("rebase-source"), "merge feature\n", [f, c2], [
    file("c", "feat\nfeat2\n"),
  ]);
  s.commit(heads("rebase-source"), "add g\n", [merge], [file("g", "g\n")]);
  const picked = s.commit(heads("rebase-picked"), "upstream: a and b (picked)\n", [base], [
    file("a", "A2\n"),
    file("b", "B2\n"),
  ]);
  s.commit(heads("rebase-picked"), "add h\n", [picked], [file("h", "h\n")]);
  s.commit(heads("rename-onto"), "move a\n", [base], [
    { path: "a", delete: true },
    file("moved/a", "base\n"),
  ]);
  s.commit(heads("rename-source"), "change a\n", [base], [file("a", "base\nmore\n")]);
  const rooted = s.commit(heads("with-root"), "merge unrelated\n", [c2, unrelated], [
    file("u", "u\n"),
  ]);
  s.commit(heads("with-root"), "after the root\n", [rooted], [file("w", "w\n")]);
  s.tag("v1", c2, "version 1\n");
  await s.importInto(repo);
  await fixtureGit(repo, ["symbolic-ref", "refs/merge-requests/9/sym", "refs/heads/main"]);
  await fixtureGit(repo, ["update-ref", "refs/merge-requests/7/head", "refs/heads/main"]);
  // An author name in Latin-1, as old imported history has them (fast-import writes text).
  const tree = await fixtureGit(repo, ["rev-parse", "feature~1^{tree}"]);
  const parent = await fixtureGit(repo, ["rev-parse", "main~2"]);
  const ident = new Uint8Array([
    ...encoder.encode("Jos"),
    0xe9,
    ...encoder.encode(" <jose@example.com>"),
  ]);
  const raw = new Uint8Array([
    ...encoder.encode(`tree ${tree}\nparent ${parent}\nauthor `),
    ...ident,
    ...encoder.encode(" 1690000000 +0200\ncommitter "),
    ...ident,
    ...encoder.encode(" 1690000000 +0200\n\nLatin-1 author\n"),
  ]);
  const latin1 = await fixtureGit(repo, ["hash-object", "-t", "commit", "-w", "--stdin"], {
    stdin: raw,
  });
  await fixtureGit(repo, ["update-ref", "refs/heads/latin1-author", latin1]);
}
