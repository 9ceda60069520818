import { ListRefsRequest_SortBy_Key as SortKey, SortDirection } from "../../proto/types.ts";
import { invalidArgument } from "../../server/errors.ts";
import type { Rpc } from "../../server/rpc.ts";
import { serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { fieldSize, withResponseFrames } from "../../proto/encoded.ts";
import {
  POINTS_AT_FIELDS,
  pointsAtFilter,
  refLineFieldEnds,
  sendRefLines,
  validateRefArgument,
} from "./for_each_ref.ts";

const HEAD = new TextEncoder().encode("HEAD");

/** {@link fieldSize} of a bytes field holding `end - start` bytes: 0 when none (left out). */
function rangeFieldSize(field: number, start: number, end: number): number {
  return end > start ? fieldSize(field, end - start) : 0;
}

const SORT_KEYS: Record<number, string> = {
  [SortKey.REFNAME]: "refname",
  [SortKey.CREATORDATE]: "creatordate",
  [SortKey.AUTHORDATE]: "authordate",
  [SortKey.COMMITTERDATE]: "committerdate",
};

const SORT_DIRECTIONS: Record<number, string> = {
  [SortDirection.ASCENDING]: "",
  [SortDirection.DESCENDING]: "-",
};

/**
 * `ListRefs`: references matching `patterns` (for-each-ref patterns), with
 * their targets and, with `peel_tags`, what annotated tags point at;
 * sorted as asked, only those pointing at `pointing_at_oids` when given,
 * and with `head` HEAD's commit first; 20 references a message (encoded
 * by hand, many messages a write).
 */
export function listRefs(deps: ServiceDeps): Rpc<"gitaly.RefService", "ListRefs"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    if (req.patterns.length < 1) throw invalidArgument("patterns must have at least one entry");
    const sortKey = SORT_KEYS[req.sort_by?.key ?? SortKey.REFNAME];
    const sortDirection = SORT_DIRECTIONS[req.sort_by?.direction ?? SortDirection.ASCENDING];
    if (sortKey === undefined) {
      throw invalidArgument(`sorting key "${req.sort_by?.key}" is not supported`);
    }
    if (sortDirection === undefined) throw invalidArgument("sorting direction is not supported");
    const patterns = req.patterns.map((pattern) => text(pattern));
    for (const pattern of patterns) validateRefArgument(pattern, "pattern");
    const pointsAt = req.pointing_at_oids.map((oid) => text(oid));
    for (const oid of pointsAt) validateRefArgument(oid, "pointing at oid");
    const filter = pointsAt.length > 0
      ? await pointsAtFilter(deps, repoPath, pointsAt, ctx.signal)
      : undefined;

    let head = "";
    if (req.head) {
      const info = await deps.catfile.info(repoPath, "HEAD", { signal: ctx.signal });
      if (info !== null) head = info.oid;
    }
    let format = req.peel_tags
      ? "--format=%(refname)%00%(objectname)%00%(*objectname)"
      : "--format=%(refname)%00%(objectname)";
    if (filter) format += `%00${POINTS_AT_FIELDS}`;
    const fields = (req.peel_tags ? 3 : 2) + (filter ? 4 : 0);
    const ends: number[] = [];
    await withResponseFrames(send, (frames) =>
      sendRefLines(deps, repoPath, {
        flags: [format, `--sort=${sortDirection}${sortKey}`],
        patterns,
        filter,
        signal: ctx.signal,
        idle: () => frames.flush(send),
      }, async (lines) => {
        const w = frames.begin();
        if (head !== "") {
          w.header(1, fieldSize(1, HEAD.byteLength) + fieldSize(2, head.length));
          w.bytes(1, HEAD);
          w.ascii(2, head);
          head = "";
        }
        for (const line of lines) {
          // name, target and (peel_tags) the peeled target: views would cost more than the copy.
          refLineFieldEnds(line, fields, ends);
          const targetEnd = ends[1];
          const peeledEnd = req.peel_tags ? ends[2] : targetEnd + 1;
          w.header(
            1,
            rangeFieldSize(1, 0, ends[0]) + rangeFieldSize(2, ends[0] + 1, targetEnd) +
              rangeFieldSize(3, targetEnd + 1, peeledEnd),
          );
          w.bytesOf(1, line, 0, ends[0]);
          w.bytesOf(2, line, ends[0] + 1, targetEnd); // object ids: ASCII, their bytes their UTF-8
          w.bytesOf(3, line, targetEnd + 1, peeledEnd);
        }
        frames.end();
        if (frames.full) await frames.flush(send);
      }));
  });
}
