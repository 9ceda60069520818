/**
 * The README's TypeScript blocks: each example block is the file of the
 * same name under tests/examples/ (with the import an outside program
 * would write), every block type-checks as a separate Deno program that
 * links this repository, and such a program runs against a live server.
 */
import { join } from "node:path";
import { assert, assertEquals } from "../helpers/assert.ts";
import { startTestServer } from "../helpers/server.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const PACKAGE_IMPORT = `"@deno-gitaly/server/client"`;
const REPO_IMPORT = `"../../src/client/mod.ts"`;
const decoder = new TextDecoder();

/** Every ```ts block of the README, in order. */
async function readmeBlocks(): Promise<string[]> {
  const readme = await Deno.readTextFile(join(ROOT, "README.md"));
  return [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

/**
 * A temp dir holding a Deno project that maps `@deno-gitaly/server/client`
 * to this repository's client module, with this repository's npm imports,
 * as the README tells an outside program to do.
 */
async function outsideProject(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "readme-program-" });
  const ours = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  await Deno.writeTextFile(
    join(dir, "deno.json"),
    JSON.stringify({
      imports: {
        "@deno-gitaly/server/client": `file://${join(ROOT, "src/client/mod.ts")}`,
        ...ours.imports,
      },
    }),
  );
  return dir;
}

async function deno(args: string[], cwd: string, env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

Deno.test("README: every example under tests/examples/ is shown as it is", async () => {
  const blocks = await readmeBlocks();
  const shown = new Map<string, string>();
  for (const block of blocks) {
    const name = /^\/\/ tests\/examples\/([a-z_]+\.ts)/.exec(block)?.[1];
    if (name) shown.set(name, block);
  }
  const examples: string[] = [];
  for await (const entry of Deno.readDir(new URL(".", import.meta.url))) {
    if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) examples.push(entry.name);
  }
  assert(examples.length >= 9, `examples: ${examples}`);
  for (const name of examples.sort()) {
    const file = await Deno.readTextFile(new URL(`./${name}`, import.meta.url));
    assert(shown.has(name), `the README does not show tests/examples/${name}`);
    assertEquals(shown.get(name), file.replaceAll(REPO_IMPORT, PACKAGE_IMPORT), name);
  }
});

Deno.test("README: the TypeScript blocks type-check in an outside program", async () => {
  const blocks = await readmeBlocks();
  const dir = await outsideProject();
  try {
    const files = [];
    for (const [i, block] of blocks.entries()) {
      const file = join(dir, `block_${i}.ts`);
      await Deno.writeTextFile(file, block);
      files.push(file);
    }
    const out = await deno(["check", "--quiet", ...files], dir);
    assertEquals(out.code, 0, out.stderr + out.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("README: an outside program imports the client and runs the pooled example", async () => {
  const pooled = (await readmeBlocks()).find((b) => b.startsWith("// tests/examples/pooled.ts"));
  assert(pooled, "no pooled example in the README");
  const dir = await outsideProject();
  const server = await startTestServer({ token: "readme" });
  try {
    await Deno.writeTextFile(join(dir, "main.ts"), pooled);
    const env = { GITALY_ADDRESS: server.unixAddress, GITALY_TOKEN: "readme" };
    const out = await deno(["run", "-A", "main.ts"], dir, env);
    assertEquals(out.code, 0, out.stderr);
    assertEquals(JSON.parse(out.stdout).exists, true);

    // The other way in: a file: URL, with this repository's import map entries copied.
    const imports = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json"))).imports;
    await Deno.writeTextFile(join(dir, "deno.json"), JSON.stringify({ imports }));
    const url = new URL("src/client/mod.ts", `file://${ROOT}`).href;
    await Deno.writeTextFile(join(dir, "main.ts"), pooled.replace(PACKAGE_IMPORT, `"${url}"`));
    const direct = await deno(["run", "-A", "main.ts"], dir, env);
    assertEquals(direct.code, 0, direct.stderr);
    assertEquals(JSON.parse(direct.stdout).exists, true);
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
