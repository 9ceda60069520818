import { messageType } from "../../src/proto/mod.ts";
import { parseProtoJson, toProtoJson } from "../../src/client/mod.ts";
import { assertEquals } from "../helpers/assert.ts";

Deno.test("toProtoJson: protojson's names and encodings", () => {
  const type = messageType("gitaly.RepositorySizeResponse");
  assertEquals(toProtoJson(type, type.decode(type.encode({ size: 42 }).finish())), { size: "42" });
  assertEquals(toProtoJson(type, {}), {}); // defaults are left out

  const exists = messageType("gitaly.CheckObjectsExistResponse");
  assertEquals(
    toProtoJson(exists, {
      revisions: [{ name: new TextEncoder().encode("main"), exists: true }, { name: [] }],
    }),
    { revisions: [{ name: "bWFpbg==", exists: true }, {}] },
  );

  const health = messageType("grpc.health.v1.HealthCheckResponse");
  assertEquals(toProtoJson(health, { status: 2 }), { status: "NOT_SERVING" });

  const request = messageType("gitaly.RepositoryExistsRequest");
  const parsed = parseProtoJson(request, `{"repository":{"storageName":"s","relativePath":"a"}}`);
  assertEquals(toProtoJson(request, parsed), {
    repository: { storageName: "s", relativePath: "a" },
  });
});

Deno.test("toProtoJson: timestamps in RFC 3339", () => {
  const type = messageType("gitaly.CommitAuthor");
  const at = (seconds: number, nanos: number) =>
    (toProtoJson(type, { date: { seconds, nanos } }) as { date: string }).date;
  assertEquals(at(1_700_000_000, 0), "2023-11-14T22:13:20Z");
  assertEquals(at(1_700_000_000, 500_000_000), "2023-11-14T22:13:20.500Z");
  assertEquals(at(1_700_000_000, 1_000), "2023-11-14T22:13:20.000001Z");
  assertEquals(at(0, 1), "1970-01-01T00:00:00.000000001Z");
});
