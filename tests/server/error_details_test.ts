/**
 * A handler's error whose details cannot be encoded still ends the call
 * with its code and message (without the details), instead of leaving the
 * client waiting for its deadline.
 */
import { Buffer } from "node:buffer";
import { assertEquals } from "../helpers/assert.ts";
import { Code, GrpcError } from "../../src/server/errors.ts";
import { unary } from "../../src/server/rpc.ts";
import { callError, startHarness, TestCaller } from "../backchannel/harness.ts";

Deno.test("errors: details that do not encode are dropped, the status is sent", async () => {
  const refuse = unary<Buffer, Buffer>(() =>
    Promise.reject(
      new GrpcError(Code.FAILED_PRECONDITION, "conflicts")
        .withDetail("gitaly.NoSuchErrorType", { files: ["a"] }),
    )
  );
  const harness = await startHarness({ handlers: { Call: refuse } });
  const caller = new TestCaller(harness.unixAddress);
  try {
    const error = await callError(caller.call("Call", ""));
    assertEquals([error.code, error.details], [Code.FAILED_PRECONDITION, "conflicts"]);
    assertEquals(error.metadata.get("grpc-status-details-bin"), []);
  } finally {
    caller.close();
    await harness.close();
  }
});
