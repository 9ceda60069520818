import { subsetRoot } from "../../src/client/messages.ts";
import { jsonName, parseProtoJson, ProtoJsonError } from "../../src/client/protojson.ts";
import { assertEquals, assertThrows } from "../helpers/assert.ts";

const root = subsetRoot(["SSHUploadPackRequest", "SSHReceivePackRequest"]);
const uploadPack = root.lookupType("gitaly.SSHUploadPackRequest");
const receivePack = root.lookupType("gitaly.SSHReceivePackRequest");

Deno.test("protojson: JSON names are protoc's lowerCamelCase", () => {
  assertEquals(jsonName("git_config_options"), "gitConfigOptions");
  assertEquals(jsonName("gl_id"), "glId");
  assertEquals(jsonName("stdin"), "stdin");
});

Deno.test("protojson: accepts lowerCamelCase (as Gitaly writes) and snake_case", () => {
  for (
    const text of [
      `{"repository":{"storageName":"default","relativePath":"a.git"},"gitProtocol":"version=2","gitConfigOptions":["a.b=c"]}`,
      `{"repository":{"storage_name":"default","relative_path":"a.git"},"git_protocol":"version=2","git_config_options":["a.b=c"]}`,
    ]
  ) {
    const message = uploadPack.toObject(parseProtoJson(uploadPack, text));
    assertEquals(message.repository, { storage_name: "default", relative_path: "a.git" });
    assertEquals(message.git_protocol, "version=2");
    assertEquals(message.git_config_options, ["a.b=c"]);
  }
});

Deno.test("protojson: bytes are base64, null means unset", () => {
  const message = receivePack.toObject(
    parseProtoJson(receivePack, `{"stdin":"aGk","glId":"user-1","glRepository":null}`),
  );
  assertEquals(new TextDecoder().decode(message.stdin), "hi");
  assertEquals(message.gl_id, "user-1");
  assertEquals(message.gl_repository, undefined);
});

Deno.test("protojson: rejects unknown fields, wrong types and bad JSON", () => {
  for (
    const text of [
      ``,
      `{`,
      `[]`,
      `{"repository":{"storageName":1}}`,
      `{"unknown":true}`,
      `{"gitConfigOptions":"not a list"}`,
      `{"gitProtocol":"a","git_protocol":"b"}`,
      `{"stdin":"%%%"}`,
    ]
  ) {
    assertThrows(() => parseProtoJson(receivePack, text), ProtoJsonError);
  }
});
