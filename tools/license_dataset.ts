/**
 * Regenerates `src/license/dataset.ts` from the license detector Gitaly 16.7 links
 * (`github.com/go-enry/go-license-detector/v4`, replaced by GitLab's fork
 * `github.com/gl-gitaly/go-license-detector/v4` at the version below).
 *
 * The module keeps its SPDX data as go-bindata assets (gzip'd bytes in a Go string
 * literal): `licenses.tar` (one `<id>.txt` a license), `urls.csv` (id, URL without its
 * scheme, scheme) and `names.csv` (id, name). This script fetches the module through
 * the Go module proxy (`go mod download`), decodes those three assets and writes them
 * as one gzip'd JSON document, base64-encoded, into a TypeScript module.
 *
 * Run: `deno run -A tools/license_dataset.ts` (needs `go` on PATH).
 *
 * @module
 */

const MODULE = "github.com/gl-gitaly/go-license-detector/v4";
const VERSION = "v4.0.0-20230524080836-4cc9a3796917";
/** The detector seeds its hasher from this module's PCG generator and ziggurat tables. */
const RAND_MODULE = "golang.org/x/exp";
const RAND_VERSION = "v0.0.0-20231006140011-7918f672742d";
const OUTPUT = new URL("../src/license/dataset.ts", import.meta.url);

async function moduleDir(module: string, version: string): Promise<string> {
  const tmp = await Deno.makeTempDir({ prefix: "license-dataset-" });
  try {
    const out = await new Deno.Command("go", {
      args: ["mod", "download", "-json", `${module}@${version}`],
      cwd: tmp,
      env: { GO111MODULE: "on", GOFLAGS: "-mod=mod" },
      stdout: "piped",
      stderr: "inherit",
    }).output();
    if (!out.success) throw new Error("go mod download failed");
    return JSON.parse(new TextDecoder().decode(out.stdout)).Dir;
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

/** Decodes the Go string literal holding asset `name` (only `\xNN` and plain bytes). */
function goBytesLiteral(source: string, name: string): Uint8Array {
  const start = source.indexOf(`var ${name} = []byte("`);
  if (start < 0) throw new Error(`asset ${name} not found`);
  const from = source.indexOf('"', start) + 1;
  const bytes: number[] = [];
  for (let i = from; source[i] !== '"'; i++) {
    const ch = source[i];
    if (ch !== "\\") {
      bytes.push(ch.charCodeAt(0));
      continue;
    }
    const esc = source[++i];
    if (esc === "x") {
      bytes.push(parseInt(source.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (esc === "\\" || esc === '"') {
      bytes.push(esc.charCodeAt(0));
    } else throw new Error(`unexpected escape \\${esc} in ${name}`);
  }
  return new Uint8Array(bytes);
}

async function gunzip(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as BlobPart]).stream().pipeThrough(
    new DecompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function gzip(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as BlobPart]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Regular files of a ustar archive, in archive order. */
function untar(tar: Uint8Array): [string, string][] {
  const decoder = new TextDecoder();
  const files: [string, string][] = [];
  for (let off = 0; off + 512 <= tar.length;) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const field = (a: number, b: number) =>
      decoder.decode(header.subarray(a, b)).replace(/\0.*$/s, "");
    const name = field(0, 100);
    const size = parseInt(field(124, 136).trim() || "0", 8);
    const type = field(156, 157);
    off += 512;
    if (type === "0" || type === "") {
      files.push([name, decoder.decode(tar.subarray(off, off + size))]);
    }
    off += Math.ceil(size / 512) * 512;
  }
  return files;
}

/** Minimal CSV reader (RFC 4180 quoting), enough for the two asset tables. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else if (ch !== "\r") field += ch;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** The numbers of Go array literal `var name = [N]type{...}` in `source`. */
function goNumberArray(source: string, name: string): number[] {
  const match = new RegExp(`var ${name} = \\[\\d+\\]\\w+\\{([^}]*)\\}`).exec(source);
  if (!match) throw new Error(`table ${name} not found`);
  return match[1].split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number);
}

const dir = await moduleDir(MODULE, VERSION);
const normalGo = await Deno.readTextFile(
  `${await moduleDir(RAND_MODULE, RAND_VERSION)}/rand/normal.go`,
);
const ziggurat = {
  kn: goNumberArray(normalGo, "kn"),
  wn: goNumberArray(normalGo, "wn"),
  fn: goNumberArray(normalGo, "fn"),
};
const bindata = await Deno.readTextFile(`${dir}/licensedb/internal/assets/bindata.go`);
const decoder = new TextDecoder();
const licenses = untar(await gunzip(goBytesLiteral(bindata, "_licensesTar")));
const urls = parseCsv(decoder.decode(await gunzip(goBytesLiteral(bindata, "_urlsCsv"))));
const names = parseCsv(decoder.decode(await gunzip(goBytesLiteral(bindata, "_namesCsv"))));
const json = JSON.stringify({ licenses, urls, names, ziggurat });
const packed = await gzip(new TextEncoder().encode(json));
let base64 = "";
const CHUNK = 0x8000;
let binary = "";
for (let i = 0; i < packed.length; i += CHUNK) {
  binary += String.fromCharCode(...packed.subarray(i, i + CHUNK));
}
base64 = btoa(binary);
const lines: string[] = [];
for (let i = 0; i < base64.length; i += 96) lines.push(`  "${base64.slice(i, i + 96)}",`);
const header = `// Generated by tools/license_dataset.ts from ${MODULE}@${VERSION}
// (go-license-detector's SPDX license list data: license texts, names and URLs).
// The SPDX License List data is available under CC0 1.0; go-license-detector is Apache-2.0.
// Do not edit: regenerate with \`deno task gen:license\`.

/** Module and version the dataset was extracted from. */
export const DATASET_SOURCE = "${MODULE}@${VERSION}";

/** Module and version of the random generator's ziggurat tables. */
export const RAND_SOURCE = "${RAND_MODULE}@${RAND_VERSION}";

/** Number of license texts in the dataset. */
export const DATASET_LICENSES = ${licenses.length};

/**
 * gzip'd JSON \`{ licenses: [file, text][], urls: [id, url, scheme][], names: [id, name][],
 * ziggurat: { kn, wn, fn } }\`, base64. */
export const DATASET_GZIP_BASE64 = [
${lines.join("\n")}
].join("");
`;
await Deno.writeTextFile(OUTPUT, header);
console.log(
  `wrote ${OUTPUT.pathname}: ${licenses.length} licenses, ${urls.length} URLs, ${names.length} names, ${packed.length} bytes gzip`,
);
