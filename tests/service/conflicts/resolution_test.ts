/**
 * The conflict resolution pieces without a server: parsing GitLab's JSON,
 * resolving a conflicted file by sections or content (limits, markers,
 * line codes), and relabelling markers on a stream.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { assertEquals, assertThrows } from "../../helpers/assert.ts";
import { labelWithPaths, replaceAllStream } from "../../../src/service/conflicts/labels.ts";
import {
  FILE_LIMIT,
  parseResolutions,
  type Resolution,
  resolveConflictedFile,
  ResolveError,
} from "../../../src/service/conflicts/resolution.ts";
import { GrpcError } from "../../../src/server/errors.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const OURS = "1".repeat(40);
const THEIRS = "2".repeat(40);

const CONFLICTED = [
  "a",
  `<<<<<<< ${OURS}`,
  "B-ours",
  "=======",
  "B-theirs",
  "B-theirs 2",
  `>>>>>>> ${THEIRS}`,
  "c",
  `<<<<<<< ${OURS}`,
  "D-ours",
  "=======",
  "D-theirs",
  `>>>>>>> ${THEIRS}`,
  "",
].join("\n");

const code = (path: string, ours: number, theirs: number) =>
  `${createHash("sha1").update(path).digest("hex")}_${ours}_${theirs}`;

function resolution(sections: Record<string, string>, content = ""): Resolution {
  return { oldPath: "f.txt", newPath: "f.txt", sections, content };
}

function resolve(data: string | Uint8Array, r: Resolution, newline = true): string {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  return decoder.decode(resolveConflictedFile(bytes, OURS, THEIRS, "f.txt", r, newline));
}

Deno.test("resolveConflictedFile: picks a side per section by line code", () => {
  const sections = { [code("f.txt", 2, 2)]: "head", [code("f.txt", 5, 4)]: "origin" };
  assertEquals(resolve(CONFLICTED, resolution(sections)), "a\nB-ours\nc\nD-theirs\n");
  assertEquals(resolve(CONFLICTED, resolution(sections), false), "a\nB-ours\nc\nD-theirs");
  const other = { [code("f.txt", 2, 2)]: "origin", [code("f.txt", 5, 4)]: "head" };
  assertEquals(resolve(CONFLICTED, resolution(other)), "a\nB-theirs\nB-theirs 2\nc\nD-ours\n");
});

Deno.test("resolveConflictedFile: missing or unknown sections name the line code", () => {
  for (const pick of [undefined, "both"]) {
    const sections: Record<string, string> = { [code("f.txt", 2, 2)]: "head" };
    if (pick) sections[code("f.txt", 5, 4)] = pick;
    const error = assertThrows(
      () => resolve(CONFLICTED, resolution(sections)),
      ResolveError,
    ) as Error;
    assertEquals(error.message, `Missing resolution for section ID: ${code("f.txt", 5, 4)}`);
  }
});

Deno.test("resolveConflictedFile: content replaces the file; markers must be well formed", () => {
  assertEquals(resolve(CONFLICTED, resolution({}, "new\n")), "new\n");
  const parse = (what: string) => `resolve: parse conflict for "f.txt": ${what}`;
  for (
    const [data, message] of [
      [`=======\n`, parse("unexpected conflict delimiter")],
      [`<<<<<<< ${OURS}\n<<<<<<< ${OURS}\n`, parse("unexpected conflict delimiter")],
      [`<<<<<<< ${OURS}\nx\n`, parse("missing last delimiter")],
      ["", parse("merging is not supported for file")],
    ]
  ) {
    const error = assertThrows(() => resolve(data, resolution({}, "x")), ResolveError) as Error;
    assertEquals(error.message, message);
  }
});

Deno.test("resolveConflictedFile: Gitaly's size limits", () => {
  const many = encoder.encode("line\n".repeat(Math.ceil(FILE_LIMIT / 5)));
  assertEquals(
    (assertThrows(() => resolve(many, resolution({}, "x")), ResolveError) as Error).message,
    "merging is not supported for file",
  );
  const long = new Uint8Array(FILE_LIMIT + 10).fill(0x61);
  assertEquals(
    (assertThrows(() => resolve(long, resolution({}, "x")), ResolveError) as Error).message,
    'resolve: parse conflict for "f.txt": merging is not supported for file',
  );
  // Just below the limit: fine.
  const below = new Uint8Array(FILE_LIMIT - 1).fill(0x61);
  assertEquals(resolve(below, resolution({}, "ok")), "ok");
});

Deno.test("parseResolutions: Gitaly's checks and encoding/json's messages", () => {
  assertEquals(
    parseResolutions(encoder.encode('[{"old_path":"a","new_path":"b","content":"x"}]')),
    [
      { oldPath: "a", newPath: "b", sections: {}, content: "x" },
    ],
  );
  for (
    const [json, message] of [
      ["", "unexpected end of JSON input"],
      ["xx", "invalid character 'x' looking for beginning of value"],
      ["{}", "json: cannot unmarshal object into Go value of type []map[string]interface {}"],
      ["[1]", "json: cannot unmarshal number into Go value of type map[string]interface {}"],
      ['[{"old_path":"a"}]', "missing sections or content for a resolution"],
      [
        '[{"content":5}]',
        "json: cannot unmarshal number into Go struct field Resolution.content of type string",
      ],
      [
        '[{"sections":{"a":1}}]',
        "json: cannot unmarshal number into Go struct field Resolution.sections of type string",
      ],
    ]
  ) {
    const error = assertThrows(() => parseResolutions(encoder.encode(json)), GrpcError) as Error;
    assertEquals(error.message, message, json);
  }
});

async function collect(stream: AsyncIterable<Uint8Array>): Promise<string> {
  let out = "";
  for await (const chunk of stream) out += decoder.decode(chunk);
  return out;
}

async function* pieces(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = encoder.encode(text);
  for (let at = 0; at < bytes.length; at += size) yield bytes.slice(at, at + size);
}

Deno.test("replaceAllStream: replaces across chunk boundaries, leftmost first", async () => {
  const text = `x ${OURS} y ${OURS}${OURS} z ${OURS.slice(0, 20)}`;
  const expected = text.replaceAll(OURS, "P");
  for (const size of [1, 3, 7, 39, 40, 41, 1000]) {
    assertEquals(
      await collect(
        replaceAllStream(pieces(text, size), encoder.encode(OURS), encoder.encode("P")),
      ),
      expected,
      `chunks of ${size}`,
    );
  }
});

Deno.test("labelWithPaths: our id, then their id, become paths", async () => {
  const labelled = await collect(
    labelWithPaths(pieces(CONFLICTED, 5), {
      ours: OURS,
      ourPath: "a.txt",
      theirs: THEIRS,
      theirPath: "b.txt",
    }),
  );
  assertEquals(labelled, CONFLICTED.replaceAll(OURS, "a.txt").replaceAll(THEIRS, "b.txt"));
});
