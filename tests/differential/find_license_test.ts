/**
 * FindLicense, ours against the reference Gitaly: repositories with common licenses under
 * the usual file names, dual licensing, modified and unknown texts, no license, empty and
 * unborn repositories, a default branch other than main, and bad input.
 *
 * @module
 */
import { loadDataset } from "../../src/license/database.ts";
import { fixtureGit } from "./fixtures.ts";
import { differentialTest, type Harness, type RepoRef, SIDES } from "./harness.ts";

const RS = "gitaly.RepositoryService";
const encoder = new TextEncoder();

const dataset = await loadDataset();

/** The SPDX text of `id` with its placeholders filled in like a real project's. */
function spdx(id: string): string {
  const entry = dataset.licenses.find(([file]) => file === `./${id}.txt`);
  if (!entry) throw new Error(`no SPDX text for ${id}`);
  return entry[1]
    .replace(/<year>/g, "2023")
    .replace(/<copyright holders>|<owner>|<OWNER>|<name of author>/g, "Jane Doe")
    .replace(/<organization>|<ORGANIZATION>/g, "Example Corp");
}

type Files = Record<string, string | { symlink: string }>;

/** Commits `files` on `branch` of both copies (identical commits), HEAD on `head`. */
async function commitFiles(
  h: Harness,
  repo: RepoRef,
  files: Files,
  options: { branch?: string; head?: string; time?: number } = {},
): Promise<void> {
  const branch = options.branch ?? "main";
  const parts: string[] = [];
  const entries = Object.entries(files);
  entries.forEach(([, content], i) => {
    const data = encoder.encode(typeof content === "string" ? content : content.symlink);
    parts.push(`blob\nmark :${i + 1}\ndata ${data.byteLength}\n`);
    parts.push(new TextDecoder().decode(data), "\n");
  });
  const when = `${1_700_000_000 + (options.time ?? 0)} +0000`;
  parts.push(`commit refs/heads/${branch}\n`);
  parts.push(`author Ada Author <ada@example.com> ${when}\n`);
  parts.push(`committer Carl Committer <carl@example.com> ${when}\n`);
  parts.push(`data 7\nlicense\n`);
  entries.forEach(([path, content], i) => {
    parts.push(`M ${typeof content === "string" ? "100644" : "120000"} :${i + 1} ${path}\n`);
  });
  parts.push("\ndone\n");
  for (const side of SIDES) {
    const gitDir = h.gitDir(side, repo);
    await fixtureGit(gitDir, ["fast-import", "--quiet", "--done"], { stdin: parts.join("") });
    if (options.head) {
      await fixtureGit(gitDir, ["symbolic-ref", "HEAD", `refs/heads/${options.head}`]);
    }
  }
}

/** A fresh repository holding `files` on main; FindLicense compared on both sides. */
async function compareWith(h: Harness, files: Files): Promise<void> {
  const repository = await h.repo("empty");
  await commitFiles(h, repository, files);
  await h.compare(RS, "FindLicense", { repository });
}

const README = "# Project\n\nSome code.\n\n## License\n\nMIT, see LICENSE.\n";

differentialTest("FindLicense: common licenses", async (h) => {
  await compareWith(h, { LICENSE: spdx("MIT"), "README.md": README, "main.go": "package main\n" });
  await compareWith(h, { LICENSE: spdx("Apache-2.0"), "README.md": README });
  await compareWith(h, { COPYING: spdx("GPL-3.0-only") });
  await compareWith(h, { COPYING: spdx("GPL-2.0-only") });
  await compareWith(h, { "LICENSE.txt": spdx("BSD-3-Clause") });
  await compareWith(h, { "COPYING.LESSER": spdx("LGPL-2.1-only") });
  await compareWith(h, { LICENSE: spdx("MPL-2.0") });
  await compareWith(h, { LICENSE: spdx("AGPL-3.0-only") });
  await compareWith(h, { UNLICENSE: spdx("Unlicense") });
});

differentialTest("FindLicense: file names and formats", async (h) => {
  await compareWith(h, { LICENCE: spdx("ISC") });
  await compareWith(h, {
    "LICENSE.md": `# MIT License\n\n${spdx("MIT").replace(/^MIT License\n+/, "")}`,
  });
  await compareWith(h, { "license.rst": spdx("BSD-2-Clause") });
  await compareWith(h, { "COPYING.md": `## Apache License\n\n${spdx("Apache-2.0")}` });
  await compareWith(h, { "LICENSE-MIT": spdx("MIT"), "LICENSE-APACHE": spdx("Apache-2.0") });
  await compareWith(h, { COPYING: spdx("GPL-3.0-only"), "COPYING.LESSER": spdx("LGPL-3.0-only") });
  await compareWith(h, { "docs/LICENSE.txt": spdx("MIT"), LICENSE: "docs/LICENSE.txt\n" });
  await compareWith(h, { "LICENSE.txt": spdx("MIT"), LICENSE: { symlink: "LICENSE.txt" } });
  await compareWith(h, { "docs/LICENSE": spdx("MIT"), "README.md": README });
});

differentialTest("FindLicense: modified, unknown and missing licenses", async (h) => {
  const mit = spdx("MIT");
  await compareWith(h, {
    LICENSE: mit.replace("without restriction", "with the restrictions below")
      .replace("MERCHANTABILITY", "USEFULNESS"),
  });
  await compareWith(h, {
    LICENSE: "All rights reserved. You may look at this code but not use it for anything.\n" +
      "Ask Example Corp for permission first; no warranty is given whatsoever.\n",
  });
  await compareWith(h, { "LICENSE.md": "TBD\n" });
  await compareWith(h, { LICENSE: "" });
  await compareWith(h, { "README.md": `${README}\n${mit}`, "main.c": "int main() {}\n" });
  await compareWith(h, { "main.c": "int main() {}\n" });
});

differentialTest("FindLicense: empty repository, unborn HEAD, default branch", async (h) => {
  await h.compare(RS, "FindLicense", { repository: await h.repo("empty") });
  const unborn = await h.repo("empty");
  await commitFiles(h, unborn, { LICENSE: spdx("MIT") }, { head: "nothing-here" });
  await h.compare(RS, "FindLicense", { repository: unborn });
  const trunk = await h.repo("empty");
  await commitFiles(h, trunk, { LICENSE: spdx("MIT") });
  await commitFiles(h, trunk, { COPYING: spdx("GPL-3.0-only") }, {
    branch: "trunk",
    head: "trunk",
    time: 60,
  });
  await h.compare(RS, "FindLicense", { repository: trunk });
  await h.compare(RS, "FindLicense", { repository: await h.repo("rich", { shared: true }) });
});

differentialTest("FindLicense: bad input", async (h) => {
  await h.compare(RS, "FindLicense", {
    repository: { storage_name: "default", relative_path: "differential/missing.git" },
  });
  await h.compare(RS, "FindLicense", {
    repository: { storage_name: "nope", relative_path: "differential/rich.git" },
  });
  await h.compare(RS, "FindLicense", {});
});
