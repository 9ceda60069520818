/**
 * `CommitLanguages`: the languages of a commit's files with their share
 * of bytes, as Gitaly counts them with go-enry: every blob of `git
 * ls-tree -r`, less vendored, documentation and generated files, binary
 * files and languages that are neither programming nor markup; the
 * `.gitattributes` overrides `linguist-vendored`, `linguist-documentation`,
 * `linguist-generated`, `linguist-detectable` and `linguist-language`
 * apply. Languages are sorted by share, largest first; colors are
 * linguist's.
 *
 * @module
 */
import { join } from "node:path";
import { type Attributes, checkAttributes, isSet, isUnset } from "../../git/attributes.ts";
import { validateRevision } from "../../git/revision.ts";
import { LsTreeParser } from "../../git/tree.ts";
import { type Linguist, linguist } from "../../linguist/mod.ts";
import type { CommitLanguagesResponse_Language, Init } from "../../proto/types.ts";
import { internal } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import type { ServiceDeps } from "../deps.ts";
import { text } from "../shared/bytes.ts";
import { mapConcurrent } from "../shared/concurrent.ts";
import { runStreamed } from "../shared/git_stream.ts";
import { makeStorageTempDir } from "../shared/storage.ts";
import {
  attributesKey,
  type CachedFile,
  type LanguageCache,
  loadLanguageCache,
  saveLanguageCache,
} from "./language_cache.ts";
import { defaultBranch } from "./revisions.ts";

/** Bytes of each file that decide its language (as in Gitaly). */
const SNIFF_BYTES = 2048;
/** Past this many unread bytes a blob's cat-file process is killed rather than drained. */
const DRAIN_LIMIT = 8 * 1024 * 1024;
/** Blobs read at once. */
const BLOB_CONCURRENCY = 4;

const ATTRIBUTES = [
  "linguist-documentation",
  "linguist-detectable",
  "linguist-generated",
  "linguist-vendored",
  "linguist-language",
];

/** Builds the handler. */
export function commitLanguages(deps: ServiceDeps): Rpc<"gitaly.CommitService", "CommitLanguages"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    let revision = text(req.revision);
    validateRevision(revision, { allowEmpty: true });
    if (revision === "") revision = await defaultBranch(deps, repoPath, ctx.signal);
    const commitId = await lookupRevision(deps, repoPath, revision, ctx.signal);

    const stats = await languageStats(deps, repoPath, commitId, ctx.signal);
    const total = [...stats.values()].reduce((n, c) => n + c, 0);
    if (stats.size === 0) return { languages: [] };
    if (total === 0) throw internal("linguist stats added up to zero");
    const data = await linguist();
    const languages: Init<CommitLanguagesResponse_Language>[] = [];
    for (const [name, bytes] of stats) {
      languages.push({
        name,
        share: Math.fround(Math.fround(100 * bytes) / Math.fround(total)),
        color: await data.color(name),
        bytes,
      });
    }
    languages.sort((a, b) => b.share! - a.share! || (a.name! < b.name! ? -1 : 1));
    return { languages };
  });
}

/**
 * What `git rev-parse <revision>` prints, with Gitaly's preference for a
 * branch when a name is ambiguous. Asked of the cat-file cache when the
 * name cannot be ambiguous; git itself answers the other cases (and words
 * the errors).
 */
async function lookupRevision(
  deps: ServiceDeps,
  repoPath: string,
  revision: string,
  signal: AbortSignal,
): Promise<string> {
  if (revision !== "") {
    const name = /^[\w.\/-]+$/.test(revision) ? revision : undefined;
    const candidates = name ? REF_RULES.map((rule) => rule.replace("%s", name)) : [];
    const [found, ...refs] = await deps.catfile.infoMany(repoPath, [revision, ...candidates], {
      signal,
    });
    if (found && refs.filter((ref) => ref !== null).length <= 1) return found.oid;
  }
  return await revParse(deps, repoPath, revision, signal);
}

/** The reference rules under which a short name is looked up (git's dwim order). */
const REF_RULES = [
  "refs/%s",
  "refs/tags/%s",
  "refs/heads/%s",
  "refs/remotes/%s",
  "refs/remotes/%s/HEAD",
];

