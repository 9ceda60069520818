import { join } from "node:path";
import { entryFor, type TarEntry, tarStream } from "../../../src/service/repository/tar_writer.ts";
import { snapshotEntries } from "../../../src/service/repository/get_snapshot.ts";
import { extractTar } from "../../../src/service/repository/tar_process.ts";
import { createRepo, gitOk, listRefs } from "../../helpers/gitrepo.ts";
import { assert, assertEquals } from "../../helpers/assert.ts";

Deno.test("tar writer: GNU tar extracts files, modes, directories and long names", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const src = join(dir, "src");
    const longDir = "d".repeat(90) + "/" + "e".repeat(90);
    await Deno.mkdir(join(src, longDir), { recursive: true });
    await Deno.writeTextFile(join(src, "script"), "#!/bin/sh\n", { mode: 0o755 });
    const big = new Uint8Array(200_001).map((_, i) => (i * 31 + (i >> 9)) & 0xff);
    await Deno.writeFile(join(src, longDir, "f".repeat(120)), big);
    const names = ["script", longDir, `${longDir}/${"f".repeat(120)}`];
    const out = join(dir, "out");
    await Deno.mkdir(out);
    await extractTar(out, tarStream(entriesOf(src, names)));
    assertEquals(await Deno.readTextFile(join(out, "script")), "#!/bin/sh\n");
    assert(((await Deno.stat(join(out, "script"))).mode! & 0o111) !== 0, "mode kept");
    const copy = await Deno.readFile(join(out, longDir, "f".repeat(120)));
    assertEquals(copy.length, big.length);
    assert(copy.every((b, i) => b === big[i]), "content kept");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function* entriesOf(dir: string, names: string[]): AsyncGenerator<TarEntry> {
  for (const name of names) yield (await entryFor(join(dir, name), name))!;
}

Deno.test("snapshot: a fresh repository plus the snapshot has the source's refs and objects", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const source = join(dir, "source.git");
    await createRepo(source, { commits: 3 });
    await gitOk(["--git-dir", source, "pack-refs", "--all"]);
    await gitOk(["--git-dir", source, "branch", "loose", "HEAD~1"]);
    await gitOk(["--git-dir", source, "config", "secret.token", "do-not-copy"]);
    const target = join(dir, "target.git");
    await gitOk(["init", "--bare", "--quiet", target]);
    await extractTar(target, tarStream(snapshotEntries(dir, source)));
    assertEquals(await listRefs(target), await listRefs(source));
    await gitOk(["--git-dir", target, "fsck", "--no-progress"]);
    const config = await Deno.readTextFile(join(target, "config"));
    assert(!config.includes("do-not-copy"), "config is not part of a snapshot");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
