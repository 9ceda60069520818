/**
 * The license detector against values recorded from go-license-detector (GitLab's fork used
 * by Gitaly 16.7): the random streams behind the hasher, normalisation, similarities (float32)
 * of plain and modified texts, and detection over a small file tree.
 *
 * @module
 */
import { assertEquals } from "../helpers/assert.ts";
import { licenseDatabase, loadDataset } from "../../src/license/database.ts";
import { detectLicenses, isLicenseFileName } from "../../src/license/detect.ts";
import { markdownToText } from "../../src/license/markup.ts";
import { licenseText, relax } from "../../src/license/normalize.ts";
import { gammaTwoSampler, normalSampler, Pcg } from "../../src/license/random.ts";

const dataset = await loadDataset();

function spdx(id: string): string {
  const entry = dataset.licenses.find(([file]) => file === `./${id}.txt`);
  if (!entry) throw new Error(`no SPDX text for ${id}`);
  return entry[1].replace(/<year>/g, "2023").replace(/<copyright holders>/g, "Jane Doe");
}

/** Similarities by license, sorted (float32 values). */
function sorted(similarities: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...similarities].sort(([a], [b]) => a < b ? -1 : 1));
}

/** Go's printed float32 values as float32. */
function f32(values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Math.fround(v)]));
}

Deno.test("PCG and the gamma sampler give golang.org/x/exp/rand's and gonum's streams", () => {
  const pcg = new Pcg(7);
  const outputs = [1, 2, 3].map(() => {
    pcg.next();
    return pcg.hi.toString(16).padStart(8, "0") + pcg.lo.toString(16).padStart(8, "0");
  });
  assertEquals(outputs, ["eff103c70bb7e7bd", "c04de84943085e16", "b343b5e3b5a4280d"]);
  const rng = new Pcg(7);
  const gamma = gammaTwoSampler(rng, normalSampler(rng, dataset.ziggurat));
  const values = [1, 2, 3, 4, 5].map(() => Math.fround(gamma()));
  assertEquals(values, [1.4164147, 0.5186576, 2.225442, 2.3325276, 2.5999508].map(Math.fround));
});

Deno.test("normalisation", () => {
  assertEquals(
    licenseText("MIT License\r\n\r\nCopyright (c) 2023 Jane\n\n* Don’t — “quote”…", "moderate"),
    // The copyright line goes; bullets, dashes and quotes are unified.
    'mit license\n\ndon"t - "quote"…',
  );
  assertEquals(relax("café  naïve – licence"), "cafe naive licence");
  assertEquals(
    ["LICENSE", "COPYING.LESSER", "license.md", "my-gpl-v2.txt", "licensed.c", "README"].map(
      isLicenseFileName,
    ),
    [true, true, true, true, false, false],
  );
});

Deno.test("similarities equal go-license-detector's", async () => {
  const db = await licenseDatabase();
  assertEquals(
    sorted(await db.queryText(spdx("MIT"))),
    f32({
      "JSON": 0.939759,
      "MIT": 1,
      "MIT-0": 0.84662575,
      "MIT-advertising": 0.8109756,
      "MIT-feh": 0.84146345,
    }),
  );
  assertEquals(
    sorted(await db.queryText(spdx("Apache-2.0"))),
    f32({
      "Apache-2.0": 1,
      "ECL-2.0": 0.91415757,
      "SHL-0.5": 0.8233783,
      "SHL-0.51": 0.82402056,
    }),
  );
  const modified = "Copyright (c) 2024 Someone\n\n" +
    spdx("MIT").replace("without restriction", "with some restrictions described nowhere")
      .replace("MERCHANTABILITY", "USEFULNESS");
  assertEquals(
    sorted(await db.queryText(modified)),
    f32({
      "MIT": 0.9819277,
      "MIT-0": 0.82822084,
      "MIT-advertising": 0.79268295,
      "MIT-feh": 0.8231707,
    }),
  );
  // Known words appended out of order: only weak matches, all kept.
  const mit = spdx("MIT");
  const all = mit.split(/\s+/);
  const scrambled = all.filter((_, i) => i % 5 === 1).concat(all.filter((_, i) => i % 5 === 2))
    .slice(0, 80);
  assertEquals(
    sorted(await db.queryText(`${mit}\n\n${scrambled.join(" ")}\n`)),
    f32({
      "MIT": 0.7094017,
      "MIT-advertising": 0.57575756,
      "MIT-feh": 0.5974026,
      "X11-distribute-modifications-variant": 0.6896552,
    }),
  );
  assertEquals(sorted(await db.queryText("You may use this for good, not for evil.\n")), {});
});

Deno.test("detection over files: Markdown, a pointer file, the best file per license", async () => {
  const body = spdx("MIT").replace(/^MIT License\n+/, "");
  const files: Record<string, string> = {
    "LICENSE.md": `# MIT License\n\n${body}`,
    "LICENSE": "docs/APACHE.txt\n",
    "docs/APACHE.txt": spdx("Apache-2.0"),
    "main.go": "package main\n",
  };
  const encoder = new TextEncoder();
  const matches = await detectLicenses({
    readDir: () => Promise.resolve(["LICENSE", "LICENSE.md", "main.go"]),
    readFile: (path) => Promise.resolve(path in files ? encoder.encode(files[path]) : undefined),
  });
  assertEquals(matches.get("MIT"), { confidence: 1, file: "LICENSE.md" });
  assertEquals(matches.get("Apache-2.0"), { confidence: 1, file: "docs/APACHE.txt" });
  assertEquals(
    markdownToText("## Title\n\n* one\n* two **bold** [x](http://y)\n"),
    "Title.\n\n\none\ntwo bold http://y x\n\n",
  );
});
