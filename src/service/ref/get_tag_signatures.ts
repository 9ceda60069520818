/**
 * `GetTagSignatures`.
 *
 * @module
 */
import { GitCommandError } from "../../git/command.ts";
import { goQuote } from "../../git/goquote.ts";
import { validateRevision } from "../../git/revision.ts";
import { extractTagSignature } from "../../git/tag_parser.ts";
import type { GetTagSignaturesResponse_TagSignature, Init } from "../../proto/types.ts";
import { Code, GrpcError, invalidArgument } from "../../server/errors.ts";
import type { Rpc } from "../../server/rpc.ts";
import { serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { SizeChunker } from "../shared/chunker.ts";
import { readObjectBytes } from "../shared/commits.ts";
import { forEachGitLine } from "../shared/git_lines.ts";

type TagSignature = Init<GetTagSignaturesResponse_TagSignature>;

/**
 * `GetTagSignatures`: every annotated tag object `git rev-list --objects`
 * reaches from `tag_revisions` (revisions, `--all`, `--not`, … as
 * rev-list takes them), each with its signature (from the first
 * `-----BEGIN`, empty for an unsigned tag) and the signed text before it,
 * batched by size as Gitaly's chunker batches them. Revisions are checked
 * with Gitaly's rules (`InvalidArgument "invalid revision: …"`); one that
 * names nothing is `NotFound` (Gitaly: `Internal`) with Gitaly's message.
 */
export function getTagSignatures(deps: ServiceDeps): Rpc<"gitaly.RefService", "GetTagSignatures"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const revisions = req.tag_revisions ?? [];
    if (revisions.length === 0) throw invalidArgument("missing revisions");
    for (const revision of revisions) {
      validateRevision(revision, { allowPseudo: true, context: "invalid revision" });
    }
    const command = {
      name: "rev-list",
      flags: [
        "--in-commit-order",
        "--objects",
        "--object-names",
        "--filter=object:type=tag",
        "--filter-provided-objects",
      ],
      revisions,
    };
    const chunker = new SizeChunker<TagSignature>(
      "gitaly.GetTagSignaturesResponse.TagSignature",
      (signatures) => send({ signatures }),
    );
    const git = await deps.git.start({ gitDir: repoPath, command, signal: ctx.signal });
    await forEachGitLine(git, ["rev-list", ...command.flags, ...revisions], async (line) => {
      const end = line.indexOf(0x20);
      const oid = new TextDecoder().decode(end < 0 ? line : line.subarray(0, end));
      const tag = await readObjectBytes(deps, repoPath, oid, ctx.signal);
      if (tag === null) throw new Error(`reading tag: object not found: ${oid}`);
      const { signature, payload } = extractTagSignature(tag.data);
      await chunker.add({ tag_id: tag.oid, signature: signature ?? undefined, content: payload });
    }).catch((error) => {
      throw error instanceof GitCommandError ? revListError(error) : error;
    });
    await chunker.flush();
  });
}

/** Gitaly's message for a failed rev-list; a revision that names nothing is `NotFound`. */
function revListError(error: GitCommandError): GrpcError {
  const message = `cat-file iterator stop: rev-list pipeline command: exit status ${error.code}, ` +
    `stderr: ${goQuote(error.stderr)}`;
  const unknown = /^fatal: (bad object|ambiguous argument '.*': unknown revision)/m.test(
    error.stderr,
  );
  return new GrpcError(unknown ? Code.NOT_FOUND : Code.INTERNAL, message, { cause: error });
}
