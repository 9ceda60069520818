import { assert, assertEquals } from "../helpers/assert.ts";
import { DiffParseError, type ParsedDiff, parseDiffs } from "../../src/git/diff_parser.ts";

const A = "a".repeat(40);
const B = "b".repeat(40);
const Z = "0".repeat(40);

/** `git diff --raw --patch` output of three files: a change, an addition with a quoted path, a type change. */
const OUTPUT = [
  `:100644 100644 ${A} ${B} M\tdir/file.txt\n`,
  `:000000 100644 ${Z} ${B} A\t"new \\303\\251.txt"\n`,
  `:100644 120000 ${A} ${B} T\tlink\n`,
  "\n",
  "diff --git a/dir/file.txt b/dir/file.txt\n",
  `index ${A}..${B} 100644\n`,
  "--- a/dir/file.txt\n",
  "+++ b/dir/file.txt\n",
  "@@ -1,2 +1,2 @@\n",
  " a\n",
  "-b\n",
  "+B\n",
  'diff --git "a/new \\303\\251.txt" "b/new \\303\\251.txt"\n',
  "new file mode 100644\n",
  `index ${Z}..${B}\n`,
  "Binary files /dev/null and b/new differ\n",
  "diff --git a/link b/link\n",
  "deleted file mode 100644\n",
  "--- a/link\n",
  "+++ /dev/null\n",
  "@@ -1 +0,0 @@\n",
  "-x\n",
  "\\ No newline at end of file\n",
  "diff --git a/link b/link\n",
  "new file mode 120000\n",
  "--- /dev/null\n",
  "+++ b/link\n",
  "@@ -0,0 +1 @@\n",
  "+target",
].join("");

/** A byte stream of `text` in pieces of `size` bytes, pausing `pauseMs` before each. */
function streamOf(text: string, size: number, pauseMs = 0): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  return new ReadableStream({
    type: "bytes",
    async pull(controller) {
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
      if (at >= bytes.byteLength) {
        controller.close();
        controller.byobRequest?.respond(0);
        return;
      }
      const piece = bytes.subarray(at, at + size);
      at += piece.byteLength;
      const request = controller.byobRequest;
      if (request?.view) {
        const view = new Uint8Array(request.view.buffer, request.view.byteOffset, piece.byteLength);
        view.set(piece);
        request.respond(piece.byteLength);
      } else controller.enqueue(piece.slice());
    },
  });
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

function summary(diffs: ParsedDiff[]) {
  return diffs.map((d) => ({
    from: text(d.fromPath),
    to: text(d.toPath),
    ids: [d.fromId, d.toId, text(d.fromIdBytes), text(d.toIdBytes)],
    modes: [d.oldMode, d.newMode],
    status: d.status,
    binary: d.binary,
    patch: text(d.patch),
  }));
}

async function parseAll(
  stream: ReadableStream<Uint8Array>,
  onWait?: () => Promise<void>,
): Promise<ParsedDiff[]> {
  const out: ParsedDiff[] = [];
  for await (const diff of parseDiffs(stream, {}, 40, onWait)) out.push(diff);
  return out;
}

Deno.test("parseDiffs: the same records however the output is cut, ids and paths decoded", async () => {
  const whole = summary(await parseAll(streamOf(OUTPUT, 1 << 20)));
  const record = (
    path: string,
    [from, to]: string[],
    modes: number[],
    status: string,
    patch: string,
  ) => ({
    from: path,
    to: path,
    ids: [from, to, from, to],
    modes,
    status,
    binary: patch.startsWith("Binary"),
    patch,
  });
  assertEquals(whole, [
    record("dir/file.txt", [A, B], [0o100644, 0o100644], "M", "@@ -1,2 +1,2 @@\n a\n-b\n+B\n"),
    record("new é.txt", [Z, B], [0, 0o100644], "A", "Binary files /dev/null and b/new differ\n"),
    record("link", [A, Z], [0o100644, 0], "T", "@@ -1 +0,0 @@\n-x\n\\ No newline at end of file\n"),
    record("link", [Z, B], [0, 0o120000], "A", "@@ -0,0 +1 @@\n+target"),
  ]);
  for (const size of [1, 7, 64]) {
    assertEquals(summary(await parseAll(streamOf(OUTPUT, size))), whole, `pieces of ${size}`);
  }
});

Deno.test("parseDiffs: onWait runs when git makes the parser wait, not for output already there", async () => {
  let waits = 0;
  const onWait = () => {
    waits++;
    return Promise.resolve();
  };
  await parseAll(streamOf(OUTPUT, 1 << 20), onWait);
  assertEquals(waits, 0);
  const paused = summary(await parseAll(streamOf(OUTPUT, 200, 5), onWait));
  assert(waits > 0, "a paused source makes the parser wait");
  assertEquals(paused, summary(await parseAll(streamOf(OUTPUT, 1 << 20))));
});

Deno.test("parseDiffs: a raw line that does not parse fails when its turn comes", async () => {
  const broken = OUTPUT.replace(`:100644 120000 ${A}`, `:100644 120000 ${A.slice(1)}`);
  const seen: string[] = [];
  let failure: unknown;
  try {
    for await (const diff of parseDiffs(streamOf(broken, 1 << 20))) seen.push(text(diff.fromPath));
  } catch (error) {
    failure = error;
  }
  assert(failure instanceof DiffParseError, String(failure));
  assertEquals(seen, ["dir/file.txt", "new é.txt"]);
});
