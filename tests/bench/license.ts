/**
 * License detection: FindLicense requests per second on a repository with an Apache-2.0
 * LICENSE (answers are cached by HEAD commit on both servers), ours beside the reference;
 * then, ours only, the detector in-process: building the database (the first call's cost)
 * and matching one license text (what an uncached call costs).
 *
 * @module
 */
import { LicenseDatabase, loadDataset } from "../../src/license/database.ts";
import { importAndRepack, requestsPerSecond, runSection, seconds, unary } from "./rpc_cases.ts";

const RS = "gitaly.RepositoryService";

function row(name: string, value: string): string {
  return `| ${name} | ${value} |`;
}

/** The section: the RPC table, then the detector's own timings. */
export async function licenseSection(): Promise<void> {
  const dataset = await loadDataset();
  const text = (id: string) => dataset.licenses.find(([file]) => file === `./${id}.txt`)![1];
  const apache = text("Apache-2.0");
  await runSection({
    title: "FindLicense",
    service: RS,
    async buildRepo(path) {
      await new Deno.Command("git", { args: ["init", "--bare", "-q", "-b", "main", path] })
        .output();
      const data = new TextEncoder().encode(apache).byteLength;
      await importAndRepack(
        path,
        `blob\nmark :1\ndata ${data}\n${apache}\n` +
          "commit refs/heads/main\ncommitter A <a@example.com> 1700000000 +0000\ndata 3\nadd\n" +
          "M 100644 :1 LICENSE\n\ndone\n",
      );
    },
    warmUpFrom: 0,
    cases: [1, 8].map((concurrency) => ({
      name: `FindLicense (cached), ${concurrency} caller${concurrency > 1 ? "s" : ""}`,
      unit: "req/s" as const,
      run: (target) => requestsPerSecond(concurrency, () => unary(target, RS, "FindLicense", {})),
    })),
  });
  let db: LicenseDatabase | undefined;
  const build = await seconds(async () => db = await LicenseDatabase.create(dataset));
  console.log("\n## License detector, in-process (ours)\n");
  console.log("| measurement | seconds |");
  console.log("| --- | --- |");
  console.log(row("build the database (530 SPDX texts)", build.toFixed(3)));
  for (const id of ["MIT", "Apache-2.0", "GPL-3.0-only"]) {
    const t = await seconds(() => db!.queryText(text(id)), 3);
    console.log(row(`match the ${id} text`, t.toFixed(3)));
  }
}
