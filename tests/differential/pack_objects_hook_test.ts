/**
 * HookService PackObjectsHookWithSidechannel, ours against the reference
 * Gitaly: the test plays the hook (a Unix socket named `sidechannel`,
 * named in `gitaly-sidechannel-socket`), sends pack-objects' input and
 * compares the side-band answer (a pack with the same objects) and the
 * errors for bad commands, bad socket addresses and missing repositories.
 *
 * @module
 */
import { join } from "node:path";
import { assert, assertEquals } from "../helpers/assert.ts";
import { demultiplexSideband } from "../../src/sidechannel/sideband.ts";
import { differentialTest, type Harness, type RepoRef, type Side, SIDES } from "./harness.ts";

const HS = "gitaly.HookService";
const PACK_ARGS = [
  "pack-objects",
  "--revs",
  "--thin",
  "--stdout",
  "--progress",
  "--delta-base-offset",
];

/** Serves one hook connection on `side`: sends `input`, collects stdout and stderr. */
async function hookSocket(h: Harness, side: Side, input: string) {
  const dir = await Deno.makeTempDir({ dir: h.dir, prefix: `chan-${side}-` });
  const path = join(dir, "sidechannel");
  const listener = Deno.listen({ transport: "unix", path });
  const out: Uint8Array[] = [];
  let err = "";
  const served = (async () => {
    const conn = await listener.accept();
    listener.close();
    await conn.write(new TextEncoder().encode(input));
    await conn.closeWrite();
    await demultiplexSideband(conn.readable, {
      stdout: (chunk) => Promise.resolve(void out.push(chunk.slice())),
      stderr: (chunk) => Promise.resolve(void (err += new TextDecoder().decode(chunk))),
    });
  })();
  return {
    path,
    done: async () => {
      await served;
      const size = out.reduce((n, c) => n + c.byteLength, 0);
      const pack = new Uint8Array(size);
      let at = 0;
      for (const c of out) pack.set(c, (at += c.byteLength) - c.byteLength);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      return { pack, stderr: err };
    },
  };
}

/** The number of objects a pack's header announces. */
function packObjects(pack: Uint8Array): number {
  assertEquals(new TextDecoder().decode(pack.subarray(0, 4)), "PACK");
  return new DataView(pack.buffer, pack.byteOffset).getUint32(8);
}

differentialTest("PackObjectsHookWithSidechannel packs what the hook asks for", async (h) => {
  const repo: RepoRef = await h.repo("rich", { shared: true });
  const head = (await h.git("ours", repo, ["rev-parse", "HEAD"])).trim();
  const counts: Record<string, number> = {};
  for (const side of SIDES) {
    const socket = await hookSocket(h, side, `${head}\n`);
    const result = await h.callSide(side, HS, "PackObjectsHookWithSidechannel", {
      repository: repo,
      args: PACK_ARGS,
      gl_id: "user-1",
    }, { metadata: { "gitaly-sidechannel-socket": socket.path } });
    assert(result.ok, JSON.stringify(result));
    const { pack, stderr } = await socket.done();
    counts[side] = packObjects(pack);
    assert(stderr.includes("Total "), stderr);
  }
  assertEquals(counts.ours, counts.reference);
  assert(counts.ours > 10, String(counts.ours));
});

differentialTest("PackObjectsHookWithSidechannel refuses bad commands and sockets", async (h) => {
  const repo: RepoRef = await h.repo("rich", { shared: true });
  for (
    const args of [
      [],
      ["rev-list"],
      ["pack-objects", "--revs"],
      ["pack-objects", "--stdout", "base-name"],
      ["--shallow-file", "", "pack-objects", "--stdout", "--evil"],
    ]
  ) {
    await h.compare(HS, "PackObjectsHookWithSidechannel", { repository: repo, args }, {
      metadata: { "gitaly-sidechannel-socket": "/tmp/x/sidechannel" },
      message: (m) => m.replace(/dial unix \S+/, "dial unix <socket>"),
    });
  }
  const good = { repository: repo, args: ["pack-objects", "--stdout"] };
  await h.compare(HS, "PackObjectsHookWithSidechannel", good);
  await h.compare(HS, "PackObjectsHookWithSidechannel", good, {
    metadata: { "gitaly-sidechannel-socket": "/tmp/not-a-socket" },
  });
  // A socket nobody listens on: the same code and reason.
  const results = await h.call(
    HS,
    "PackObjectsHookWithSidechannel",
    good,
    { metadata: { "gitaly-sidechannel-socket": join(h.dir, "nowhere", "sidechannel") } },
  );
  for (const side of SIDES) {
    const r = results[side];
    assert(!r.ok && r.codeName === "Internal", JSON.stringify(r));
    assert(r.message.endsWith("connect: no such file or directory"), r.message);
  }
  await h.compare(HS, "PackObjectsHookWithSidechannel", {
    repository: { storage_name: "default", relative_path: "differential/missing.git" },
    args: ["pack-objects", "--stdout"],
  });
  await h.compare(HS, "PackObjectsHookWithSidechannel", { args: ["pack-objects", "--stdout"] });
});
