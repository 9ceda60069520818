/**
 * FindLicense in-process: detection on HEAD's root files, the `other` answer, README files
 * ignored, empty repositories and bad input.
 *
 * @module
 */
import { assertEquals } from "../../helpers/assert.ts";
import { handlerHarness, repository } from "../../helpers/handler.ts";
import { loadDataset } from "../../../src/license/database.ts";

const dataset = await loadDataset();
const mit = dataset.licenses.find(([file]) => file === "./MIT.txt")![1]
  .replace("<year>", "2023").replace("<copyright holders>", "Jane Doe");

Deno.test("FindLicense answers as Gitaly's go-license-detector does", async () => {
  const h = await handlerHarness();
  try {
    const withFiles = (name: string, files: Record<string, string>) =>
      h.createRepo(name, async (git) => {
        const work = await Deno.makeTempDir({ prefix: "license-work-" });
        try {
          for (const [path, content] of Object.entries(files)) {
            await Deno.writeTextFile(`${work}/${path}`, content);
          }
          await git("--work-tree", work, "add", "-A");
          await git("--work-tree", work, "commit", "-q", "-m", "files");
        } finally {
          await Deno.remove(work, { recursive: true });
        }
      });
    const find = async (repo: ReturnType<typeof repository>) => {
      const result = await h.call("gitaly.RepositoryService", "FindLicense", { repository: repo });
      return result.ok ? result.responses : result;
    };
    assertEquals(await find(await withFiles("mit.git", { LICENSE: mit, "a.c": "int x;\n" })), [{
      license_short_name: "mit",
      license_name: "MIT License",
      license_url: "https://opensource.org/licenses/MIT",
      license_path: "LICENSE",
      license_nickname: "",
    }]);
    assertEquals(await find(await withFiles("other.git", { "COPYING.md": "Ask me first.\n" })), [{
      license_short_name: "other",
      license_name: "Other",
      license_path: "COPYING.md",
      license_nickname: "LICENSE",
    }]);
    assertEquals(await find(await withFiles("readme.git", { "README.md": mit })), [{}]);
    assertEquals(await find(await h.createRepo("empty.git")), [{}]);
    const missing = await h.call("gitaly.RepositoryService", "FindLicense", {
      repository: repository("missing.git"),
    });
    assertEquals(missing.ok ? "ok" : missing.codeName, "NotFound");
  } finally {
    await h.close();
  }
});
