/**
 * SSHUploadPack and SSHUploadArchive, ours against the reference Gitaly:
 * the same requests on copies of one repository. A full clone's answer is
 * joined and parsed (the advertised refs without capabilities, the `NAK`,
 * the pack from band 1) and the packs' objects compared after
 * `git index-pack`; an archive's bytes are compared by size and SHA-256;
 * so are the errors of bad input and missing repositories.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { assert, assertEquals } from "../helpers/assert.ts";
import { concatBytes, differentialTest, type Harness, type RepoRef } from "./harness.ts";

const SSH = "gitaly.SSHService";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function pkt(line: string): string {
  return (line.length + 4).toString(16).padStart(4, "0") + line;
}

/** A v0 fetch of `wants` (side-band-64k), no haves. */
function fetchRequest(wants: string[]): Uint8Array {
  const caps = " multi_ack_detailed side-band-64k ofs-delta agent=differential";
  const lines = wants.map((oid, i) => pkt(`want ${oid}${i === 0 ? caps : ""}\n`));
  return encoder.encode(lines.join("") + "0000" + pkt("done\n"));
}

/** The joined stdout and exit status of an SSH call's responses (bytes as Uint8Array). */
function joined(responses: Record<string, unknown>[]) {
  const typed = responses as { stdout?: Uint8Array; exit_status?: { value?: number } | null }[];
  return {
    stdout: concatBytes(typed.map((r) => r.stdout ?? new Uint8Array())),
    exitStatus: typed.find((r) => r.exit_status)?.exit_status?.value ?? 0,
  };
}

/** The pkt-lines of `bytes`: payloads, `null` for special packets. */
function packets(bytes: Uint8Array): (Uint8Array | null)[] {
  const out: (Uint8Array | null)[] = [];
  for (let at = 0; at + 4 <= bytes.byteLength;) {
    const length = parseInt(decoder.decode(bytes.subarray(at, at + 4)), 16);
    if (length < 4) {
      out.push(null);
      at += 4;
    } else {
      out.push(bytes.subarray(at + 4, at + length));
      at += length;
    }
  }
  return out;
}

/** A fetch's answer: the advertised refs (capabilities dropped), the `NAK`, band 1's pack. */
function parseFetch(stdout: Uint8Array) {
  const refs: string[] = [];
  const pack: Uint8Array[] = [];
  let phase: "advertisement" | "nak" | "sideband" = "advertisement";
  let nak = "";
  for (const packet of packets(stdout)) {
    if (packet === null) {
      if (phase === "advertisement") phase = "nak";
    } else if (phase === "advertisement") {
      refs.push(decoder.decode(packet).split("\0")[0].trimEnd());
    } else if (phase === "nak") {
      nak = decoder.decode(packet);
      phase = "sideband";
    } else if (packet[0] === 1) {
      pack.push(packet.subarray(1));
    }
  }
  return { refs, nak, pack: concatBytes(pack) };
}

/**
 * The objects of `pack` (`<oid> <type> <size>` lines, sorted), through
 * `git index-pack` in a scratch repository under `dir` (synchronous: a
 * comparison's join is).
 */
function packObjects(dir: string, pack: Uint8Array): string[] {
  const repo = Deno.makeTempDirSync({ dir, prefix: "unpack-" });
  try {
    const git = (...args: string[]) => {
      const out = new Deno.Command("git", { args: ["--git-dir", repo, ...args] }).outputSync();
      assert(out.success, `git ${args.join(" ")}: ${decoder.decode(out.stderr)}`);
      return decoder.decode(out.stdout);
    };
    git("init", "--bare", "--quiet");
    Deno.writeFileSync(join(repo, "received.pack"), pack);
    git("index-pack", join(repo, "received.pack"));
    Deno.renameSync(join(repo, "received.pack"), join(repo, "objects/pack/received.pack"));
    Deno.renameSync(join(repo, "received.idx"), join(repo, "objects/pack/received.idx"));
    return git("cat-file", "--batch-all-objects", "--batch-check").split("\n").filter(Boolean)
      .sort();
  } finally {
    Deno.removeSync(repo, { recursive: true });
  }
}

