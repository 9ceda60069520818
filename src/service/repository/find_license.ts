/**
 * `FindLicense`: the license of the repository's default branch, as Gitaly 16.7 detects it
 * with go-license-detector over the files at the root of HEAD's tree (README and
 * "guidelines" files excluded).
 *
 * The best match (highest similarity, then smallest id) among licenses with an SPDX name
 * is answered lower-cased (`mit`, `apache-2.0`; a deprecated id without its `deprecated_`
 * prefix), with its SPDX name, first URL, the file it matched in and, for a few, the
 * choosealicense.com nickname. A license-like file that matches nothing gives
 * `other`/`Other` with nickname `LICENSE` and the first such file read; no such file, an
 * unborn HEAD or an empty repository give the empty answer. Answers are cached by commit.
 *
 * @module
 */
import { detectLicenses, type LicenseFiler, licenseInfo } from "../../license/detect.ts";
import type { FindLicenseResponse, Init } from "../../proto/types.ts";
import { internal } from "../../server/errors.ts";
import { type Rpc, unary } from "../../server/rpc.ts";
import { readTree } from "../../git/tree.ts";
import type { ServiceDeps } from "../deps.ts";
import { readObjectBytes } from "../shared/commits.ts";

type Response = Init<FindLicenseResponse>;

/** Nicknames of choosealicense.com (Licensee's database) for the ids that have one. */
const NICKNAMES: Record<string, string> = {
  "agpl-3.0": "GNU AGPLv3",
  "lgpl-3.0": "GNU LGPLv3",
  "bsd-3-clause-clear": "Clear BSD",
  "odbl-1.0": "ODbL",
  "ncsa": "UIUC/NCSA",
  "lgpl-2.1": "GNU LGPLv2.1",
  "gpl-3.0": "GNU GPLv3",
  "gpl-2.0": "GNU GPLv2",
};

/** Files the detector would only mine for license mentions; never read as licenses. */
const README_RE = /(readme|guidelines)(\.md|\.rst|\.html|\.txt)?$/;
/** Larger license files are not read. */
const MAX_FILE_BYTES = 16 * 1024 * 1024;
const CACHE_SIZE = 100;
const cache = new Map<string, Response>();

function trimDeprecated(id: string): string {
  return id.startsWith("deprecated_") ? id.slice("deprecated_".length) : id;
}

/** The root files of `commit`, reading blobs at `commit:path` and noting the first license file. */
class CommitFiler implements LicenseFiler {
  /** The first file read that is not a README, if any. */
  licensePath: string | undefined;
  readonly #decoder = new TextDecoder();

  constructor(
    private readonly deps: ServiceDeps,
    private readonly repoPath: string,
    private readonly commit: string,
    private readonly signal: AbortSignal,
  ) {}

  async readDir(): Promise<string[]> {
    const tree = await this.deps.catfile.info(this.repoPath, `${this.commit}^{tree}`, {
      signal: this.signal,
    });
    const entries = tree && await readTree(this.deps.catfile, this.repoPath, tree.oid, this.signal);
    if (!entries) throw internal(`ls-tree failed: no tree for ${this.commit}`);
    return entries
      .filter((entry) => entry.mode.startsWith("100") || entry.mode === "120000")
      .map((entry) => this.#decoder.decode(entry.name))
      .filter((name) => !README_RE.test(name.toLowerCase()));
  }

  async readFile(path: string): Promise<Uint8Array | undefined> {
    const revision = `${this.commit}:${path}`;
    const info = await this.deps.catfile.info(this.repoPath, revision, { signal: this.signal });
    if (info === null) return undefined;
    if (info.size > MAX_FILE_BYTES) {
      // Too large to match: still a license file, so the answer can be `other`.
      this.#noteLicense(path);
      return undefined;
    }
    const object = await readObjectBytes(this.deps, this.repoPath, revision, this.signal);
    if (object === null) return undefined;
    this.#noteLicense(path);
    return object.data;
  }

  #noteLicense(path: string): void {
    if (this.licensePath === undefined && !README_RE.test(path.toLowerCase())) {
      this.licensePath = path;
    }
  }
}

async function findLicenseAt(
  deps: ServiceDeps,
  repoPath: string,
  commit: string,
  signal: AbortSignal,
): Promise<Response> {
  const filer = new CommitFiler(deps, repoPath, commit, signal);
  const detected = await detectLicenses(filer);
  const best: { id: string; confidence: number; file: string }[] = [];
  for (const [id, match] of detected) {
    if ((await licenseInfo(trimDeprecated(id))).name === undefined) continue;
    best.push({ id, ...match });
  }
  if (best.length === 0) {
    if (detected.size === 0 && filer.licensePath !== undefined) {
      return {
        license_name: "Other",
        license_short_name: "other",
        license_nickname: "LICENSE",
        license_path: filer.licensePath,
      };
    }
    return {};
  }
  best.sort((a, b) => {
    if (a.confidence !== b.confidence) return b.confidence - a.confidence;
    const [x, y] = [trimDeprecated(a.id), trimDeprecated(b.id)];
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const id = trimDeprecated(best[0].id);
  const { name, urls } = await licenseInfo(id);
  if (urls === undefined) throw internal(`license URLs by id "${id}": license id is not known`);
  const shortName = id.toLowerCase();
  return {
    license_short_name: shortName,
    license_path: best[0].file,
    license_name: name,
    license_url: urls[0] ?? "",
    license_nickname: NICKNAMES[shortName] ?? "",
  };
}

/** Builds the handler. */
export function findLicense(deps: ServiceDeps): Rpc<"gitaly.RepositoryService", "FindLicense"> {
  return unary(async (req, ctx) => {
    const repoPath = await deps.locator.repoPath(req.repository);
    const head = await deps.catfile.info(repoPath, "HEAD", { signal: ctx.signal });
    if (head === null) return {};
    const cached = cache.get(head.oid);
    if (cached) return cached;
    const response = await findLicenseAt(deps, repoPath, head.oid, ctx.signal);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(head.oid, response);
    return response;
  });
}
