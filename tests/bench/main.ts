/**
 * `deno task bench`: every benchmark in one run, ours beside the reference,
 * with ratios. Not a test: nothing here fails on a slow machine.
 *
 * @module
 */
import { blobsSection } from "./blobs.ts";
import { cacheSection } from "./cache.ts";
import { clusterSection } from "./cluster.ts";
import { fetchSection } from "./fetch.ts";
import { commitsSection } from "./commits.ts";
import { diffsSection } from "./diffs.ts";
import { gitalySshSection } from "./gitaly_ssh.ts";
import { licenseSection } from "./license.ts";
import { optimizeSection } from "./optimize.ts";
import { refsSection } from "./refs.ts";
import { sidechannelSection } from "./sidechannel.ts";
import { measureStartup } from "./startup.ts";
import { transportSection } from "./transport.ts";

function row(name: string, value: string, note = ""): string {
  return `| ${name.padEnd(36)} | ${value.padStart(12)} | ${note}`;
}

async function startupSection(): Promise<void> {
  const samples = await measureStartup(5);
  const best = Math.min(...samples.map((s) => s.secondsToServing));
  const rss = Math.min(...samples.map((s) => s.idleRssMiB));
  console.log("\n## Server start (best of 5)\n");
  console.log(
    row(
      "start to SERVING",
      `${best.toFixed(3)} s`,
      `target < 1 s (${(best / 1).toFixed(2)}× target)`,
    ),
  );
  console.log(
    row(
      "idle RSS",
      `${rss.toFixed(1)} MiB`,
      `target < 150 MiB (${(rss / 150).toFixed(2)}× target)`,
    ),
  );
}

const sections: Record<string, () => Promise<void>> = {
  startup: startupSection,
  transport: transportSection,
  "gitaly-ssh": gitalySshSection,
  sidechannel: sidechannelSection,
  refs: refsSection,
  blobs: blobsSection,
  fetch: fetchSection,
  cache: cacheSection,
  commits: commitsSection,
  diffs: diffsSection,
  optimize: optimizeSection,
  license: licenseSection,
  cluster: clusterSection,
};

const wanted = Deno.args.length ? Deno.args : Object.keys(sections);
for (const name of wanted) {
  const section = sections[name];
  if (!section) {
    console.error(`unknown bench section ${name}; known: ${Object.keys(sections).join(", ")}`);
    Deno.exit(2);
  }
  await section();
}
