import {
  clientNameMetadata,
  correlationIdMetadata,
  newCorrelationId,
  outgoingMetadata,
  toGrpcMetadata,
} from "../../src/client/mod.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

Deno.test("metadata helpers: the headers Gitaly reads", () => {
  assertEquals(clientNameMetadata("gitlab-shell"), { client_name: "gitlab-shell" });
  assertEquals(correlationIdMetadata("abc"), { "x-gitlab-correlation-id": "abc" });
  assert(newCorrelationId() !== newCorrelationId());
  assertEquals(
    outgoingMetadata({
      clientName: "tool",
      correlationId: "c-1",
      featureFlags: { some_flag: true, other: false },
      headers: { "x-extra": "1" },
    }),
    {
      client_name: "tool",
      "x-gitlab-correlation-id": "c-1",
      "gitaly-feature-some-flag": "true",
      "gitaly-feature-other": "false",
      "x-extra": "1",
    },
  );
  assertEquals(outgoingMetadata({}), {});
  assertEquals(toGrpcMetadata({ a: "1" }).get("a"), ["1"]);
});
