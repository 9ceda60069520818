/**
 * Wire identity with the real thing: runs tests/interop/descriptors (a Go
 * program that dumps the file descriptors Gitaly 16.7's published `gitalypb`
 * package registers, plus gRPC's health and reflection protos) and compares
 * them with the descriptors embedded in src/proto/generated.ts.
 *
 * Compared for every file: messages (nested included), fields (name, number,
 * type, type name, label, oneof, json name, proto3 optional, options),
 * reserved ranges and names, enums and their values, services and methods
 * (input/output types, streaming) and all options — `(op_type)`,
 * `(target_repository)`, `(storage)`, `(additional_repository)` among them.
 * Declaration order is ignored (see descriptor_diff.ts).
 *
 * google/protobuf/descriptor.proto is not compared: ours is the newer one
 * shipped with protobufjs and differs from the Go module's by design.
 *
 * @module
 */
import { assert } from "../helpers/assert.ts";
import { embeddedFiles } from "../../src/proto/mod.ts";
import { decodeBase64 } from "../../src/proto/base64.ts";
import { countMethodOptions, descriptorDifferences } from "./descriptor_diff.ts";
import { GO, goBinary, runGo } from "../helpers/go.ts";

const NOT_COMPARED = new Set(["google/protobuf/descriptor.proto"]);

Deno.test({
  name: "embedded descriptors match Gitaly's gitalypb (go required)",
  ignore: GO === undefined,
  async fn() {
    const theirs = JSON.parse(await runGo(await goBinary("descriptors"))) as Record<string, string>;
    const ours = new Map(embeddedFiles().map((f) => [f.name, f.descriptor]));

    const gitalyFiles = (names: Iterable<string>) =>
      [...names].filter((name) => !name.includes("/")).sort();
    assert(
      JSON.stringify(gitalyFiles(ours.keys())) === JSON.stringify(gitalyFiles(Object.keys(theirs))),
      `gitaly files differ:\n ours:   ${gitalyFiles(ours.keys())}\n theirs: ${
        gitalyFiles(Object.keys(theirs))
      }`,
    );

    const differences: string[] = [];
    let compared = 0;
    for (const [name, descriptor] of ours) {
      if (NOT_COMPARED.has(name) || !(name in theirs)) continue;
      differences.push(...descriptorDifferences(name, descriptor, decodeBase64(theirs[name])));
      compared++;
    }
    assert(differences.length === 0, `descriptors differ:\n${differences.slice(0, 50).join("\n")}`);
    assert(compared >= 24 + 3, `compared only ${compared} files`);
    const gitaly = [...ours].filter(([name]) => !name.includes("/")).map(([, bytes]) => bytes);
    assert(
      countMethodOptions(gitaly, ".gitaly.op_type") >= 140,
      "op_type options were not compared",
    );
  },
});

// Only where Go is missing, so the summary shows a skip exactly when the test above skipped.
if (GO === undefined) {
  Deno.test("Go is missing: descriptor comparison skipped", () => {
    console.warn("skipping descriptor comparison with gitalypb: `go` is not installed");
  });
}
