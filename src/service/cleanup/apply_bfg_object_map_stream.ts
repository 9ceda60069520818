/**
 * `ApplyBfgObjectMapStream`: after a history rewrite (BFG or git
 * filter-repo), removes the internal references (keep-around, merge
 * requests, pipelines, environments, remotes, tmp) that point at rewritten
 * commits, in one reference transaction, and reports every rewritten
 * object with its new object's type.
 *
 * @module
 */
import { RecordReader } from "../../git/lines.ts";
import { isValidOid, readObjectFormat } from "../../git/objectid.ts";
import { RefUpdater } from "../../git/updateref.ts";
import {
  type ApplyBfgObjectMapStreamResponse_Entry,
  type Init,
  ObjectType,
} from "../../proto/types.ts";
import { invalidArgument, wrapError } from "../../server/errors.ts";
import { bidiStream, type Rpc } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { SizeChunker } from "../shared/chunker.ts";
import { firstRequest, requestBytes } from "../shared/git_stream.ts";

/** The reference namespaces GitLab uses internally. */
export const INTERNAL_REF_PREFIXES = [
  "refs/environments/",
  "refs/keep-around/",
  "refs/merge-requests/",
  "refs/pipelines/",
  "refs/remotes/",
  "refs/tmp/",
];

/** The header line of git filter-repo's commit map. */
const FILTER_REPO_HEADER = "old                                      new";

const TYPES: Record<string, ObjectType> = {
  commit: ObjectType.COMMIT,
  blob: ObjectType.BLOB,
  tree: ObjectType.TREE,
  tag: ObjectType.TAG,
};

/** Builds the handler. */
export function applyBfgObjectMapStream(
  deps: ServiceDeps,
): Rpc<"gitaly.CleanupService", "ApplyBfgObjectMapStream"> {
  return bidiStream(async (requests, ctx, send) => {
    const { first, rest } = await firstRequest(requests);
    const repoPath = await deps.locator.repoPath(first.repository);
    const table = await internalRefsByTarget(deps, repoPath, ctx.signal);
    const chunker = new SizeChunker<Init<ApplyBfgObjectMapStreamResponse_Entry>>(
      "gitaly.ApplyBfgObjectMapStreamResponse.Entry",
      (entries) => send({ entries }),
    );
    const all = (async function* () {
      yield first;
      for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
    })();
    const source = requestBytes(all, (request) => request.object_map);
    const reader = new RecordReader(source);
    const deletions: string[] = [];
    for (let line = 0;; line++) {
      const record = await reader.next();
      if (record === null) break;
      const text = new TextDecoder().decode(record).replace(/\r?\n$/, "");
      if (text === FILTER_REPO_HEADER) continue;
      const space = text.indexOf(" ");
      if (space < 0) throw invalidArgument(`object map invalid at line ${line}`);
      const oldOid = text.slice(0, space);
      const newOid = text.slice(space + 1);
      if (!isValidOid(oldOid)) throw invalidArgument(`invalid old object ID at line ${line}`);
      if (!isValidOid(newOid)) throw invalidArgument(`invalid new object ID at line ${line}`);
      if (oldOid === newOid) continue;
      const refs = table.get(oldOid);
      let type = ObjectType.COMMIT;
      if (!refs) {
        const info = await deps.catfile.info(repoPath, newOid, { signal: ctx.signal })
          .catch(() => null);
        type = info ? TYPES[info.type] ?? ObjectType.UNKNOWN : ObjectType.UNKNOWN;
      }
      await chunker.add({ type, old_oid: oldOid, new_oid: newOid });
      if (refs) {
        deps.logger.info("removing internal references", { sha: oldOid, refs: refs.join(" ") });
        deletions.push(...refs);
      }
    }
    if (deletions.length > 0) {
      const updater = await RefUpdater.start(deps.git, repoPath, { signal: ctx.signal });
      try {
        const zero = (await readObjectFormat(repoPath)).zeroOid;
        for (const ref of deletions) await updater.update(new TextEncoder().encode(ref), zero);
        await updater.commit();
      } catch (error) {
        await updater.close();
        throw wrapError("removing internal references", error);
      }
    }
    await chunker.flush();
  });
}

/** Object id → the internal references pointing at it. */
async function internalRefsByTarget(
  deps: ServiceDeps,
  repoPath: string,
  signal: AbortSignal,
): Promise<Map<string, string[]>> {
  const out = await deps.git.runText({
    gitDir: repoPath,
    command: {
      name: "for-each-ref",
      flags: ["--format=%(objectname) %(refname)"],
      args: INTERNAL_REF_PREFIXES,
    },
    signal,
  });
  const table = new Map<string, string[]>();
  for (const line of out.split("\n")) {
    if (line === "") continue;
    const space = line.indexOf(" ");
    const oid = line.slice(0, space);
    table.set(oid, [...table.get(oid) ?? [], line.slice(space + 1)]);
  }
  return table;
}
