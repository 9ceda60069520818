/**
 * gRPC reflection against an independent client: our server, started the way
 * the README starts it, on its Unix socket, described by
 * tests/interop/reflection (jhump/protoreflect's grpcreflect, the client
 * grpcurl uses) over grpc.reflection.v1 and v1alpha. Resolving every listed
 * service makes that client validate all the descriptors it receives.
 *
 * @module
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { gitalyServices } from "../../src/proto/mod.ts";
import { startTestServer } from "../helpers/server.ts";
import { GO, goBinary, runGo } from "../helpers/go.ts";

interface Report {
  services: string[];
  resolvedServices: number;
  repositoryExistsRequest: {
    name: string;
    number: number;
    type: string;
    typeName: string;
    targetRepository: boolean;
  }[];
  repositoryExists: {
    input: string;
    output: string;
    clientStreaming: boolean;
    serverStreaming: boolean;
  };
  healthMethods: string[];
  objectTypeValues: string[];
  methodOptionsExtensions: number[];
  unknownSymbolNotFound: boolean;
  unknownFileNotFound: boolean;
}

Deno.test({
  name: "grpcreflect lists and describes the server over v1 and v1alpha (go required)",
  ignore: GO === undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const binary = await goBinary("reflection");
    const server = await startTestServer();
    try {
      const output = JSON.parse(await runGo(binary, [`unix://${server.socketPath}`])) as {
        rawV1Services: string[];
        v1: Report;
        v1alpha: Report;
      };

      const expected = [
        ...gitalyServices().map((s) => s.fullName),
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
      ].sort();
      assertEquals(output.rawV1Services, expected);
      for (const [version, report] of Object.entries({ v1: output.v1, v1alpha: output.v1alpha })) {
        assertEquals(report.services, expected, version);
        assertEquals(report.resolvedServices, expected.length, version);
        assertEquals(report.repositoryExistsRequest, [{
          name: "repository",
          number: 1,
          type: "TYPE_MESSAGE",
          typeName: "gitaly.Repository",
          targetRepository: true,
        }], version);
        assertEquals(report.repositoryExists, {
          input: "gitaly.RepositoryExistsRequest",
          output: "gitaly.RepositoryExistsResponse",
          clientStreaming: false,
          serverStreaming: false,
        }, version);
        assertEquals(report.healthMethods, ["Check", "Watch"], version);
        assertEquals(
          report.objectTypeValues,
          ["UNKNOWN", "COMMIT", "BLOB", "TREE", "TAG"],
          version,
        );
        assertEquals(report.methodOptionsExtensions, [82303], version);
        assert(report.unknownSymbolNotFound, `${version}: unknown symbol was not NOT_FOUND`);
        assert(report.unknownFileNotFound, `${version}: unknown file was not NOT_FOUND`);
      }
    } finally {
      await server.stop();
    }
  },
});

// Only where Go is missing, so the summary shows a skip exactly when the test above skipped.
if (GO === undefined) {
  Deno.test("Go is missing: reflection interop skipped", () => {
    console.warn("skipping reflection interop test: `go` is not installed");
  });
}
