/**
 * `ObjectsSize` (client streaming): the on-disk size of every object
 * reachable from the given revisions (`git rev-list --disk-usage --objects`).
 *
 * @module
 */
import { revisionProblem, stdinRevisions } from "../../git/revision.ts";
import { Code, GrpcError, internal, invalidArgument, notFound } from "../../server/errors.ts";
import { clientStream, type Rpc } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";

/** Builds the handler. */
export function objectsSize(deps: ServiceDeps): Rpc<"gitaly.RepositoryService", "ObjectsSize"> {
  return clientStream(async (requests, ctx) => {
    const revisions: string[] = [];
    let repoPath: string | undefined;
    let first = true;
    for await (const request of requests) {
      if (first) {
        repoPath = await deps.locator.repoPath(request.repository);
      } else if (request.repository) {
        throw invalidArgument("subsequent requests must not contain repository");
      }
      first = false;
      if (request.revisions.length === 0) throw invalidArgument("no revisions specified");
      for (const bytes of request.revisions) {
        const revision = text(bytes);
        const problem = revisionProblem(revision, { allowPseudo: true });
        if (problem) {
          throw invalidArgument(`validating revision: ${problem}`).withField("revision", revision);
        }
        revisions.push(revision);
      }
    }
    if (first) throw internal("receiving initial request: EOF");
    const lines = stdinRevisions(revisions);
    const flags = ["--disk-usage", "--objects"];
    const result = await deps.git.run({
      gitDir: repoPath,
      // Validated above: only rev-list's pseudo revisions start with `-`.
      ...(lines
        ? { command: { name: "rev-list", flags: [...flags, "--stdin"] } }
        : { args: ["rev-list", ...flags, ...revisions] }),
      stdin: lines ? new TextEncoder().encode(lines.map((r) => `${r}\n`).join("")) : "null",
      signal: ctx.signal,
    });
    if (result.code !== 0) {
      const missing = /^fatal: bad revision '([^']*)'/.exec(result.stderr);
      if (missing) throw notFound("revision not found").withField("revision", missing[1]);
      throw new GrpcError(Code.INTERNAL, `rev-list failed with error code ${result.code}`, {
        fields: { stderr: result.stderr },
      });
    }
    return { size: Number(new TextDecoder().decode(result.stdout).trim()) };
  });
}
