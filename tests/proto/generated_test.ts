/**
 * src/proto/generated.ts and src/proto/types.ts are what `deno task gen:proto`
 * makes from proto/ today: regenerate in memory and compare.
 *
 * @module
 */
import { assert } from "../helpers/assert.ts";
import { generate } from "../../src/proto/generate.ts";

const PROTO_DIR = new URL("../../proto", import.meta.url).pathname;
const OUTPUT = (name: string) => new URL(`../../src/proto/${name}`, import.meta.url).pathname;

Deno.test("generated.ts and types.ts are up to date with proto/", async () => {
  const fresh = await generate(PROTO_DIR);
  for (const [name, text] of [["generated.ts", fresh.generated], ["types.ts", fresh.types]]) {
    const onDisk = await Deno.readTextFile(OUTPUT(name));
    assert(onDisk === text, `src/proto/${name} is stale: run \`deno task gen:proto\``);
  }
});

Deno.test("generation is deterministic", async () => {
  const [a, b] = [await generate(PROTO_DIR), await generate(PROTO_DIR)];
  assert(a.generated === b.generated && a.types === b.types, "two runs differ");
});
