import { ascii, parseCommit } from "../../git/commit_parser.ts";
import { parseTag, trimTagMessage } from "../../git/tag_parser.ts";
import type { TagFields } from "../../git/tag_parser.ts";
import {
  type FindAllTagsRequest_SortBy,
  FindAllTagsRequest_SortBy_Key as SortKey,
  SortDirection,
} from "../../proto/types.ts";
import { encodeMessage, ProtoWriter, withResponseFrames } from "../../proto/encoded.ts";
import { messageType } from "../../proto/mod.ts";
import { invalidArgument } from "../../server/errors.ts";
import type { Rpc } from "../../server/rpc.ts";
import { serverStream } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { SizeChunker } from "../shared/chunker.ts";
import { readObjectBytes } from "../shared/commits.ts";
import {
  CommitMemo,
  pageTokenNotFound,
  paginationOf,
  recordFields,
  type RefRecord,
  sendRefRecords,
  TAG_RAW_FORMAT,
} from "./for_each_ref.ts";

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
 * in messages of up to 1 MiB (encoded by hand, many messages a write).
 */
export function findAllTags(deps: ServiceDeps): Rpc<"gitaly.RefService", "FindAllTags"> {
  return serverStream(async (req, ctx, send) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const sort = sortField(req.sort_by);
    const commits = new CommitMemo();
    const { limit, pageToken } = paginationOf(req.pagination_params);
    const token = pageToken === undefined ? undefined : new TextEncoder().encode(pageToken);
    let pastToken = token === undefined;
    let sent = 0;
    const flags = [TAG_RAW_FORMAT];
    if (sort !== "") flags.push(`--sort=${sort}`);
    const done = new Error("limit reached");
    await withResponseFrames(send, async (frames) => {
      const chunker = new SizeChunker<Uint8Array>((tag) => tag.byteLength, async (tags) => {
        const w = frames.begin();
        for (const tag of tags) {
          w.header(1, tag.byteLength);
          w.raw(tag);
        }
        frames.end();
        if (frames.full) await frames.flush(send);
      });
      try {
        await sendRefRecords(
          deps,
          repoPath,
          {
            flags,
            patterns: [TAGS_PREFIX],
            signal: ctx.signal,
            rawObjects: "peeled",
            idle: () => frames.flush(send),
          },
          async (records) => {
            for (const record of records) {
              if (sent >= limit) throw done;
              const refname = recordFields(record, 7)[0];
              if (!pastToken) {
                pastToken = bytesEqual(refname, token!);
                continue;
              }
              const name = refname.subarray(TAGS_PREFIX.length);
              await chunker.add(
                await encodedTagOf(deps, repoPath, record, name, ctx.signal, commits),
              );
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
  });
}

const TAG = messageType("gitaly.Tag");
const tagWriter = new ProtoWriter(4096);

/**
 * The encoded `Tag` named `name` for a listed reference under `refs/tags/`:
 * a lightweight tag of a commit written by hand around its commit (encoded
 * once per commit), any other through {@link tagOf}.
 */
async function encodedTagOf(
  deps: ServiceDeps,
  repoPath: string,
  record: RefRecord,
  name: Uint8Array,
  signal: AbortSignal,
  commits: CommitMemo,
): Promise<Uint8Array> {
  const [, oidBytes, typeBytes] = recordFields(record, 7);
  if (record.raw && ascii(typeBytes) === "commit") {
    const oid = ascii(oidBytes);
    const commit = commits.encoded(oid, record.raw);
    tagWriter.bytes(1, name);
    tagWriter.ascii(2, oid);
    tagWriter.header(3, commit.byteLength);
    tagWriter.raw(commit);
    return tagWriter.copy();
  }
  const tag = await tagOf(deps, repoPath, record, signal, commits);
  if (name.length > 0) tag.name = name.slice();
  return encodeMessage(TAG, tag);
}

/** The `Tag` for a listed reference under `refs/tags/` (objects read by cat-file only when not listed). */
async function tagOf(
  deps: ServiceDeps,
  repoPath: string,
  record: RefRecord,
  signal: AbortSignal,
  commits: CommitMemo,
): Promise<TagFields> {
  const [, oidBytes, typeBytes, , peeledOidBytes, peeledTypeBytes] = recordFields(record, 7);
  const oid = ascii(oidBytes);
  const type = ascii(typeBytes);
  const raw = record.raw ??
    (type === "tag" || type === "commit"
      ? (await readObjectBytes(deps, repoPath, oid, signal))?.data
      : undefined);
  if (type === "tag" && raw) {
    const { tag } = parseTag(oid, raw);
    trimTagMessage(tag);
    const peeledType = ascii(peeledTypeBytes);
    if (record.peeled) {
      tag.target_commit = commits.parse(ascii(peeledOidBytes), record.peeled);
    } else if (peeledType === "commit" || peeledType === "tag") {
      // A tag of a tag (or a commit too big to list): peel it all the way.
      const peeled = await readObjectBytes(deps, repoPath, `${oid}^{}`, signal);
      if (peeled === null) throw new Error(`expected peeled tag of ${oid}`);
      if (peeled.type === "commit") tag.target_commit = parseCommit(peeled.oid, peeled.data);
    }
    return tag;
  }
  const bare: TagFields = emptyTag(oid);
  if (type === "commit" && raw) bare.target_commit = commits.parse(oid, raw);
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
