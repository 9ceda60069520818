/**
 * The runtime proto API (src/proto/mod.ts): service metadata with Gitaly's
 * annotations, grpc-js definitions that (de)serialize with protobufjs, int64
 * as numbers, proto3 packed encoding, and request routing paths.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { assert, assertEquals } from "../helpers/assert.ts";
import {
  gitalyServices,
  grpcServiceDefinition,
  messageType,
  methodByPath,
  requestRouting,
  root,
  serviceInfo,
  storagePath,
  targetRepositoryPath,
  valueAtPath,
} from "../../src/proto/mod.ts";
import type {
  Init,
  RepositoryExistsRequest,
  RepositoryServiceMethods,
} from "../../src/proto/types.ts";
import { ObjectType } from "../../src/proto/types.ts";

Deno.test("gitalyServices lists every gitaly service with its methods", () => {
  const services = gitalyServices();
  const names = services.map((s) => s.fullName);
  for (
    const name of [
      "gitaly.RepositoryService",
      "gitaly.SSHService",
      "gitaly.SmartHTTPService",
      "gitaly.RefTransaction",
    ]
  ) {
    assert(names.includes(name), `missing ${name}`);
  }
  assert(names.every((n) => n.startsWith("gitaly.")), names.join());
  const methods = services.flatMap((s) => s.methods);
  assert(methods.length > 140, `only ${methods.length} methods`);
  assertEquals(new Set(methods.map((m) => m.path)).size, methods.length);
});

Deno.test("MethodInfo carries path, streaming, types and op_type", () => {
  const exists = serviceInfo("gitaly.RepositoryService").methods.find((m) =>
    m.name === "RepositoryExists"
  )!;
  assertEquals(exists.path, "/gitaly.RepositoryService/RepositoryExists");
  assertEquals(exists.service, "gitaly.RepositoryService");
  assertEquals([exists.requestStream, exists.responseStream], [false, false]);
  assertEquals(exists.requestType.fullName, ".gitaly.RepositoryExistsRequest");
  assertEquals(exists.responseType.fullName, ".gitaly.RepositoryExistsResponse");
  assertEquals([exists.op, exists.scope], ["ACCESSOR", "REPOSITORY"]);

  const upload = methodByPath("/gitaly.SSHService/SSHUploadPack")!;
  assertEquals([upload.requestStream, upload.responseStream], [true, true]);
  assertEquals(methodByPath("/gitaly.RepositoryService/RemoveAll")!.scope, "STORAGE");
  assertEquals(methodByPath("/gitaly.RepositoryService/OptimizeRepository")!.op, "MAINTENANCE");
  assertEquals(methodByPath("/gitaly.RepositoryService/NoSuchMethod"), undefined);
  assertEquals(methodByPath("/no.Such/Thing"), undefined);
});

Deno.test("intercepted services have no op_type; all others have op and scope", () => {
  for (const service of gitalyServices()) {
    for (const method of service.methods) {
      if (service.intercepted) assertEquals(method.op, undefined, method.path);
      else assert(method.op && method.scope, `${method.path} lacks op/scope`);
    }
  }
  assert(serviceInfo("gitaly.ServerService").intercepted);
  assert(!serviceInfo("gitaly.RepositoryService").intercepted);
});

Deno.test("grpc definitions round-trip messages as protobufjs instances", () => {
  const definition = grpcServiceDefinition("gitaly.RepositoryService");
  const exists = definition.RepositoryExists;
  assertEquals(exists.path, "/gitaly.RepositoryService/RepositoryExists");
  assertEquals(exists.originalName, "repositoryExists");
  assert(
    grpcServiceDefinition("gitaly.RepositoryService") === definition,
    "definitions are cached",
  );

  const request: Init<RepositoryExistsRequest> = {
    repository: { storage_name: "default", relative_path: "a/b.git" },
  };
  const wire = exists.requestSerialize(request);
  assert(Buffer.isBuffer(wire), "serialize returns a Buffer");
  const decoded = exists.requestDeserialize(wire) as RepositoryExistsRequest;
  assertEquals(decoded.repository?.relative_path, "a/b.git");
  assertEquals(decoded.repository?.gl_repository, "", "unset scalars read their default");
  assert(exists.requestSerialize(decoded).equals(wire), "instances serialize unchanged");

  const health = grpcServiceDefinition("grpc.health.v1.Health");
  assertEquals(Object.keys(health).sort(), ["Check", "Watch"]);
});

Deno.test("int64 decodes to number, bytes to Uint8Array, enums to numbers", () => {
  const size = messageType("gitaly.RepositorySizeResponse");
  const big = 2 ** 40 + 7;
  const decoded = size.decode(size.encode(size.fromObject({ size: big })).finish()) as unknown as {
    size: unknown;
  };
  assertEquals(decoded.size, big);

  const tree = messageType("gitaly.TreeEntry");
  const entry = tree.decode(
    tree.encode(tree.fromObject({ path: new TextEncoder().encode("a.txt"), type: ObjectType.BLOB }))
      .finish(),
  ) as unknown as { path: Uint8Array; type: number };
  assert(entry.path instanceof Uint8Array);
  assertEquals(new TextDecoder().decode(entry.path), "a.txt");
  assertEquals(entry.type, 2);
});

Deno.test("repeated scalars keep proto3 packed encoding after the JSON round trip", () => {
  // Gitaly's messages have no repeated numbers; reflection's proto3 messages do.
  const type = messageType("grpc.reflection.v1.ExtensionNumberResponse");
  const bytes = type.encode(type.fromObject({ extension_number: [1, 2, 3] })).finish();
  const lengthDelimited = 2;
  assertEquals([...bytes], [(2 << 3) | lengthDelimited, 3, 1, 2, 3]);
  // descriptor.proto is proto2: unpacked.
  const proto2 = messageType("google.protobuf.FileDescriptorProto");
  const unpacked = proto2.encode(proto2.fromObject({ public_dependency: [1, 2] })).finish();
  assertEquals([...unpacked], [10 << 3, 1, 10 << 3, 2]);
});

Deno.test("request routing finds target, additional repository and storage paths", () => {
  assertEquals(targetRepositoryPath("gitaly.RepositoryExistsRequest"), ["repository"]);
  assertEquals(targetRepositoryPath("gitaly.UserCommitFilesRequest"), ["header", "repository"]);
  assertEquals(targetRepositoryPath("gitaly.UserCommitFilesRequestHeader"), ["repository"]);
  assertEquals(requestRouting("gitaly.CreateObjectPoolRequest"), {
    targetRepository: ["object_pool", "repository"],
    additionalRepository: ["origin"],
  });
  assertEquals(storagePath("gitaly.RemoveAllRequest"), ["storage_name"]);
  assertEquals(requestRouting(messageType("gitaly.RemoveAllRequest")), {
    storage: ["storage_name"],
  });
  const message = { object_pool: { repository: { relative_path: "@pools/x.git" } } };
  assertEquals(
    valueAtPath(message, ["object_pool", "repository", "relative_path"]),
    "@pools/x.git",
  );
  assertEquals(valueAtPath({ object_pool: null }, ["object_pool", "repository"]), undefined);
});

Deno.test("every repository-scoped gitaly request has a target repository path", () => {
  for (const method of gitalyServices().flatMap((s) => s.methods)) {
    const routing = requestRouting(method.requestType);
    if (method.scope === "REPOSITORY") {
      assert(routing.targetRepository, `${method.path} has no target`);
    }
    if (method.scope === "STORAGE") assert(routing.storage, `${method.path} has no storage`);
  }
});

Deno.test("service method tables in types.ts match the runtime metadata", () => {
  // Compile-time: the table has the method with the right streaming kind.
  const kind: RepositoryServiceMethods["RepositoryExists"]["responseStream"] = false;
  assertEquals(kind, methodByPath("/gitaly.RepositoryService/RepositoryExists")!.responseStream);
  assert(root.lookupService("grpc.reflection.v1.ServerReflection"));
});
