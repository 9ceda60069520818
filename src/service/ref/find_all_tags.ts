import { ascii, parseCommit } from "../../git/commit_parser.ts";
import { parseTag, trimTagMessage } from "../../git/tag_parser.ts";
import type { TagFields } from "../../git/tag_parser.ts";
import {
  type FindAllTagsRequest_SortBy,
  FindAllTagsRequest_SortBy_Key as SortKey,
  SortDirection,
} from "../../proto/types.ts";
import { invalidArgument } from "../../server/errors.ts";
import type { Rpc } from "../../server/rpc.ts";
import { serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { SizeChunker } from "../shared/chunker.ts";
import { readObjectBytes } from "../shared/commits.ts";
import { pageTokenNotFound, paginationOf, sendRefLines, splitRefLine } from "./for_each_ref.ts";

const SORT_KEYS: Record<number, string> = {
  [SortKey.REFNAME]: "refname",
  [SortKey.CREATORDATE]: "creatordate",
  [SortKey.VERSION_REFNAME]: "version:refname",
};

/** Gitaly's `--sort` value for FindAllTags' `sort_by` ("" when unset). */
function sortField(sortBy: FindAllTagsRequest_SortBy | null | undefined): string {
  if (!sortBy) return "";
  const direction = sortBy.direction === SortDirection.ASCENDING
    ? ""
    : sortBy.direction === SortDirection.DESCENDING
    ? "-"
    : undefined;
  if (direction === undefined) {
    throw invalidArgument(`unsupported sorting direction: ${sortBy.direction}`);
  }
  const key = SORT_KEYS[sortBy.key];
  if (key === undefined) throw invalidArgument(`unsupported sorting key: ${sortBy.key}`);
  return direction + key;
}

const TAGS_PREFIX = "refs/tags/";

/**
 * `FindAllTags`: every tag under `refs/tags/` as a `Tag` named after its
 * reference (annotated tags with their fields, trimmed message and the
 * commit they peel to; lightweight tags with the commit they name), sorted
 * as asked, paginated by `limit` and `page_token` (a full reference name),
 * in messages of up to 1 MiB.
 */
export function findAllTags(deps: ServiceDeps): Rpc<"gitaly.RefService", "FindAllTags"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const sort = sortField(req.sort_by);
    const { limit, pageToken } = paginationOf(req.pagination_params);
    const chunker = new SizeChunker<TagFields>("gitaly.Tag", (tags) => send({ tags }));
    const token = pageToken === undefined ? undefined : new TextEncoder().encode(pageToken);
    let pastToken = token === undefined;
    let sent = 0;
    const flags = ["--format=%(objectname)%00%(objecttype)%00%(refname)"];
    if (sort !== "") flags.push(`--sort=${sort}`);
    const done = new Error("limit reached");
    try {
      await sendRefLines(
        deps,
        repoPath,
        { flags, patterns: [TAGS_PREFIX], signal: ctx.signal },
        async (lines) => {
          for (const line of lines) {
            if (sent >= limit) throw done;
            const [oidBytes, typeBytes, refname] = splitRefLine(line, 3);
            if (!pastToken) {
              pastToken = bytesEqual(refname, token!);
              continue;
            }
            const tag = await tagOf(deps, repoPath, ascii(oidBytes), ascii(typeBytes), ctx.signal);
            const name = refname.subarray(TAGS_PREFIX.length);
            if (name.length > 0) tag.name = name.slice();
            await chunker.add(tag);
            sent++;
          }
        },
      );
    } catch (error) {
      if (error !== done) throw error;
    }
    if (!pastToken) throw pageTokenNotFound();
    await chunker.flush();
  });
}

/** The `Tag` for a reference under `refs/tags/` pointing at `oid` of `type`. */
async function tagOf(
  deps: ServiceDeps,
  repoPath: string,
  oid: string,
  type: string,
  signal: AbortSignal,
): Promise<TagFields> {
  const object = type === "tag" || type === "commit"
    ? await readObjectBytes(deps, repoPath, oid, signal)
    : null;
  if (type === "tag" && object) {
    const { tag } = parseTag(oid, object.data);
    trimTagMessage(tag);
    const peeled = await readObjectBytes(deps, repoPath, `${oid}^{}`, signal);
    if (peeled === null) throw new Error(`expected peeled tag of ${oid}`);
    if (peeled.type === "commit") tag.target_commit = parseCommit(peeled.oid, peeled.data);
    return tag;
  }
  const bare: TagFields = emptyTag(oid);
  if (type === "commit" && object) bare.target_commit = parseCommit(oid, object.data);
  return bare;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function emptyTag(oid: string): TagFields {
  return {
    name: new Uint8Array(0),
    id: oid,
    message: new Uint8Array(0),
    message_size: 0,
    tagger: null,
    signature_type: 0,
  };
}
