/**
 * `GetFileAttributes`: the gitattributes of paths as a revision's
 * `.gitattributes` files (and `info/attributes`) define them; unspecified
 * attributes are left out.
 *
 * git 2.39 has no `check-attr --source`: the revision's tree is read into
 * a temporary index, which `check-attr --cached` reads the same
 * `.gitattributes` files from.
 *
 * @module
 */
import { join } from "node:path";
import { RecordReader } from "../../git/lines.ts";
import { validateRevision } from "../../git/revision.ts";
import type { GetFileAttributesResponse_AttributeInfo, Init } from "../../proto/types.ts";
import { Code, GrpcError, invalidArgument } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { describeExit } from "../shared/git_stream.ts";
import { makeStorageTempDir } from "../shared/storage.ts";

/** Builds the handler. */
export function getFileAttributes(
  deps: ServiceDeps,
): Rpc<"gitaly.RepositoryService", "GetFileAttributes"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const revision = text(req.revision);
    if (revision === "") throw invalidArgument("revision is required");
    validateRevision(revision, { context: "revision" });
    if (req.attributes.length === 0) throw invalidArgument("attributes are required");
    if (req.paths.length === 0) throw invalidArgument("file paths are required");
    for (const path of req.paths) {
      if (path.includes("\0")) {
        throw new GrpcError(Code.INTERNAL, "check attr: path with NUL byte not allowed");
      }
    }
    const storagePath = deps.locator.storagePath(req.repository?.storage_name);
    const tmp = await makeStorageTempDir(storagePath, "attributes-");
    try {
      const env = { GIT_INDEX_FILE: join(tmp, "index") };
      const readTree = await deps.git.run({
        gitDir: repoPath,
        command: { name: "read-tree", args: [revision] },
        env,
        signal: ctx.signal,
      });
      if (readTree.code !== 0) {
        throw new GrpcError(
          Code.INTERNAL,
          `check attr: ${describeExit({ ...readTree, stderrDropped: 0 })}`,
          {
            fields: { stderr: readTree.stderr },
          },
        );
      }
      const check = await deps.git.start({
        gitDir: repoPath,
        command: { name: "check-attr", flags: ["--cached", "--stdin", "-z"], args: req.attributes },
        env,
        stdin: new TextEncoder().encode(req.paths.map((p) => `${p}\0`).join("")),
        signal: ctx.signal,
      });
      const infos: Init<GetFileAttributesResponse_AttributeInfo>[] = [];
      const reader = new RecordReader(check.stdout);
      const word = async () => {
        const record = await reader.next(0);
        return record === null
          ? null
          : new TextDecoder().decode(record.subarray(0, record.byteLength - 1));
      };
      while (true) {
        const path = await word();
        if (path === null) break;
        const attribute = await word();
        const value = await word();
        if (attribute === null || value === null) break;
        if (value !== "unspecified") infos.push({ path, attribute, value });
      }
      const exit = await check.wait();
      if (exit.code !== 0) {
        throw new GrpcError(Code.INTERNAL, `check attr: ${describeExit(exit)}`, {
          fields: { stderr: exit.stderr },
        });
      }
      return { attribute_infos: infos };
    } finally {
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  });
}
