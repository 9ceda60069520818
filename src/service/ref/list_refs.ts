import { ListRefsRequest_SortBy_Key as SortKey, SortDirection } from "../../proto/types.ts";
import { invalidArgument } from "../../server/errors.ts";
import type { Rpc } from "../../server/rpc.ts";
import { serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { ascii } from "../../git/commit_parser.ts";
import {
  POINTS_AT_FIELDS,
  pointsAtFilter,
  sendRefLines,
  splitRefLine,
  validateRefArgument,
} from "./for_each_ref.ts";

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
 * and with `head` HEAD's commit first; 20 references a message.
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
    await sendRefLines(deps, repoPath, {
      flags: [
        format,
        `--sort=${sortDirection}${sortKey}`,
      ],
      patterns,
      filter,
      signal: ctx.signal,
    }, async (lines) => {
      const references = [];
      if (head !== "") {
        references.push({ name: new TextEncoder().encode("HEAD"), target: head });
        head = "";
      }
      for (const line of lines) {
        const parts = splitRefLine(line, fields);
        references.push({
          name: parts[0].slice(),
          target: ascii(parts[1]),
          ...(req.peel_tags ? { peeled_target: ascii(parts[2]) } : {}),
        });
      }
      await send({ references });
    });
  });
}
