/**
 * `deno task gen:proto [proto-dir]`: parses every `*.proto` in the proto
 * directory (default `proto/`) together with the bundled gRPC health and
 * reflection protos (`src/proto/third_party/`), and writes
 * `src/proto/generated.ts` and `src/proto/types.ts`. The server only ever
 * imports those; it never reads .proto files.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { parseProtoSet, type ProtoSet } from "./parse.ts";
import { readProtoDir, readProtoTree } from "./sources.ts";
import { renderGenerated } from "./render_generated.ts";
import { renderTypes } from "./typescript.ts";

/** Where the bundled third-party protos live. */
export const THIRD_PARTY_DIR: string = fileURLToPath(new URL("./third_party", import.meta.url));

/** The two generated modules' text. */
export interface GeneratedFiles {
  /** Text of src/proto/generated.ts. */
  generated: string;
  /** Text of src/proto/types.ts. */
  types: string;
}

/** Parses the project's protos plus the bundled third-party ones. */
export async function loadProjectProtos(protoDir: string): Promise<ProtoSet> {
  const sources = [...await readProtoDir(protoDir), ...await readProtoTree(THIRD_PARTY_DIR)];
  return parseProtoSet(sources);
}

/** Renders both generated modules from the .proto files in `protoDir`, in memory. */
export async function generate(protoDir: string): Promise<GeneratedFiles> {
  const set = await loadProjectProtos(protoDir);
  return { generated: renderGenerated(set), types: renderTypes(set) };
}

async function main(args: string[]): Promise<void> {
  const protoDir = args[0] ?? "proto";
  const files = await generate(protoDir);
  const out = (name: string) => fileURLToPath(new URL(name, import.meta.url));
  await Deno.writeTextFile(out("./generated.ts"), files.generated);
  await Deno.writeTextFile(out("./types.ts"), files.types);
  console.log(`gen:proto: wrote src/proto/generated.ts and src/proto/types.ts from ${protoDir}`);
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (error) {
    console.error(`gen:proto: ${(error as Error).message}`);
    Deno.exit(1);
  }
}
