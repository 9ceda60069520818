/**
 * `ApplyGitattributes`: makes `info/attributes` a copy of the
 * `.gitattributes` blob at the root of a commit's tree, written through a
 * `.lock` file and renamed into place; removes it when the commit has no
 * such blob. The revision must name a commit (`InvalidArgument: revision
 * does not exist` otherwise, as from Gitaly).
 *
 * @module
 */
import { join } from "node:path";
import { validateRevision } from "../../git/revision.ts";
import { failedPrecondition, invalidArgument } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";

/** Builds the handler. */
export function applyGitattributes(
  deps: ServiceDeps,
): Rpc<"gitaly.RepositoryService", "ApplyGitattributes"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const revision = text(req.revision);
    validateRevision(revision, { context: "revision" });
    const options = { signal: ctx.signal };
    const commit = await deps.catfile.info(repoPath, `${revision}^{commit}`, options);
    if (!commit) throw invalidArgument("revision does not exist");
    const infoDir = join(repoPath, "info");
    await Deno.mkdir(infoDir, { recursive: true });
    const target = join(infoDir, "attributes");
    const lock = `${target}.lock`;
    let file: Deno.FsFile;
    try {
      file = await Deno.open(lock, { createNew: true, write: true, mode: 0o644 });
    } catch (err) {
      if (err instanceof Deno.errors.AlreadyExists) {
        throw failedPrecondition("locking gitattributes: file already locked");
      }
      throw err;
    }
    try {
      const path = `${commit.oid}:.gitattributes`;
      const blob = await deps.catfile.info(repoPath, path, options);
      if (blob?.type !== "blob") {
        file.close();
        await Deno.remove(target).catch((err) => {
          if (!(err instanceof Deno.errors.NotFound)) throw err;
        });
        return {};
      }
      const object = await deps.catfile.object(repoPath, path, options);
      if (!object) throw new Error(`${path} vanished`);
      await object.content.pipeTo(file.writable);
      await Deno.chmod(lock, 0o644);
      await Deno.rename(lock, target);
    } finally {
      try {
        file.close();
      } catch {
        // closed by pipeTo or above
      }
      await Deno.remove(lock).catch(() => {});
    }
    return {};
  });
}
