/**
 * Parsing and descriptor building for proto features Gitaly's files barely
 * use (so the Go comparison cannot cover them): empty statements, maps,
 * oneofs next to proto3 `optional`, reserved ranges, nested extensions of
 * options, proto names that protoc rewrites.
 *
 * @module
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { dropEmptyStatements, parseProtoSet } from "../../src/proto/parse.ts";
import { buildFileDescriptor, jsonName, mapEntryName } from "../../src/proto/descriptor.ts";
import { extensionOption } from "../../src/proto/options.ts";
import { renderTypes } from "../../src/proto/typescript.ts";

const SAMPLE = `syntax = "proto3";
package sample.v1;
import "google/protobuf/descriptor.proto";
option go_package = "example.com/sample";;

extend google.protobuf.FieldOptions { bool marked = 50001; }

message Thing {
  reserved 4, 8 to 10;
  reserved "old";
  map<string, Thing> child_by_name = 1;
  oneof choice { string a = 2 [(marked) = true]; int64 b = 3; }
  optional uint32 maybe = 5;
  repeated Kind kinds = 6;
  enum Kind { KIND_UNSPECIFIED = 0; KIND_X = 1; reserved 5 to max; }
}

service Things {
  rpc Watch(stream Thing) returns (stream Thing);
}
`;

function sample() {
  const set = parseProtoSet([{ name: "sample/v1/thing.proto", source: SAMPLE }]);
  const file = set.files.find((f) => f.name === "sample/v1/thing.proto")!;
  return { set, file, descriptor: buildFileDescriptor(set, file) };
}

Deno.test("empty statements are blanked outside strings and comments", () => {
  assertEquals(dropEmptyStatements('a;; b { ; } "x;;" // y;;\n;;'), 'a;  b {   } "x;;" // y;;\n; ');
  assertEquals(dropEmptyStatements("/* ;; */ c;").length, "/* ;; */ c;".length);
});

Deno.test("protoc names: json_name and map entry types", () => {
  assertEquals(jsonName("max_patch_bytes_for_file_extension"), "maxPatchBytesForFileExtension");
  assertEquals(jsonName("a_1b"), "a1b");
  assertEquals(jsonName("a__b_"), "aB");
  assertEquals(
    mapEntryName("max_patch_bytes_for_file_extension"),
    "MaxPatchBytesForFileExtensionEntry",
  );
  assertEquals(mapEntryName("child_by_name"), "ChildByNameEntry");
});

Deno.test("file-level facts: package, imports, options, syntax, order", () => {
  const { set, file } = sample();
  assertEquals(file.package, "sample.v1");
  assertEquals(file.imports, ["google/protobuf/descriptor.proto"]);
  assertEquals(file.syntax, "proto3");
  assertEquals(file.options.go_package, "example.com/sample");
  const names = set.files.map((f) => f.name);
  assert(
    names.indexOf("google/protobuf/descriptor.proto") < names.indexOf(file.name),
    names.join(),
  );
});

Deno.test("descriptor: maps, oneofs, proto3 optional, reserved, extensions, streaming", () => {
  const { descriptor, set } = sample();
  assertEquals(descriptor.unmapped, []);
  // deno-lint-ignore no-explicit-any
  const d = descriptor.descriptor as Record<string, any>;
  assertEquals(d.name, "sample/v1/thing.proto");
  assertEquals(d.dependency, ["google/protobuf/descriptor.proto"]);
  assertEquals(d.syntax, "proto3");
  assertEquals(d.options, { go_package: "example.com/sample" });
  assertEquals(d.extension, [{
    name: "marked",
    number: 50001,
    label: 1,
    type: 8,
    extendee: ".google.protobuf.FieldOptions",
    json_name: "marked",
  }]);

  const thing = d.message_type[0];
  const field = (name: string) => thing.field.find((f: { name: string }) => f.name === name);
  assertEquals(field("child_by_name"), {
    name: "child_by_name",
    number: 1,
    label: 3,
    type: 11,
    type_name: ".sample.v1.Thing.ChildByNameEntry",
    json_name: "childByName",
  });
  assertEquals(thing.nested_type, [{
    name: "ChildByNameEntry",
    field: [
      { name: "key", number: 1, label: 1, type: 9, json_name: "key" },
      {
        name: "value",
        number: 2,
        label: 1,
        type: 11,
        type_name: ".sample.v1.Thing",
        json_name: "value",
      },
    ],
    options: { map_entry: true },
  }]);
  assertEquals(
    thing.oneof_decl,
    [{ name: "choice" }, { name: "_maybe" }],
    "synthetic oneofs go last",
  );
  assertEquals(field("a").oneof_index, 0);
  assertEquals(field("a").options, { ".sample.v1.marked": true });
  assertEquals(field("b").type, 3);
  assertEquals(field("maybe"), {
    name: "maybe",
    number: 5,
    label: 1,
    type: 13,
    oneof_index: 1,
    json_name: "maybe",
    proto3_optional: true,
  });
  assertEquals(field("kinds").type_name, ".sample.v1.Thing.Kind");
  assertEquals(thing.reserved_range, [{ start: 4, end: 5 }, { start: 8, end: 11 }]);
  assertEquals(thing.reserved_name, ["old"]);
  assertEquals(thing.enum_type[0].reserved_range, [{ start: 5, end: 0x7fffffff }]);
  assertEquals(d.service[0].method[0], {
    name: "Watch",
    input_type: ".sample.v1.Thing",
    output_type: ".sample.v1.Thing",
    client_streaming: true,
    server_streaming: true,
  });

  const a = set.root.lookupType("sample.v1.Thing").fields.a;
  assertEquals(extensionOption(a, "sample.v1.marked"), true);
  assertEquals(extensionOption(a, "gitaly.target_repository"), undefined);
});

Deno.test("unknown imports and unresolvable types name the file", () => {
  const missingImport = () =>
    parseProtoSet([{ name: "a.proto", source: 'syntax = "proto3"; import "b.proto";' }]);
  const unknownType = () =>
    parseProtoSet([{
      name: "c.proto",
      source: 'syntax = "proto3"; package c; message M { Nope n = 1; }',
    }]);
  for (
    const [fn, pattern] of [[missingImport, /a\.proto: imports unknown file b\.proto/], [
      unknownType,
      /Nope/,
    ]] as const
  ) {
    try {
      fn();
      throw new Error("expected an error");
    } catch (error) {
      assert(pattern.test((error as Error).message), (error as Error).message);
    }
  }
});

Deno.test("rendered types are already formatted, long names included", async () => {
  const long = "A".repeat(55);
  const source = `syntax = "proto3";
package gitaly;
message ${long} { int32 x = 1; }
message Holder {
  ${long} a_very_long_field_name_for_testing_purposes_x = 1;
  map<string, ${long}> a_very_long_map_name_for_testing_purposes_x = 2;
  oneof a_long_oneof_name_for_testing_the_wrapping {
    ${long} first_member_name = 3;
    string second_member_name_which_is_long = 4;
  }
  message Empty {}
}
`;
  const text = renderTypes(parseProtoSet([{ name: "long.proto", source }]));
  assertEquals(await denoFmt(text), text);
});

/** `text` after deno fmt with the project's line width. */
async function denoFmt(text: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--line-width=100", "--ext=ts", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const output = await child.output();
  assert(output.success, new TextDecoder().decode(output.stderr));
  return new TextDecoder().decode(output.stdout);
}
