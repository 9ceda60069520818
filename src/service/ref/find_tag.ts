import { concatBytes } from "../../git/command.ts";
import { ascii } from "../../git/commit_parser.ts";
import { trimTagMessage } from "../../git/tag_parser.ts";
import { Code, GrpcError, invalidArgument } from "../../server/errors.ts";
import type { Rpc } from "../../server/rpc.ts";
import { unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { readCommit, readTag } from "../shared/commits.ts";
import { validateRefArgument } from "./for_each_ref.ts";

const encoder = new TextEncoder();

/**
 * `FindTag`: the first tag `git tag -l <tag_name>` lists, as a `Tag`
 * (annotated: its fields, message trimmed, and the commit it peels to;
 * lightweight: the commit it names); `NotFound` with a `FindTagError`
 * when there is none.
 */
export function findTag(deps: ServiceDeps): Rpc<"gitaly.RefService", "FindTag"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    if (req.tag_name.length === 0) throw invalidArgument("tag name is empty");
    const tagName = text(req.tag_name);
    validateRefArgument(tagName, "tag name");
    const listing = await deps.git.runOk({
      gitDir: repoPath,
      command: {
        name: "tag",
        flags: ["-l", "--format=%(objectname) %(objecttype) %(refname:lstrip=2)"],
        postSepArgs: [tagName],
      },
      signal: ctx.signal,
    });
    // `<oid> <type> <name>`: the name stays bytes (tag names need not be UTF-8).
    const out = listing.stdout;
    const line = out.subarray(0, out.indexOf(0x0a) >>> 0);
    if (line.length === 0) {
      throw new GrpcError(Code.NOT_FOUND, "tag does not exist").withDetail("gitaly.FindTagError", {
        tag_not_found: {
          reference_name: concatBytes([encoder.encode("refs/tags/"), req.tag_name]),
        },
      });
    }
    const first = line.indexOf(0x20);
    const second = line.indexOf(0x20, first + 1);
    if (first < 0 || second < 0) throw new Error(`invalid output from git tag: ${ascii(line)}`);
    const oid = ascii(line.subarray(0, first));
    const type = ascii(line.subarray(first + 1, second));
    const name = line.slice(second + 1);
    if (type === "tag") {
      const tag = await readTag(deps, repoPath, oid, name, ctx.signal);
      if (tag === null) throw new Error(`getting annotated tag: ${oid} is not a tag`);
      trimTagMessage(tag);
      return { tag };
    }
    if (type === "commit") {
      const commit = await readCommit(deps, repoPath, oid, ctx.signal);
      if (commit === null) throw new Error(`getting commit catfile: ${oid} not found`);
      return { tag: { id: oid, name, target_commit: commit } };
    }
    return { tag: { id: oid, name } };
  });
}
