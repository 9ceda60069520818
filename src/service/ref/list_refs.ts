import { ListRefsRequest_SortBy_Key as SortKey, SortDirection } from "../../proto/types.ts";
import { invalidArgument } from "../../server/errors.ts";
import type { Rpc } from "../../server/rpc.ts";
import { serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { bytesFieldSize, fieldSize, withResponseFrames } from "../../proto/encoded.ts";
import {
  POINTS_AT_FIELDS,
  pointsAtFilter,
  sendRefLines,
  splitRefLine,
  validateRefArgument,
} from "./for_each_ref.ts";

const HEAD = new TextEncoder().encode("HEAD");
const EMPTY = new Uint8Array(0);

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
          const [name, target, peeled] = splitRefLine(line, fields);
          const peeledTarget = req.peel_tags ? peeled : EMPTY;
          w.header(
            1,
            bytesFieldSize(1, name) + bytesFieldSize(2, target) + bytesFieldSize(3, peeledTarget),
          );
          w.bytes(1, name);
          w.bytes(2, target); // object ids: ASCII, so their bytes are their UTF-8
          w.bytes(3, peeledTarget);
        }
        frames.end();
        if (frames.full) await frames.flush(send);
      }));
  });
}
