/**
 * `GetRawChanges`: every path changed between two revisions with its
 * operation, modes and the blob (id and size) on the side that exists,
 * batched by size. A zero `from` means the empty tree; a zero `to` means
 * no changes.
 *
 * @module
 */
import { RecordReader } from "../../git/lines.ts";
import { isZeroOid, readObjectFormat } from "../../git/objectid.ts";
import {
  type GetRawChangesResponse_RawChange,
  GetRawChangesResponse_RawChange_Operation as Operation,
  type Init,
} from "../../proto/types.ts";
import { internal, invalidArgument, wrapError } from "../../server/errors.ts";
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { SizeChunker } from "../shared/chunker.ts";
import { describeExit } from "../shared/git_stream.ts";

const OPERATIONS: Record<string, Operation> = {
  A: Operation.ADDED,
  C: Operation.COPIED,
  D: Operation.DELETED,
  M: Operation.MODIFIED,
  R: Operation.RENAMED,
  T: Operation.TYPE_CHANGED,
};

/** Builds the handler. */
export function getRawChanges(deps: ServiceDeps): Rpc<"gitaly.RepositoryService", "GetRawChanges"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    let from = req.from_revision;
    const to = req.to_revision;
    for (const [name, revision] of [["from", from], ["to", to]]) {
      if (isZeroOid(revision)) continue;
      const info = revision === "" || revision.includes("\n")
        ? null
        : await deps.catfile.info(repoPath, revision, { signal: ctx.signal }).catch(() => null);
      if (info === null) {
        throw invalidArgument(`invalid '${name}' revision: ${JSON.stringify(revision)}`);
      }
    }
    if (isZeroOid(to)) return;
    if (isZeroOid(from)) from = (await readObjectFormat(repoPath)).emptyTreeOid;

    const git = await deps.git.start({
      gitDir: repoPath,
      command: { name: "diff", flags: ["--raw", "-z"], args: [from, to] },
      signal: ctx.signal,
    });
    const chunker = new SizeChunker<Init<GetRawChangesResponse_RawChange>>(
      "gitaly.GetRawChangesResponse.RawChange",
      (raw_changes) => send({ raw_changes }),
    );
    try {
      const reader = new RecordReader(git.stdout);
      while (true) {
        const change = await nextChange(deps, repoPath, reader, ctx.signal);
        if (change === null) break;
        await chunker.add(change);
      }
    } catch (error) {
      git.kill();
      await git.wait();
      throw wrapError("read diff", error);
    }
    const exit = await git.wait();
    ctx.signal.throwIfAborted();
    if (exit.code !== 0) throw internal(`wait git diff: ${describeExit(exit)}`);
    await chunker.flush();
  });
}

/** One `--raw -z` record: `:<old mode> <new mode> <old> <new> <status>\0<path>\0[<new path>\0]`. */
async function nextChange(
  deps: ServiceDeps,
  repoPath: string,
  reader: RecordReader,
  signal: AbortSignal,
): Promise<Init<GetRawChangesResponse_RawChange> | null> {
  const head = await reader.next(0);
  if (head === null) return null;
  const fields = new TextDecoder().decode(head.subarray(0, head.byteLength - 1)).replace(/^:/, "")
    .split(" ");
  if (fields.length !== 5) throw new Error(`unexpected raw diff line ${JSON.stringify(fields)}`);
  const [oldMode, newMode, oldId, newId, status] = fields;
  const path = await field(reader);
  const change: Init<GetRawChangesResponse_RawChange> = {
    old_mode: parseInt(oldMode, 8),
    new_mode: parseInt(newMode, 8),
    operation: OPERATIONS[status[0]] ?? Operation.UNKNOWN,
    old_path_bytes: path,
    new_path_bytes: path,
  };
  if (status[0] === "R" || status[0] === "C") change.new_path_bytes = await field(reader);
  if (status[0] === "A") delete change.old_path_bytes;
  if (status[0] === "D") delete change.new_path_bytes;
  const [blobId, blobMode] = /^0+$/.test(newId) ? [oldId, oldMode] : [newId, newMode];
  if (blobMode !== "160000") {
    const info = await deps.catfile.info(repoPath, blobId, { signal });
    if (info === null) throw new Error(`find ${JSON.stringify(blobId)}: object not found`);
    change.blob_id = info.oid;
    change.size = info.size;
  }
  return change;
}

async function field(reader: RecordReader): Promise<Uint8Array> {
  const record = await reader.next(0);
  if (record === null) throw new Error("unexpected end of raw diff");
  return record.subarray(0, record.byteLength - 1);
}