async function revParse(
  deps: ServiceDeps,
  repoPath: string,
  revision: string,
  signal: AbortSignal,
): Promise<string> {
  const parse = async (rev: string) => {
    const result = await deps.git.run({
      gitDir: repoPath,
      command: { name: "rev-parse", args: [rev] },
      signal,
    });
    if (result.code !== 0) {
      const firstLine = result.stderr.split("\n")[0];
      throw internal(`looking up revision: exit status ${result.code}: ${firstLine}`);
    }
    return {
      oid: new TextDecoder().decode(result.stdout).trim(),
      ambiguous: result.stderr.endsWith(`refname '${rev}' is ambiguous.\n`),
    };
  };
  const first = await parse(revision);
  if (!first.ambiguous) return first.oid;
  const refs = await deps.git.runText({
    gitDir: repoPath,
    command: { name: "for-each-ref", flags: ["--format=%(refname)"], args: [`**/${revision}`] },
    signal,
  });
  const branch = refs.split("\n").find((ref) => ref.startsWith("refs/heads"));
  if (!branch) throw internal(`looking up revision: branch ${revision} not found`);
  return (await parse(branch)).oid;
}

/** A blob of the listing. */
interface Blob {
  oid: string;
  path: Uint8Array;
  name: string;
}

/**
 * Bytes per language over the commit's files; from the cache when it is
 * of this commit, else reading only the blobs the cache does not know.
 */
async function languageStats(
  deps: ServiceDeps,
  repoPath: string,
  commitId: string,
  signal: AbortSignal,
): Promise<Map<string, number>> {
  const cache = await loadLanguageCache(repoPath);
  if (cache?.commitId === commitId) {
    // The same commit: only info/attributes may have changed since.
    const key = await attributesKey(repoPath, cachedAttributeFiles(cache));
    if (key === cache.attributesKey) return new Map(Object.entries(cache.totals));
  }
  const blobs = await listBlobs(deps, repoPath, commitId, signal);
  const attributeFiles = blobs.filter((b) => isAttributesFile(b.name));
  const key = await attributesKey(repoPath, attributeFiles);
  const known = cache?.attributesKey === key ? cache.files : {};
  const data = await linguist();
  const attributes = await attributesOf(deps, repoPath, commitId, blobs, signal);
  const stats = new Map<string, number>();
  const files: Record<string, CachedFile> = {};
  // Blobs are read a few at a time (each through its own cat-file process).
  await mapConcurrent(blobs, BLOB_CONCURRENCY, async (blob) => {
    const attrs = attributes.get(blob.name);
    if (isAttributesFile(blob.name)) files[blob.name] = [blob.oid, null, 0];
    if (isExcluded(data, blob.name, attrs)) return;
    const cached = known[blob.name];
    const counted = cached?.[0] === blob.oid
      ? (cached[1] === null ? null : { language: cached[1], size: cached[2] })
      : await determine(deps, repoPath, data, blob, attrs, signal);
    files[blob.name] = [blob.oid, counted?.language ?? null, counted?.size ?? 0];
    if (counted) stats.set(counted.language, (stats.get(counted.language) ?? 0) + counted.size);
  });
  for (const [language, size] of stats) if (size === 0) stats.delete(language);
  await saveLanguageCache(repoPath, {
    version: 1,
    commitId,
    attributesKey: key,
    files,
    totals: Object.fromEntries(stats),
  });
  return stats;
}

/** The `.gitattributes` files a cache knows of, found once per parsed cache. */
const attributeFilesOfCache = new WeakMap<LanguageCache, { name: string; oid: string }[]>();

function cachedAttributeFiles(cache: LanguageCache): { name: string; oid: string }[] {
  let files = attributeFilesOfCache.get(cache);
  if (!files) {
    files = Object.entries(cache.files).filter(([name]) => isAttributesFile(name))
      .map(([name, [oid]]) => ({ name, oid }));
    attributeFilesOfCache.set(cache, files);
  }
  return files;
}

function isAttributesFile(name: string): boolean {
  return name === ".gitattributes" || name.endsWith("/.gitattributes");
}

