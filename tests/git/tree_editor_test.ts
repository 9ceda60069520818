/**
 * The tree editor's path rules and Gitaly's quirks, on an in-memory store.
 *
 * @module
 */
import { assertEquals, assertRejects } from "../helpers/assert.ts";
import type { TreeObjectEntry } from "../../src/git/tree.ts";
import {
  basePath,
  binaryString,
  cleanPath,
  type EditableEntry,
  type TreeEditError,
  TreeEditor,
  type TreeStore,
  TreeWriteError,
  validateCreationPath,
} from "../../src/git/tree_editor.ts";

/** A store keeping written trees by a fake id (their content, hex-encoded). */
function memoryStore(): TreeStore & { trees: Map<string, Uint8Array> } {
  const trees = new Map<string, Uint8Array>();
  let next = 1;
  return {
    trees,
    read(oid) {
      if (!trees.has(oid)) return Promise.resolve(null);
      return Promise.resolve(parse(trees.get(oid)!));
    },
    write(content) {
      const oid = (next++).toString(16).padStart(40, "0");
      trees.set(oid, content);
      return Promise.resolve(oid);
    },
  };
}

function parse(content: Uint8Array): TreeObjectEntry[] {
  const out: TreeObjectEntry[] = [];
  let at = 0;
  while (at < content.length) {
    const space = content.indexOf(0x20, at);
    const nul = content.indexOf(0, space);
    const oid = Array.from(
      content.subarray(nul + 1, nul + 21),
      (b) => b.toString(16).padStart(2, "0"),
    )
      .join("");
    out.push({
      mode: new TextDecoder().decode(content.subarray(at, space)),
      name: content.slice(space + 1, nul),
      oid,
    });
    at = nul + 21;
  }
  return out;
}

const BLOB = "b".repeat(40);
const file = (name: string): EditableEntry => ({ oid: BLOB, mode: "100644", name, type: "blob" });

/** Every path of the written tree, `mode path`, depth first. */
async function listing(
  store: ReturnType<typeof memoryStore>,
  oid: string | undefined,
  prefix = "",
) {
  if (!oid) return [];
  const out: string[] = [];
  for (const entry of (await store.read(oid))!) {
    const name = prefix + binaryString(entry.name);
    out.push(`${entry.mode} ${name}`);
    if (entry.mode === "40000") out.push(...await listing(store, entry.oid, `${name}/`));
  }
  return out;
}

Deno.test("tree editor: paths are cleaned like Go's filepath.Clean", () => {
  assertEquals(cleanPath(""), ".");
  assertEquals(cleanPath("a//b/./c/.."), "a/b");
  assertEquals(cleanPath("/../a"), "/a");
  assertEquals(cleanPath("../a/.."), "..");
  assertEquals(basePath("a/b/"), "b");
  assertEquals(validateCreationPath("./a//b"), "a/b");
  for (
    const [path, kind] of [["/a", "absolute-path"], ["..x", "path-traversal"], [
      "a/..",
      "empty-path",
    ], [".git/x", "disallowed-path"]]
  ) {
    try {
      validateCreationPath(path);
      throw new Error(`accepted ${path}`);
    } catch (error) {
      assertEquals((error as TreeEditError).kind, kind);
    }
  }
});

Deno.test("tree editor: adds, sorts trees as if their name ended in '/', drops emptied trees", async () => {
  const store = memoryStore();
  const editor = new TreeEditor(store);
  await editor.add("a/b.txt", file("b.txt"));
  await editor.add("a.txt", file("a.txt"));
  await editor.add("a-b", file("a-b"));
  await editor.add("z/only", file("only"));
  await editor.remove("z/only");
  const root = await editor.write();
  assertEquals(await listing(store, root), [
    "100644 a-b",
    "100644 a.txt",
    "40000 a",
    "100644 a/b.txt",
  ]);
  await assertRejects(editor.add("a.txt", file("a.txt")), /entry already exists/);
  await assertRejects(editor.remove("missing/x"), /entry not found/);
});

Deno.test("tree editor: Gitaly's quirks are kept", async () => {
  const store = memoryStore();
  const editor = new TreeEditor(store);
  // The new entry lands at the first missing level named like the path's last component.
  await editor.add("x/y/x", file("x"));
  assertEquals(await listing(store, await editor.write()), ["100644 x"]);
  // A walk passes through a blob; writing that tree fails as git's check does.
  const broken = new TreeEditor(store);
  await broken.add("f", file("f"));
  await broken.add("f/g", file("g"));
  await assertRejects(broken.write(), /writing tree: exit status 128/);
  // An empty root writes nothing.
  assertEquals(await new TreeEditor(store).write(), undefined);
  // `.git` below the root is refused when written.
  const dotgit = new TreeEditor(store);
  await dotgit.add("sub/.GIT/config", file("config"));
  await assertRejects(dotgit.write(), TreeWriteError);
});
