/**
 * FindLicense, ours against the reference Gitaly: repositories with common licenses under
 * the usual file names, dual licensing, modified and unknown texts, no license, empty and
 * unborn repositories, a default branch other than main, and bad input.
 *
 * @module
 */
import { loadDataset } from "../../src/license/database.ts";
import { assertEquals } from "../helpers/assert.ts";
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

/**
 * A fresh repository holding `files` on main; FindLicense compared on both sides, and the
 * reference's answer checked to be `expected` (short name and path; "" for none).
 */
async function compareWith(h: Harness, files: Files, expected: [string, string]): Promise<void> {
  const repository = await h.repo("empty");
  await commitFiles(h, repository, files);
  const { reference } = await h.compare(RS, "FindLicense", { repository });
  const answer = reference.ok ? reference.responses as Record<string, string> : {};
  assertEquals([answer.license_short_name, answer.license_path], expected);
}

const README = "# Project\n\nSome code.\n\n## License\n\nMIT, see LICENSE.\n";

differentialTest("FindLicense: common licenses", async (h) => {
  const main = { "README.md": README, "main.go": "package main\n" };
  await compareWith(h, { LICENSE: spdx("MIT"), ...main }, ["mit", "LICENSE"]);
  await compareWith(h, { LICENSE: spdx("Apache-2.0"), ...main }, ["apache-2.0", "LICENSE"]);
  await compareWith(h, { COPYING: spdx("GPL-3.0-only") }, ["gpl-3.0", "COPYING"]);
  await compareWith(h, { COPYING: spdx("GPL-2.0-only") }, ["gpl-2.0", "COPYING"]);
  await compareWith(h, { "LICENSE.txt": spdx("BSD-3-Clause") }, ["bsd-3-clause", "LICENSE.txt"]);
  await compareWith(h, { "COPYING.LESSER": spdx("LGPL-2.1-only") }, [
    "lgpl-2.1",
    "COPYING.LESSER",
  ]);
  await compareWith(h, { LICENSE: spdx("MPL-2.0") }, ["mpl-2.0", "LICENSE"]);
  await compareWith(h, { LICENSE: spdx("AGPL-3.0-only") }, ["agpl-3.0", "LICENSE"]);
  await compareWith(h, { UNLICENSE: spdx("Unlicense") }, ["unlicense", "UNLICENSE"]);
  await compareWith(h, { "LICENSE.txt": spdx("BSD-3-Clause-Clear") }, [
    "bsd-3-clause-clear",
    "LICENSE.txt",
  ]);
});

differentialTest("FindLicense: file names and formats", async (h) => {
  const mitBody = spdx("MIT").replace(/^MIT License\n+/, "");
  await compareWith(h, { LICENCE: spdx("ISC") }, ["isc", "LICENCE"]);
  await compareWith(h, { "LICENSE.md": `# MIT License\n\n${mitBody}` }, ["mit", "LICENSE.md"]);
  await compareWith(h, {
    "LICENSE.md":
      `The **MIT** License\n===\n\n_Copyright_ (c) 2023 [Jane](https://example.com)\n\n` +
      mitBody.replace(/^Copyright.*\n/, ""),
  }, ["mit", "LICENSE.md"]);
  await compareWith(h, {
    "LICENSE.html": `<html><head><title>x</title></head><body><h2>MIT License</h2>\n<p>` +
      mitBody.replaceAll("\n\n", "</p>\n<p>") + "</p></body></html>",
  }, ["mit", "LICENSE.html"]);
  await compareWith(h, { "license.rst": `License\n=======\n\n${spdx("BSD-2-Clause")}` }, [
    "bsd-2-clause",
    "license.rst",
  ]);
  await compareWith(h, { "COPYING.md": `## Apache License\n\n${spdx("Apache-2.0")}` }, [
    "apache-2.0",
    "COPYING.md",
  ]);
  await compareWith(h, { "LICENSE-MIT": spdx("MIT"), "LICENSE-APACHE": spdx("Apache-2.0") }, [
    "apache-2.0",
    "LICENSE-APACHE",
  ]);
  await compareWith(h, {
    COPYING: spdx("GPL-3.0-only"),
    "COPYING.LESSER": spdx("LGPL-3.0-only"),
  }, ["lgpl-3.0", "COPYING.LESSER"]);
  await compareWith(h, {
    LICENSE: `${spdx("MIT")}\n\n----------------------------------------\n\n${spdx("ISC")}`,
  }, ["isc", "LICENSE"]);
  await compareWith(h, { "docs/LICENSE.txt": spdx("MIT"), LICENSE: "docs/LICENSE.txt\n" }, [
    "mit",
    "docs/LICENSE.txt",
  ]);
  await compareWith(h, { "LICENSE.txt": spdx("MIT"), LICENSE: { symlink: "LICENSE.txt" } }, [
    "mit",
    "LICENSE.txt",
  ]);
  await compareWith(h, { "docs/LICENSE": spdx("MIT"), "README.md": README }, ["", ""]);
  await compareWith(h, { "my-gpl-v2.txt": spdx("GPL-2.0-only") }, ["gpl-2.0", "my-gpl-v2.txt"]);
});

differentialTest("FindLicense: modified, unknown and missing licenses", async (h) => {
  const mit = spdx("MIT");
  await compareWith(h, {
    LICENSE: mit.replace("without restriction", "with the restrictions below")
      .replace("MERCHANTABILITY", "USEFULNESS"),
  }, ["mit", "LICENSE"]);
  const words = mit.split(" ");
  await compareWith(h, {
    LICENSE: words.map((w, i) => i % 10 === 0 ? "foo" : w).join(" "),
  }, ["mit", "LICENSE"]);
  // Known words appended in another order: a weak match (below 0.75) still counts.
  const all = mit.split(/\s+/);
  const scrambled = all.filter((_, i) => i % 5 === 1).concat(all.filter((_, i) => i % 5 === 2))
    .slice(0, 80);
  await compareWith(h, { LICENSE: `${mit}\n\n${scrambled.join(" ")}\n` }, ["mit", "LICENSE"]);
  await compareWith(h, {
    LICENSE: words.map((w, i) => i % 3 === 0 ? "foo" : w).join(" "),
  }, ["other", "LICENSE"]);
  await compareWith(h, {
    LICENSE: "All rights reserved. You may look at this code but not use it for anything.\n" +
      "Ask Example Corp for permission first; no warranty is given whatsoever.\n",
  }, ["other", "LICENSE"]);
  await compareWith(h, {
    LICENSE: "Licensed under the Apache License, Version 2.0; see " +
      "http://www.apache.org/licenses/LICENSE-2.0 for the terms.\n".repeat(4),
  }, ["apache-2.0", "LICENSE"]);
  await compareWith(h, { "LICENSE.md": "TBD\n" }, ["other", "LICENSE.md"]);
  await compareWith(h, { LICENSE: "" }, ["other", "LICENSE"]);
  await compareWith(h, { "README.md": `${README}\n${mit}`, "main.c": "int main() {}\n" }, [
    "",
    "",
  ]);
  await compareWith(h, { "main.c": "int main() {}\n" }, ["", ""]);
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
