/**
 * The repository the BlobService handler tests share: text, a 600 KiB blob
 * (several 128 KiB chunks), LFS pointers and near-pointers, a submodule and
 * a Latin-1 file name on `main`; an older commit on `main~1`.
 *
 * @module
 */
import type { HandlerHarness } from "../../helpers/handler.ts";
import { runGit } from "../../helpers/handler.ts";
import type { Repository } from "../../../src/proto/types.ts";

/** Contents of the fixture's blobs. */
export const CONTENT = {
  readme: "# Blob fixture\n",
  old: "old readme\n",
  large: "0123456789abcdef".repeat(600 * 64),
  pointer: `version https://git-lfs.github.com/spec/v1\noid sha256:${
    "ab".repeat(32)
  }\nsize 12345\n`,
  trailing: `version https://git-lfs.github.com/spec/v1\noid sha256:${
    "cd".repeat(32)
  }\nsize 7\nextra\n`,
  shortOid: "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 3\n",
  crlf: `version https://git-lfs.github.com/spec/v1\r\noid sha256:${"ef".repeat(32)}\r\nsize 9\r\n`,
  latin1: "caf\u00e9\n",
};

/** The gitlink on main. */
export const SUBMODULE = { path: "vendor/lib", oid: "1234567890abcdef1234567890abcdef12345678" };

function blob(mark: number, content: string): string {
  return `blob\nmark :${mark}\ndata ${new TextEncoder().encode(content).byteLength}\n${content}\n`;
}

/** Creates the fixture as `blob.git` in the harness's default storage. */
export async function createBlobFixture(h: HandlerHarness): Promise<Repository> {
  return await h.createRepo("blob.git", async (_git, path) => {
    const stream = [
      blob(1, CONTENT.old),
      "commit refs/heads/main\nmark :10\ncommitter C <c@example.com> 1700000000 +0000\ndata 4\nold\n",
      "M 100644 :1 README.md\n\n",
      blob(2, CONTENT.readme),
      blob(3, CONTENT.large),
      blob(4, CONTENT.pointer),
      blob(5, CONTENT.trailing),
      blob(6, CONTENT.shortOid),
      blob(7, CONTENT.crlf),
      blob(8, "caf\u00e9\n"),
      "commit refs/heads/main\nmark :11\ncommitter C <c@example.com> 1700000060 +0000\ndata 4\nnew\n",
      "from :10\n",
      "M 100644 :2 README.md\n",
      "M 100644 :3 large.txt\n",
      "M 100644 :4 lfs/pointer.bin\n",
      "M 100644 :5 lfs/trailing.bin\n",
      "M 100644 :6 lfs/short-oid.bin\n",
      "M 100644 :7 lfs/crlf.bin\n",
      `M 160000 ${SUBMODULE.oid} ${SUBMODULE.path}\n`,
      'M 100644 :8 "files/caf\\351.txt"\n\n',
    ].join("");
    await runGit(["fast-import", "--quiet"], path, stream);
  });
}

/** The object id of `rev` in `repo`. */
export function revParse(h: HandlerHarness, repo: Repository, rev: string): Promise<string> {
  return runGit(["rev-parse", rev], h.repoPath(repo));
}

/** Decodes a `bytes` field as the harness returns it (base64). */
export function bytesOf(value: unknown): Uint8Array {
  if (value === undefined || value === "") return new Uint8Array();
  return Uint8Array.from(atob(value as string), (c) => c.charCodeAt(0));
}

/** A `bytes` field as text. */
export function textOf(value: unknown): string {
  return new TextDecoder().decode(bytesOf(value));
}
