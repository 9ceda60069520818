/**
 * The reflection answers (src/service/reflection), without a network: list
 * services, files by name with their not-yet-sent imports, files by symbol
 * (service, method, message, nested message, enum, enum value, field),
 * extensions, and NOT_FOUND answers for unknown names.
 *
 * @module
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { messageType } from "../../src/proto/mod.ts";
import { buildDescriptorIndex } from "../../src/service/reflection/descriptor_index.ts";
import {
  InvalidReflectionRequest,
  type ReflectionRequest,
  respond,
} from "../../src/service/reflection/respond.ts";

const index = buildDescriptorIndex();
const fileType = messageType("google.protobuf.FileDescriptorProto");

function newStream(services: string[] = ["gitaly.RepositoryService", "grpc.health.v1.Health"]) {
  return { index, services, sent: new Set<string>() };
}

function ask(request: ReflectionRequest, stream = newStream()) {
  return respond(request, stream);
}

function fileNames(response: ReturnType<typeof ask>): string[] {
  return (response.file_descriptor_response?.file_descriptor_proto ?? []).map((bytes) =>
    (fileType.decode(bytes!) as unknown as { name: string }).name
  );
}

Deno.test("list_services answers the configured names", () => {
  const request: ReflectionRequest = {
    host: "h",
    message_request: "list_services",
    list_services: "*",
  };
  const response = ask(request);
  assertEquals(response.list_services_response?.service?.map((s) => s?.name), [
    "gitaly.RepositoryService",
    "grpc.health.v1.Health",
  ]);
  assertEquals(response.valid_host, "h");
  assert(response.original_request === request, "original request is echoed");
});

Deno.test("file_by_filename sends the file, then imports not sent on this stream", () => {
  const stream = newStream();
  const first = ask(
    { message_request: "file_by_filename", file_by_filename: "repository.proto" },
    stream,
  );
  const names = fileNames(first);
  assertEquals(names[0], "repository.proto");
  for (const dependency of ["lint.proto", "shared.proto", "google/protobuf/descriptor.proto"]) {
    assert(names.includes(dependency), `${dependency} missing from ${names}`);
  }
  assertEquals(new Set(names).size, names.length, "no file twice");

  const again = ask(
    { message_request: "file_by_filename", file_by_filename: "shared.proto" },
    stream,
  );
  assertEquals(
    fileNames(again),
    ["shared.proto"],
    "the asked-for file always comes, sent imports do not",
  );
});

Deno.test("file_containing_symbol finds every kind of symbol", () => {
  const cases: [string, string][] = [
    ["gitaly.RepositoryService", "repository.proto"],
    ["gitaly.RepositoryService.RepositoryExists", "repository.proto"],
    [".gitaly.RepositoryExistsRequest", "repository.proto"],
    ["gitaly.RepositoryExistsRequest.repository", "repository.proto"],
    ["gitaly.GetArchiveRequest.Format", "repository.proto"],
    ["gitaly.ObjectType", "shared.proto"],
    ["gitaly.Repository", "shared.proto"],
    ["gitaly.op_type", "lint.proto"],
    ["grpc.health.v1.Health", "grpc/health/v1/health.proto"],
    ["grpc.reflection.v1alpha.ServerReflection", "grpc/reflection/v1alpha/reflection.proto"],
    ["google.protobuf.Timestamp", "google/protobuf/timestamp.proto"],
  ];
  for (const [symbol, file] of cases) {
    const response = ask({
      message_request: "file_containing_symbol",
      file_containing_symbol: symbol,
    });
    assertEquals(fileNames(response)[0], file, symbol);
  }
});

Deno.test("unknown names answer NOT_FOUND and the stream goes on", () => {
  const stream = newStream();
  const symbol = ask({
    message_request: "file_containing_symbol",
    file_containing_symbol: "gitaly.Nope",
  }, stream);
  assertEquals(symbol.error_response, {
    error_code: 5,
    error_message: "symbol not found: gitaly.Nope",
  });
  const file = ask({ message_request: "file_by_filename", file_by_filename: "nope.proto" }, stream);
  assertEquals(file.error_response?.error_code, 5);
  const extension = ask({
    message_request: "file_containing_extension",
    file_containing_extension: {
      containing_type: "google.protobuf.MethodOptions",
      extension_number: 1,
    },
  }, stream);
  assertEquals(extension.error_response?.error_code, 5);
  const numbers = ask({
    message_request: "all_extension_numbers_of_type",
    all_extension_numbers_of_type: "x.Y",
  }, stream);
  assertEquals(numbers.error_response?.error_code, 5);
  const fine = ask({ message_request: "file_by_filename", file_by_filename: "lint.proto" }, stream);
  assertEquals(fileNames(fine)[0], "lint.proto");
});

Deno.test("extensions: by number and all numbers of a type", () => {
  const found = ask({
    message_request: "file_containing_extension",
    file_containing_extension: {
      containing_type: "google.protobuf.MethodOptions",
      extension_number: 82303,
    },
  });
  assertEquals(fileNames(found)[0], "lint.proto");
  const numbers = ask({
    message_request: "all_extension_numbers_of_type",
    all_extension_numbers_of_type: "google.protobuf.FieldOptions",
  });
  assertEquals(numbers.all_extension_numbers_response, {
    base_type_name: "google.protobuf.FieldOptions",
    extension_number: [91233, 91234, 91235, 91236],
  });
});

Deno.test("a request without a question is rejected", () => {
  let error: unknown;
  try {
    ask({ host: "" });
  } catch (e) {
    error = e;
  }
  assert(error instanceof InvalidReflectionRequest, String(error));
});
