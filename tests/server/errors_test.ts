/**
 * The error model: details on the wire, wrapping, the boundary mapping.
 *
 * @module
 */
import { assertEquals } from "../helpers/assert.ts";
import {
  Code,
  decodeStatusDetails,
  GrpcError,
  toGrpcError,
  wrapError,
} from "../../src/server/errors.ts";
import { GitCommandError } from "../../src/git/command.ts";
import { InvalidRevisionError } from "../../src/git/revision.ts";

Deno.test("errors: details travel in grpc-status-details-bin as google.rpc.Status", () => {
  const error = new GrpcError(Code.NOT_FOUND, "tag does not exist").withDetail(
    "gitaly.FindTagError",
    { tag_not_found: { reference_name: new TextEncoder().encode("refs/tags/v1") } },
  );
  const { code, details, metadata } = error.toServiceError();
  assertEquals([code, details], [Code.NOT_FOUND, "tag does not exist"]);
  const [bin] = metadata.get("grpc-status-details-bin") as Uint8Array[];
  const status = decodeStatusDetails(bin);
  assertEquals(status.code, Code.NOT_FOUND);
  assertEquals(status.message, "tag does not exist");
  assertEquals(status.details.length, 1);
  assertEquals(status.details[0].type, "gitaly.FindTagError");
  const ref = (status.details[0].value.tag_not_found as { reference_name: number[] })
    .reference_name;
  assertEquals(new TextDecoder().decode(new Uint8Array(ref)), "refs/tags/v1");
});

Deno.test("errors: no details, no trailer", () => {
  const { metadata } = new GrpcError(Code.INTERNAL, "x").toServiceError();
  assertEquals(metadata.get("grpc-status-details-bin"), []);
});

Deno.test("errors: a detail that cannot be encoded ends the call as Internal", () => {
  const error = new GrpcError(Code.PERMISSION_DENIED, "denied").withDetail(
    "gitaly.NoSuchError",
    {},
  );
  const { code, details, metadata } = error.toServiceError();
  assertEquals(code, Code.INTERNAL);
  assertEquals(details.startsWith("error details: "), true);
  assertEquals(metadata.get("grpc-status-details-bin"), []);
});

Deno.test("errors: wrapping keeps code, details and cause", () => {
  const inner = new GrpcError(Code.NOT_FOUND, "no").withDetail("gitaly.FindTagError", {});
  const outer = wrapError("finding tag", inner);
  assertEquals([outer.code, outer.message, outer.details.length], [
    Code.NOT_FOUND,
    "finding tag: no",
    1,
  ]);
  assertEquals(outer.cause, inner);
  const plain = wrapError("reading", new Error("disk on fire"));
  assertEquals([plain.code, plain.message], [Code.INTERNAL, "reading: disk on fire"]);
});

Deno.test("errors: the boundary maps lower layers' errors once", () => {
  const git = new GitCommandError(["rev-parse", "x"], 128, "fatal: bad revision 'x'\n");
  const mapped = toGrpcError(git)!;
  assertEquals(mapped.code, Code.INTERNAL);
  assertEquals(mapped.message, "git rev-parse failed with exit code 128: fatal: bad revision 'x'");
  assertEquals(mapped.fields["git.exit_code"], "128");
  // Advice after the fatal line does not hide it.
  const locked = new GitCommandError(
    ["repack"],
    128,
    "fatal: Unable to create 'x/multi-pack-index.lock': File exists.\n\n" +
      "Another git process seems to be running in this repository.\n" +
      "remove the file manually to continue.\n",
  );
  assertEquals(
    locked.message,
    "git repack failed with exit code 128: fatal: Unable to create 'x/multi-pack-index.lock': File exists.",
  );
  assertEquals(
    toGrpcError(new InvalidRevisionError("empty revision"))!.code,
    Code.INVALID_ARGUMENT,
  );
  assertEquals(toGrpcError(undefined), undefined);
});