async function listBlobs(
  deps: ServiceDeps,
  repoPath: string,
  commitId: string,
  signal: AbortSignal,
): Promise<Blob[]> {
  const blobs: Blob[] = [];
  const parser = new LsTreeParser();
  const decoder = new TextDecoder();
  const exit = await runStreamed(deps.git, {
    gitDir: repoPath,
    command: { name: "ls-tree", flags: ["-z", "-r", "--full-tree"], args: [commitId] },
    signal,
  }, {
    stdout: (chunk) => {
      for (const entry of parser.push(chunk)) {
        if (entry.type !== "blob") continue;
        blobs.push({ oid: entry.oid, path: entry.path, name: decoder.decode(entry.path) });
      }
      return Promise.resolve();
    },
  });
  parser.end();
  if (exit.code !== 0) throw internal(`language stats: ls-tree: ${exit.stderr.trim()}`);
  return blobs;
}

/** The linguist attributes of the blobs, when the commit or the repository defines any. */
async function attributesOf(
  deps: ServiceDeps,
  repoPath: string,
  commitId: string,
  blobs: Blob[],
  signal: AbortSignal,
): Promise<Map<string, Attributes>> {
  const hasAttributesFile = blobs.some((b) => isAttributesFile(b.name));
  const hasInfoAttributes = await Deno.stat(join(repoPath, "info", "attributes")).then(
    () => true,
    () => false,
  );
  if (!hasAttributesFile && !hasInfoAttributes) return new Map();
  const storage = deps.config.storages.find((s) => repoPath.startsWith(s.path));
  const tempDir = storage
    ? await makeStorageTempDir(storage.path, "linguist-")
    : await Deno.makeTempDir();
  try {
    return await checkAttributes(
      deps.git,
      repoPath,
      commitId,
      blobs.map((b) => b.path),
      ATTRIBUTES,
      {
        tempDir,
        signal,
      },
    );
  } finally {
    await Deno.remove(tempDir, { recursive: true }).catch(() => {});
  }
}

function isExcluded(data: Linguist, path: string, attrs: Attributes | undefined): boolean {
  return decide(attrs, "linguist-documentation", () => data.isDocumentation(path)) ||
    decide(attrs, "linguist-vendored", () => data.isVendored(path));
}

/** An attribute's verdict when set or unset, else the rule's. */
function decide(attrs: Attributes | undefined, name: string, rule: () => boolean): boolean {
  if (isUnset(attrs, name)) return false;
  if (isSet(attrs, name)) return true;
  return rule();
}

/** The language and size a blob counts for, or null when it does not count. */
async function determine(
  deps: ServiceDeps,
  repoPath: string,
  data: Linguist,
  blob: Blob,
  attrs: Attributes | undefined,
  signal: AbortSignal,
): Promise<{ language: string; size: number } | null> {
  const object = await deps.catfile.object(repoPath, blob.oid, { signal });
  if (!object) throw internal(`language stats: object ${blob.oid} missing`);
  const content = await readHead(object.content, object.size);
  if (decide(attrs, "linguist-generated", () => data.isGenerated(blob.name, content))) return null;
  const override = attrs?.["linguist-language"];
  const language = override && override !== "set" && override !== "unset"
    ? override
    : data.language(blob.name, content);
  if (isSet(attrs, "linguist-detectable")) return { language, size: object.size };
  if (isUnset(attrs, "linguist-detectable")) return null;
  const type = data.type(language);
  if (type !== "programming" && type !== "markup") return null;
  return { language, size: object.size };
}

/** The first {@link SNIFF_BYTES} of a blob; the rest is drained (or, when large, cancelled). */
async function readHead(content: ReadableStream<Uint8Array>, size: number): Promise<Uint8Array> {
  const head = new Uint8Array(Math.min(size, SNIFF_BYTES));
  let filled = 0;
  const reader = content.getReader();
  try {
    while (filled < head.byteLength) {
      const { value, done } = await reader.read();
      if (done) break;
      const take = Math.min(value.byteLength, head.byteLength - filled);
      head.set(value.subarray(0, take), filled);
      filled += take;
    }
    if (size - filled > DRAIN_LIMIT) {
      await reader.cancel();
    } else {
      while (!(await reader.read()).done) {
        // drained so the cat-file process serves the next blob
      }
    }
  } finally {
    reader.releaseLock();
  }
  return head.subarray(0, filled);
}