async function tips(h: Harness, repo: RepoRef): Promise<string[]> {
  const refs = await h.git("ours", repo, ["for-each-ref", "--format=%(objectname)"]);
  return [...new Set(refs.split("\n").filter(Boolean))];
}

differentialTest(
  "SSHUploadPack: a full clone advertises the same refs and packs the same objects",
  async (h) => {
    const repository = await h.repo("rich", { shared: true });
    const request = fetchRequest(await tips(h, repository));
    const { ours } = await h.compare(SSH, "SSHUploadPack", [{ repository }, { stdin: request }], {
      join: (responses) => {
        const { stdout, exitStatus } = joined(responses);
        const { pack, ...rest } = parseFetch(stdout);
        return { exitStatus, ...rest, objects: packObjects(h.dir, pack) };
      },
    });
    assert(ours.ok);
    const { objects } = ours.responses as { objects: string[] };
    assert(objects.length > 10, `only ${objects.length} objects`);
  },
);

differentialTest("SSHUploadPack: an unknown want and missing repositories", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const unknown = fetchRequest(["0123456789012345678901234567890123456789"]);
  const { ours } = await h.compare(SSH, "SSHUploadPack", [{ repository }, { stdin: unknown }], {
    join: (responses) => parseFetch(joined(responses).stdout).refs,
  });
  assertEquals(ours.ok, false);
  await h.compare(SSH, "SSHUploadPack", [
    { repository: { storage_name: "default", relative_path: "missing.git" } },
    { stdin: fetchRequest(await tips(h, repository)) },
  ]);
  await h.compare(SSH, "SSHUploadPack", [{
    repository: { storage_name: "nope", relative_path: repository.relative_path },
  }]);
});

/**
 * upload-archive's answer: its `ACK`, then the archive from band 1: its
 * size, SHA-256 and `tar -t` listing.
 */
function parseArchive(dir: string, stdout: Uint8Array) {
  const [ack, ...rest] = packets(stdout).filter((p): p is Uint8Array => p !== null);
  const archive = concatBytes(rest.filter((p) => p[0] === 1).map((p) => p.subarray(1)));
  const file = join(dir, `archive-${crypto.randomUUID()}.tar`);
  Deno.writeFileSync(file, archive);
  const listing = new Deno.Command("tar", { args: ["-tf", file] }).outputSync();
  Deno.removeSync(file);
  return {
    ack: decoder.decode(ack),
    size: archive.byteLength,
    sha256: createHash("sha256").update(archive).digest("hex"),
    files: decoder.decode(listing.stdout).split("\n").filter(Boolean),
  };
}

differentialTest("SSHUploadArchive: a tar of HEAD has the same bytes", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const stdin = encoder.encode(pkt("argument --format=tar\n") + pkt("argument HEAD\n") + "0000");
  const { ours } = await h.compare(SSH, "SSHUploadArchive", [{ repository }, { stdin }], {
    join: (responses) => {
      const { stdout, exitStatus } = joined(responses);
      return { exitStatus, ...parseArchive(h.dir, stdout) };
    },
  });
  assert(ours.ok);
  const { size, files } = ours.responses as { size: number; files: string[] };
  assert(size > 5 * 1024 * 1024 && files.includes("large.bin"), `archive of ${size} bytes`);
});

differentialTest("SSHUploadArchive: a refused argument and a missing repository", async (h) => {
  const repository = await h.repo("rich", { shared: true });
  const stdin = encoder.encode(
    pkt("argument --remote=elsewhere\n") + pkt("argument HEAD\n") + "0000",
  );
  const { ours } = await h.compare(SSH, "SSHUploadArchive", [{ repository }, { stdin }], {
    join: (responses) => joined(responses).exitStatus,
  });
  assertEquals(ours.ok, false);
  await h.compare(SSH, "SSHUploadArchive", [
    { repository: { storage_name: "default", relative_path: "missing.git" } },
    { stdin },
  ]);
});
