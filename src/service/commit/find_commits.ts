/**
 * `FindCommits`: Gitaly's `git log` of a revision (the default branch when
 * it is empty, every reference with `all`), with paths (and `follow`),
 * author, dates, merges skipped, first parent, order, offset and limit;
 * each commit with its trailers, short stats and the references pointing
 * at it when asked; batched by size.
 *
 * @module
 */
import { parseCommit, parseTrailers, trimSpace } from "../../git/commit_parser.ts";
import { validateRevision } from "../../git/revision.ts";
import {
  type CommitStatInfo,
  FindCommitsRequest_Order,
  type GitCommit,
  type Init,
} from "../../proto/types.ts";
import { encodeGitCommit } from "../../proto/git_commit_encoder.ts";
import { invalidArgument, wrapError } from "../../server/errors.ts";
import { type Rpc, serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { EncodedChunker } from "../shared/chunker.ts";
import { defaultBranch } from "../ref/for_each_ref.ts";
import { globalOptionsEnv, pathspecArgs, recordSource, timeFlag } from "./history.ts";
import { type PipedRequest, pipeObjects } from "./object_pipe.ts";

const decoder = new TextDecoder();
const SOH = 0x01;
const STX = 0x02;

/** Builds the handler. */
export function findCommits(deps: ServiceDeps): Rpc<"gitaly.CommitService", "FindCommits"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    let revision = text(req.revision);
    validateRevision(revision, { allowEmpty: true });
    const hasRevision = revision !== "" || !req.all;
    if (revision === "" && !req.all) {
      revision = await defaultBranch(deps, repoPath, ctx.signal).catch((error) => {
        throw wrapError("defaultBranchName", error);
      });
    }
    const paths = pathspecArgs(req.paths);
    if (req.paths.some((path) => path.length === 0)) {
      throw invalidArgument("path is empty string");
    }
    const shortStat = req.include_shortstat;
    const refs = req.include_referenced_by.length > 0;
    // --follow does not mix with --skip: the offset is then skipped here.
    const manualOffset = req.follow && req.offset > 0 ? req.offset : 0;

    let format = shortStat ? "--format=%x01%H" : "--format=%H";
    if (req.trailers) format += "%x00%(trailers:unfold,separator=%x00)";
    if (refs) format += "%x02%D";
    const flags = [format];
    if (req.offset > 0 && manualOffset === 0) flags.push(`--skip=${req.offset}`);
    flags.push(`--max-count=${req.limit + manualOffset}`);
    if (req.follow && req.paths.length > 0) flags.push("--follow");
    if (req.author.length > 0) flags.push(`--author=${text(req.author)}`);
    if (req.skip_merges) flags.push("--no-merges");
    if (req.before) flags.push(timeFlag("--before", req.before));
    if (req.after) flags.push(timeFlag("--after", req.after));
    if (req.all) flags.push("--all", "--reverse");
    if (req.first_parent) flags.push("--first-parent");
    if (req.order === FindCommitsRequest_Order.TOPO) flags.push("--topo-order");
    if (shortStat) flags.push("--shortstat");
    flags.push(...paths.flags);
    if (refs) {
      flags.push("--decorate=full");
      for (const pattern of req.include_referenced_by) {
        flags.push(`--decorate-refs=${text(pattern)}`);
      }
    }

    // FindCommitsResponse.commits is field 1.
    const chunker = new EncodedChunker(1, send);
    const source = recordSource(deps, {
      gitDir: repoPath,
      command: {
        name: "log",
        flags,
        args: hasRevision ? [revision] : [],
        postSepArgs: paths.postSepArgs,
      },
      stdin: paths.stdin,
      env: globalOptionsEnv(req.global_options),
      signal: ctx.signal,
    }, shortStat ? SOH : 0x0a);
    let skipped = 0;
    /** The request for one record, or null for none. */
    function request(record: Uint8Array): PipedRequest<LogExtras> | null {
      let body = trimSpace(
        shortStat && record[record.length - 1] === SOH ? record.subarray(0, -1) : record,
      );
      if (shortStat && body.length === 0) return null; // before the first commit
      if (skipped < manualOffset) {
        skipped++;
        return null;
      }
      const extra: LogExtras = { stats: null, refNames: null, trailers: null };
      if (shortStat) [body, extra.stats] = splitAt(body, 0x0a);
      if (refs) [body, extra.refNames] = splitAt(body, STX);
      if (req.trailers) [body, extra.trailers] = splitAt(body, 0);
      return { id: decoder.decode(body), extra };
    }
    async function* ids(): AsyncGenerator<PipedRequest<LogExtras>[], void, undefined> {
      for await (const batch of source.batches) {
        const requests: PipedRequest<LogExtras>[] = [];
        for (const record of batch) {
          const next = request(record);
          if (next !== null) requests.push(next);
        }
        yield requests;
      }
    }
    await pipeObjects(deps, repoPath, ctx.signal, ids(), (object, extra) => {
      if (object === null) {
        throw new Error("error streaming commits: cat-file get commit: not found");
      }
      const commit: Init<GitCommit> = parseCommit(object.oid, object.data);
      if (extra.refNames !== null) commit.referenced_by = parseRefs(extra.refNames);
      if (extra.trailers !== null) commit.trailers = parseTrailers(extra.trailers);
      if (extra.stats !== null) commit.short_stats = parseShortStat(extra.stats);
      return chunker.add(encodeGitCommit(commit));
    }, true); // borrowed data: encoded at once
    // Like Gitaly, git's exit status is not checked: a revision that names
    // nothing yields no commits.
    await chunker.flush();
  });
}

/** What a `git log` record carries besides the commit id. */
interface LogExtras {
  stats: Uint8Array | null;
  refNames: Uint8Array | null;
  trailers: Uint8Array | null;
}

/** Splits at the first `byte`: before it, and after it (null when absent). */
function splitAt(bytes: Uint8Array, byte: number): [Uint8Array, Uint8Array | null] {
  const at = bytes.indexOf(byte);
  return at < 0 ? [bytes, null] : [bytes.subarray(0, at), bytes.subarray(at + 1)];
}

/** `%D` with `--decorate=full`: `HEAD -> refs/heads/main, tag: refs/tags/v1, …` as names. */
function parseRefs(line: Uint8Array): Uint8Array[] {
  const names: Uint8Array[] = [];
  // Reference names are bytes; latin1 keeps each byte as one char.
  const latin1 = new TextDecoder("latin1");
  for (let ref of latin1.decode(line).split(", ")) {
    if (ref === "") continue;
    if (ref.startsWith("tag: ")) ref = ref.slice(5);
    const arrow = ref.indexOf(" -> ");
    const parts = arrow < 0 ? [ref] : [ref.slice(0, arrow), ref.slice(arrow + 4)];
    for (const part of parts) {
      names.push(Uint8Array.from(part, (c) => c.charCodeAt(0)));
    }
  }
  return names;
}

const STAT = /\s(\d+)\sfiles? changed(,\s(\d+)\sinsertions?\(\+\))?(,\s(\d+)\sdeletions?\(-\))?/;

/** The `--shortstat` line as Gitaly reads it. */
function parseShortStat(bytes: Uint8Array): Init<CommitStatInfo> {
  const line = decoder.decode(bytes);
  const match = STAT.exec(line);
  if (!match) {
    throw new Error(
      `error streaming commits: get stats: unexpected stats format: ${JSON.stringify(line)}`,
    );
  }
  return {
    changed_files: Number(match[1]),
    additions: match[3] ? Number(match[3]) : 0,
    deletions: match[5] ? Number(match[5]) : 0,
  };
}
