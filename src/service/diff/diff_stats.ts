/**
 * `DiffStats`: lines added and deleted per file between two commits
 * (`git diff --numstat -z`), 1,000 files a message as Gitaly batches them.
 *
 * @module
 */
import { RecordReader } from "../../git/lines.ts";
import type { DiffStats, Init } from "../../proto/types.ts";
import { Code, GrpcError, internal } from "../../server/errors.ts";
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { CountChunker } from "../shared/chunker.ts";
import { describeExit } from "../shared/git_stream.ts";
import { validateLeftRight } from "./each_diff.ts";

/** Gitaly's batch size for DiffStats. */
const STATS_PER_MESSAGE = 1000;

/** Builds the handler. */
export function diffStats(deps: ServiceDeps): Rpc<"gitaly.DiffService", "DiffStats"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await validateLeftRight(deps, req);
    const git = await deps.git.start({
      gitDir: repoPath,
      command: {
        name: "diff",
        flags: ["--numstat", "-z"],
        args: [req.left_commit_id, req.right_commit_id],
      },
      signal: ctx.signal,
    });
    const chunker = new CountChunker<Init<DiffStats>>(
      (stats) => send({ stats }),
      STATS_PER_MESSAGE,
    );
    try {
      const reader = new RecordReader(git.stdout);
      while (true) {
        const stat = await nextNumStat(reader);
        if (stat === null) break;
        await chunker.add(stat);
      }
    } catch (error) {
      git.kill();
      await git.wait();
      throw error;
    }
    const exit = await git.wait();
    ctx.signal.throwIfAborted();
    if (exit.code !== 0) {
      throw new GrpcError(Code.FAILED_PRECONDITION, describeExit(exit), {
        fields: { "git.stderr": exit.stderr },
      });
    }
    await chunker.flush();
  });
}

/** Parses one `--numstat -z` record: `<added>\t<deleted>\t<path>\0` or, for a rename, `…\t\0<old>\0<new>\0`. */
async function nextNumStat(reader: RecordReader): Promise<Init<DiffStats> | null> {
  const record = await reader.next(0);
  if (record === null) return null;
  const fields = splitTabs(record, 3);
  if (fields.length !== 3 || fields[2].byteLength === 0) {
    throw internal(`error parsing ${JSON.stringify(new TextDecoder().decode(record))}`);
  }
  const additions = numStat(fields[0]);
  const deletions = numStat(fields[1]);
  const rest = fields[2];
  if (!(rest.byteLength === 1 && rest[0] === 0)) {
    return { additions, deletions, path: rest.subarray(0, rest.byteLength - 1) };
  }
  const oldPath = await reader.next(0);
  const newPath = await reader.next(0);
  if (oldPath === null || newPath === null) throw internal("EOF");
  return {
    additions,
    deletions,
    old_path: oldPath.subarray(0, oldPath.byteLength - 1),
    path: newPath.subarray(0, newPath.byteLength - 1),
  };
}

function splitTabs(bytes: Uint8Array, max: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  while (out.length < max - 1) {
    const tab = bytes.indexOf(0x09, start);
    if (tab < 0) break;
    out.push(bytes.subarray(start, tab));
    start = tab + 1;
  }
  out.push(bytes.subarray(start));
  return out;
}

function numStat(field: Uint8Array): number {
  const text = new TextDecoder().decode(field);
  if (text === "-") return 0; // binary
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > 0x7fffffff) {
    throw internal(`error converting diff num stat: ${JSON.stringify(text)}`);
  }
  return value;
}
