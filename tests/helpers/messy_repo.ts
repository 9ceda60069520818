/**
 * Builds a repository in need of housekeeping: `packs` packfiles (one
 * fast-import each) and about `looseObjects` loose objects (a fast-import
 * pack exploded with unpack-objects), all reachable from branches, plus a
 * few unreachable loose blobs and loose refs.
 *
 * @module
 */

async function git(args: string[], options: { stdin?: Uint8Array; cwd?: string } = {}) {
  const child = new Deno.Command("git", {
    args,
    cwd: options.cwd,
    stdin: options.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
    env: {
      GIT_AUTHOR_NAME: "Scrooge",
      GIT_AUTHOR_EMAIL: "scrooge@example.com",
      GIT_COMMITTER_NAME: "Scrooge",
      GIT_COMMITTER_EMAIL: "scrooge@example.com",
    },
  }).spawn();
  if (options.stdin) {
    const writer = child.stdin.getWriter();
    await writer.write(options.stdin);
    await writer.close();
  }
  const out = await child.output();
  if (!out.success) {
    throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout).trim();
}

/** A fast-import stream of `commits` commits on `branch`, each adding `files` new blobs. */
function stream(branch: string, tag: string, commits: number, files: number, parent?: string) {
  const lines: string[] = [];
  for (let c = 0; c < commits; c++) {
    lines.push(`commit refs/heads/${branch}`);
    lines.push(`committer Scrooge <scrooge@example.com> ${1700000000 + c} +0000`);
    const msg = `${tag} commit ${c}`;
    lines.push(`data ${new TextEncoder().encode(msg).length}`, msg);
    if (c === 0 && parent) lines.push(`from ${parent}`);
    for (let f = 0; f < files; f++) {
      const content = `${tag} ${c} ${f}\n`;
      lines.push(`M 100644 inline ${tag}/${c}/${f}.txt`, `data ${content.length}`, content);
    }
    lines.push("");
  }
  return new TextEncoder().encode(lines.join("\n") + "\n");
}

/** Options of {@link buildMessyRepo}. */
export interface MessyRepoOptions {
  packs: number;
  looseObjects: number;
  /** Unreachable loose blobs (recent, so within the grace period). */
  unreachable?: number;
  /** Makes the objects differ from an earlier call's (default "l"). */
  seed?: string;
}

/** Fills the existing bare repository at `path`. */
export async function buildMessyRepo(path: string, options: MessyRepoOptions): Promise<void> {
  for (let p = 0; p < options.packs; p++) {
    const parent = p === 0 ? undefined : "refs/heads/main^0";
    await git(["-C", path, "-c", "fastimport.unpackLimit=0", "fast-import", "--quiet"], {
      stdin: stream("main", `p${p}`, 3, 3, parent),
    });
    if (p % 5 === 0) await git(["-C", path, "update-ref", `refs/heads/pack-${p}`, "main"]);
  }
  if (options.looseObjects > 0) {
    // Each commit: files blobs, their trees and the commit.
    const files = 38;
    const commits = Math.max(1, Math.round(options.looseObjects / (files + 3)));
    const scratch = await Deno.makeTempDir({ prefix: "messy-scratch-" });
    try {
      await git(["init", "-q", "--bare", scratch]);
      await git(["-C", scratch, "fast-import", "--quiet"], {
        stdin: stream("loose", options.seed ?? "l", commits, files),
      });
      const packDir = `${scratch}/objects/pack`;
      for await (const entry of Deno.readDir(packDir)) {
        if (!entry.name.endsWith(".pack")) continue;
        const bytes = await Deno.readFile(`${packDir}/${entry.name}`);
        await git(["-C", path, "unpack-objects", "-q"], { stdin: bytes });
      }
      const tip = await git(["-C", scratch, "rev-parse", "refs/heads/loose"]);
      await git(["-C", path, "update-ref", "refs/heads/loose", tip]);
    } finally {
      await Deno.remove(scratch, { recursive: true });
    }
  }
  for (let u = 0; u < (options.unreachable ?? 0); u++) {
    await git(["-C", path, "hash-object", "-w", "--stdin"], {
      stdin: new TextEncoder().encode(`unreachable ${u}\n`),
    });
  }
}
