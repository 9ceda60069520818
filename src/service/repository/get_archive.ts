/**
 * `GetArchive`: `git archive` of a commit (or of one directory of it, with
 * `elide_path` as the archive's root), minus excluded paths, as zip or
 * tar, tar.gz (`gzip -c -n`) or tar.bz2, streamed with backpressure.
 * LFS objects would have to come from GitLab's LFS API, which is not wired
 * in: `include_lfs_blobs` is refused with FailedPrecondition rather than
 * answered with pointer files.
 *
 * @module
 */
import { posix } from "node:path";
import { chunkStream } from "../../git/chunk.ts";
import { revisionProblem } from "../../git/revision.ts";
import { GetArchiveRequest_Format as Format } from "../../proto/types.ts";
import { failedPrecondition, internal, invalidArgument } from "../../server/errors.ts";
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { describeExit } from "../shared/git_stream.ts";

const FORMATS: Record<number, { format: string; compress?: string[] }> = {
  [Format.ZIP]: { format: "zip" },
  [Format.TAR]: { format: "tar" },
  [Format.TAR_GZ]: { format: "tar", compress: ["gzip", "-c", "-n"] },
  [Format.TAR_BZ2]: { format: "tar", compress: ["bzip2", "-c"] },
};

/** Builds the handler. */
export function getArchive(deps: ServiceDeps): Rpc<"gitaly.RepositoryService", "GetArchive"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const path = cleanRelative(text(req.path));
    const exclude = req.exclude.map((e) => cleanRelative(text(e)));
    const problem = revisionProblem(req.commit_id);
    if (problem) throw invalidArgument(`invalid commitId: ${problem}`);
    const format = FORMATS[req.format];
    if (!format) throw invalidArgument("invalid format");
    const exists = async (p: string) =>
      (await deps.catfile.info(repoPath, `${req.commit_id}:${p}`, { signal: ctx.signal })) !== null;
    if (path !== "." && !await exists(path)) throw failedPrecondition("path doesn't exist");
    for (const [i, e] of exclude.entries()) {
      if (!await exists(e)) throw failedPrecondition(`exclude[${i}] doesn't exist`);
    }
    if (req.elide_path) {
      for (const [i, e] of exclude.entries()) {
        if (!e.startsWith(path + "/")) {
          throw invalidArgument(
            `invalid exclude: ${JSON.stringify(e)} is not a subdirectory of ${
              JSON.stringify(path)
            }`,
          );
        }
        exclude[i] = e.slice(path.length + 1);
      }
    }
    if (req.include_lfs_blobs) {
      throw failedPrecondition("include_lfs_blobs needs GitLab's LFS API, which is not configured");
    }
    const pathspecs = req.elide_path ? [] : [path];
    for (const e of exclude) pathspecs.push(`:(exclude)${e}`);
    const treeish = req.elide_path && path !== "." ? `${req.commit_id}:${path}` : req.commit_id;
    const git = await deps.git.start({
      gitDir: repoPath,
      command: {
        name: "archive",
        flags: [`--format=${format.format}`, `--prefix=${req.prefix}/`],
        args: [treeish],
        postSepArgs: pathspecs,
      },
      signal: ctx.signal,
    });
    let output: ReadableStream<Uint8Array> = git.stdout;
    let compressor: Deno.ChildProcess | undefined;
    if (format.compress) {
      compressor = new Deno.Command(format.compress[0], {
        args: format.compress.slice(1),
        stdin: "piped",
        stdout: "piped",
        stderr: "null",
        env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
        clearEnv: true,
      }).spawn();
      git.stdout.pipeTo(compressor.stdin).catch(() => {});
      output = compressor.stdout;
    }
    try {
      for await (const data of chunkStream(output, { signal: ctx.signal })) await send({ data });
    } catch (error) {
      git.kill();
      try {
        compressor?.kill("SIGKILL");
      } catch {
        // already gone
      }
      await git.wait();
      await compressor?.status;
      throw error;
    }
    const exit = await git.wait();
    const compressed = await compressor?.status;
    if (exit.code !== 0) throw internal(describeExit(exit)).withField("git.stderr", exit.stderr);
    if (compressed && !compressed.success) {
      throw internal(`${format.compress![0]}: exit status ${compressed.code}`);
    }
  });
}

/** A path relative to the tree's root, cleaned; InvalidArgument when it leaves the tree. */
function cleanRelative(path: string): string {
  const cleaned = posix.normalize(path === "" ? "." : path).replace(/\/$/, "");
  if (posix.isAbsolute(cleaned) || cleaned === ".." || cleaned.startsWith("../")) {
    throw invalidArgument("relative path escapes root directory");
  }
  return cleaned === "" ? "." : cleaned;
}
