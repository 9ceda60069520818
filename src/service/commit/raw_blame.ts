/**
 * `RawBlame`: `git blame -p` of `path` at `revision`, optionally for the
 * lines `range` (`start,end`), streamed as git writes it. A missing path
 * is `NotFound` and a range past the end of the file `InvalidArgument`,
 * each with Gitaly's `RawBlameError` detail.
 *
 * @module
 */
import { validateRevision } from "../../git/revision.ts";
import { internal, invalidArgument, notFound } from "../../server/errors.ts";
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { describeExit, runStreamed } from "../shared/git_stream.ts";
import { escapesRoot } from "./trees.ts";

const BLAME_RANGE = /^\d+,\d+$/;
const LINE_COUNT_ERROR = /^fatal: file .* has only (\d+) lines?\n$/s;

/** Builds the handler. */
export function rawBlame(deps: ServiceDeps): Rpc<"gitaly.CommitService", "RawBlame"> {
  return serverStream(async (req, ctx, send) => {
    const gitDir = await deps.locator.repoPath(req.repository);
    const revision = text(req.revision);
    validateRevision(revision);
    if (!req.path?.length) throw invalidArgument("empty Path");
    const path = text(req.path);
    if (escapesRoot(path)) {
      throw invalidArgument("path escapes repository root").withField("path", path);
    }
    const range = text(req.range);
    if (range !== "" && !BLAME_RANGE.test(range)) throw invalidArgument("invalid Range");

    const flags = ["-p"];
    if (range !== "") flags.push(`-L${range}`);
    const exit = await runStreamed(deps.git, {
      gitDir,
      command: { name: "blame", flags, args: [revision], postSepArgs: [path] },
      signal: ctx.signal,
    }, { stdout: (data) => send({ data }) });
    if (exit.code === 0) return;

    const stderr = exit.stderr;
    if (stderr.startsWith("fatal: no such path ")) {
      throw notFound("path not found in revision")
        .withField("path", path)
        .withField("revision", revision)
        .withDetail("gitaly.RawBlameError", { path_not_found: { path: req.path } });
    }
    const lines = LINE_COUNT_ERROR.exec(stderr);
    if (lines) {
      throw invalidArgument("range is outside of the file length")
        .withField("path", path)
        .withField("revision", revision)
        .withField("lines", lines[1])
        .withDetail("gitaly.RawBlameError", {
          out_of_range: { actual_lines: Number(lines[1]) },
        });
    }
    throw internal(`blaming file: ${describeExit(exit)}`).withField("stderr", stderr);
  });
}
