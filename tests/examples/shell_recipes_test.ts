/**
 * The README's shell recipes, run as written with bash against a live
 * server: only the checkout's path, the server's address and token and the
 * scratch folders are substituted. Every ```sh block of the README is
 * accounted for: the quick start is run by tests/e2e/quick_start_test.ts,
 * `compile.sh` by tests/cli/compile_test.ts, the rest here.
 */
import { join } from "node:path";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { gitEnv, gitOk, listRefs } from "../helpers/gitrepo.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const TOKEN = "recipes-secret";
const decoder = new TextDecoder();

/** Every ```sh block of the README with the heading it stands under. */
async function shellBlocks(): Promise<Map<string, string>> {
  const readme = await Deno.readTextFile(join(ROOT, "README.md"));
  const blocks = new Map<string, string>();
  let heading = "";
  for (const part of readme.split(/^(#{2,3} .*)$/m)) {
    if (/^#{2,3} /.test(part)) heading = part.replace(/^#+ /, "");
    for (const match of part.matchAll(/^```sh\n([\s\S]*?)^```$/gm)) {
      assert(!blocks.has(heading), `two shell blocks under "${heading}"`);
      blocks.set(heading, match[1]);
    }
  }
  return blocks;
}

/** `text` with each `[from, to]` replaced; every `from` must occur. */
function substitute(text: string, replacements: [string, string][]): string {
  for (const [from, to] of replacements) {
    assert(text.includes(from), `the recipe no longer has ${JSON.stringify(from)}`);
    text = text.replaceAll(from, to);
  }
  return text;
}

async function bash(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = gitEnv({ DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" });
  const denoDir = Deno.env.get("DENO_DIR");
  if (denoDir) env.DENO_DIR = denoDir;
  const out = await new Deno.Command("bash", {
    args: ["-euo", "pipefail", "-c", script],
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

const npxMissing = !new Deno.Command("sh", { args: ["-c", "command -v npx"], stdout: "null" })
  .outputSync().success;

Deno.test("README: every shell block is exercised by a test", async () => {
  const blocks = await shellBlocks();
  assertEquals([...blocks.keys()].sort(), [
    "Building one binary",
    "Quick start",
    "client",
    "gitaly-ssh",
  ]);
  assertMatch(blocks.get("Quick start")!, /^npx --yes deno@2\.9\.6 task serve /m);
  assertMatch(
    blocks.get("Building one binary")!,
    /^DENORT_BIN=\/path\/to\/denort \.\/compile\.sh/m,
  );
});

async function withServer(body: (server: TestServer, scratch: string) => Promise<void>) {
  const server = await startTestServer({ token: TOKEN });
  const scratch = await Deno.makeTempDir({ prefix: "readme-recipes-" });
  try {
    await body(server, scratch);
  } finally {
    await server.stop();
    await Deno.remove(scratch, { recursive: true });
  }
}

/** The common substitutions: checkout, address, token. */
function serverReplacements(server: TestServer): [string, string][] {
  return [
    ["cd /path/to/deno-gitaly\n", `cd '${ROOT}'\n`],
    ["unix:$PWD/data/gitaly.socket", server.unixAddress],
    ["GITALY_TOKEN=secret", `GITALY_TOKEN=${TOKEN}`],
  ];
}

Deno.test({
  name: "README: the gitaly-ssh recipe pushes with glId/glRepository and clones main",
  ignore: npxMissing,
  async fn() {
    await withServer(async (server, scratch) => {
      const work = join(scratch, "work");
      const project = join(scratch, "project");
      const script = substitute((await shellBlocks()).get("gitaly-ssh")!, [
        ...serverReplacements(server),
        ["/tmp/work", work],
        ["/tmp/project", project],
      ]);
      const run = await bash(script);
      assertEquals(run.code, 0, `${run.stderr}\n${run.stdout}`);
      assert(!run.stderr.includes("remote HEAD refers to nonexistent ref"), run.stderr);
      const pushed = await gitOk(["-C", work, "rev-parse", "HEAD"]);
      const served = join(server.storagePaths.default, "group/project.git");
      assertEquals((await listRefs(served))["refs/heads/main"], pushed);
      assertEquals(await gitOk(["-C", project, "branch", "--show-current"]), "main");
      assertEquals(await gitOk(["-C", project, "rev-parse", "HEAD"]), pushed);
    });
  },
});

Deno.test({
  name: "README: the client recipe runs as written",
  ignore: npxMissing,
  async fn() {
    await withServer(async (server) => {
      const script = substitute(
        (await shellBlocks()).get("client")!,
        serverReplacements(server),
      );
      const run = await bash(script);
      assertEquals(run.code, 0, `${run.stderr}\n${run.stdout}`);
      const lines = run.stdout.trimEnd().split("\n");
      assertEquals(lines.slice(0, 2), ["SERVING", "true"]);
      assertMatch(lines[2], /^\d+$/);
      assertEquals(lines[3], `{"exists":true}`);
      // SSHUploadPack: the advertisement of an empty repository, then git's exit status 0.
      assert(lines.slice(4).every((line) => line.startsWith("{")), run.stdout);
      for (const path of ["group/tools.git", "group/legacy.git"]) {
        const left = await Deno.stat(join(server.storagePaths.default, path)).then(
          () => true,
          () => false,
        );
        assertEquals(left, false, `${path} removed`);
      }
    });
  },
});
